"""Tests for the transient-fault retry policy: what is retried, how long it waits, when it stops."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Awaitable, Callable

import httpx2
import openai
import pytest

from extractor.retry import RetryLog, is_transient, retry_after_seconds, transient_retrying
from extractor.settings import Settings
from extractor.transport import current_deadline

URL = "http://x/v1/chat/completions"


def request() -> httpx2.Request:
    return httpx2.Request("POST", URL)


def status_error(
    status: int,
    headers: dict[str, str] | None = None,
    cls: type[openai.APIStatusError] = openai.APIStatusError,
) -> openai.APIStatusError:
    response = httpx2.Response(status, headers=headers or {}, request=request())
    return cls(f"HTTP {status}", response=response, body=None)


def rate_limited(retry_after: str | None = None) -> openai.RateLimitError:
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    error = status_error(429, headers, openai.RateLimitError)
    assert isinstance(error, openai.RateLimitError)
    return error


@pytest.fixture
def settings() -> Settings:
    return Settings(max_transient_retries=2, backoff_initial=0.5, backoff_max=4, retry_after_max=3)


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every wait instead of sleeping (sync and async)."""
    waits: list[float] = []

    async def asleep(seconds: float) -> None:
        waits.append(seconds)

    def real_sleep_forbidden(seconds: float) -> None:
        raise AssertionError("time.sleep called")

    monkeypatch.setattr("extractor.retry.sleep", waits.append)
    monkeypatch.setattr("extractor.retry.asleep", asleep)
    monkeypatch.setattr("extractor.retry.time.sleep", real_sleep_forbidden)
    return waits


def failing(errors: list[BaseException], result: str = "ok") -> tuple[Callable[[], str], list[int]]:
    """A function raising each of `errors` in turn, then returning `result`; and its call count."""
    calls = [0]

    def call() -> str:
        calls[0] += 1
        if calls[0] <= len(errors):
            raise errors[calls[0] - 1]
        return result

    return call, calls


# is_transient


@pytest.mark.parametrize(
    "error",
    [
        status_error(429, cls=openai.RateLimitError),
        status_error(500, cls=openai.InternalServerError),
        status_error(502, cls=openai.InternalServerError),
        status_error(503),
        status_error(504),
        status_error(529),
        status_error(408),
        status_error(409, cls=openai.ConflictError),
        openai.APIConnectionError(request=request()),
        openai.APITimeoutError(request()),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "status_code", "")),
)
def test_transient_faults(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        status_error(400, cls=openai.BadRequestError),
        status_error(401, cls=openai.AuthenticationError),
        status_error(403, cls=openai.PermissionDeniedError),
        status_error(404, cls=openai.NotFoundError),
        status_error(422, cls=openai.UnprocessableEntityError),
        ValueError("not an API error"),
        TimeoutError("a builtin timeout is not an openai one"),
    ],
    ids=lambda e: type(e).__name__ + str(getattr(e, "status_code", "")),
)
def test_permanent_faults(error: BaseException) -> None:
    assert not is_transient(error)


# retry_after_seconds


def test_retry_after_in_seconds() -> None:
    assert retry_after_seconds(rate_limited("2")) == 2.0
    assert retry_after_seconds(rate_limited("0.25")) == 0.25


def test_retry_after_in_milliseconds() -> None:
    assert retry_after_seconds(status_error(429, {"retry-after-ms": "1500"})) == 1.5


def test_retry_after_ms_wins_over_retry_after() -> None:
    error = status_error(429, {"retry-after-ms": "1500", "retry-after": "9"})
    assert retry_after_seconds(error) == 1.5


def test_garbage_retry_after_ms_falls_back_to_retry_after() -> None:
    error = status_error(429, {"retry-after-ms": "soon", "retry-after": "9"})
    assert retry_after_seconds(error) == 9.0


def test_retry_after_as_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = retry_after_seconds(rate_limited(when))
    assert seconds is not None
    assert 27.0 <= seconds <= 30.5


def test_invalid_retry_after_is_ignored() -> None:
    """A negative value or a past date used to mean 'retry now': requests back to back."""
    assert retry_after_seconds(rate_limited("Wed, 21 Oct 2015 07:28:00 GMT")) is None
    assert retry_after_seconds(rate_limited("-5")) is None
    assert retry_after_seconds(status_error(429, {"retry-after-ms": "-1"})) is None
    error = status_error(429, {"retry-after-ms": "-1", "retry-after": "2"})
    assert retry_after_seconds(error) == 2.0


def test_zero_retry_after_is_valid() -> None:
    assert retry_after_seconds(rate_limited("0")) == 0.0


def test_retry_after_absent() -> None:
    assert retry_after_seconds(rate_limited()) is None
    assert retry_after_seconds(rate_limited("")) is None
    assert retry_after_seconds(openai.APIConnectionError(request=request())) is None
    assert retry_after_seconds(ValueError("no response")) is None


def test_retry_after_garbage_is_ignored() -> None:
    assert retry_after_seconds(rate_limited("soon")) is None


def test_retry_after_nan_is_ignored() -> None:
    assert retry_after_seconds(rate_limited("nan")) is None


# transient_retrying, sync


def test_retry_after_is_honoured_up_to_the_cap(settings: Settings, slept: list[float]) -> None:
    log = RetryLog()
    call, calls = failing([rate_limited("10"), rate_limited("10")])

    assert transient_retrying(settings, log, is_async=False)(call) == "ok"

    assert calls[0] == 3
    assert log.waits == [3.0, 3.0]
    assert slept == [3.0, 3.0]
    assert log.reasons == ["HTTP 429", "HTTP 429"]


def test_short_retry_after_is_used_as_is(settings: Settings, slept: list[float]) -> None:
    log = RetryLog()
    call, _ = failing([status_error(503, {"retry-after-ms": "1500"})])
    assert transient_retrying(settings, log, is_async=False)(call) == "ok"
    assert log.waits == [1.5]


def test_server_error_backs_off_exponentially_with_jitter(
    settings: Settings, slept: list[float]
) -> None:
    firsts = []
    for _ in range(20):  # jitter is random: check the bounds on several runs
        log = RetryLog()
        call, _ = failing([status_error(500, cls=openai.InternalServerError)] * 2)
        assert transient_retrying(settings, log, is_async=False)(call) == "ok"
        first, second = log.waits
        assert 0.5 <= first <= 1.0
        assert 1.0 <= second <= 1.5
        assert log.reasons == ["HTTP 500", "HTTP 500"]
        firsts.append(first)
    assert len(slept) == 40
    assert len(set(firsts)) > 1  # there is jitter


def test_backoff_is_capped_by_backoff_max(slept: list[float]) -> None:
    settings = Settings(max_transient_retries=6, backoff_initial=1, backoff_max=4)
    log = RetryLog()
    call, _ = failing([openai.APIConnectionError(request=request())] * 6)
    assert transient_retrying(settings, log, is_async=False)(call) == "ok"
    # The exponential part stops at backoff_max; jitter (up to backoff_initial) stays on top,
    # so clients that reached the cap do not all retry at the same instant.
    assert max(log.waits) <= 4.0 + 1.0
    assert all(4.0 <= w <= 5.0 for w in log.waits[2:])
    assert log.reasons[0] == "APIConnectionError"


def test_the_attempt_loop_form_used_by_inference(settings: Settings, slept: list[float]) -> None:
    log = RetryLog()
    call, calls = failing([openai.APITimeoutError(request())])
    result = None
    for attempt in transient_retrying(settings, log, is_async=False):
        with attempt:
            result = call()
    assert (result, calls[0]) == ("ok", 2)
    assert log.reasons == ["APITimeoutError"]


def test_exhausted_retries_reraise_the_last_error(settings: Settings, slept: list[float]) -> None:
    errors = [status_error(503) for _ in range(5)]
    log = RetryLog()
    call, calls = failing(errors)

    with pytest.raises(openai.APIStatusError) as excinfo:
        transient_retrying(settings, log, is_async=False)(call)

    assert calls[0] == settings.max_transient_retries + 1
    assert excinfo.value is errors[2]
    assert len(log.waits) == settings.max_transient_retries


def test_permanent_error_is_not_retried(settings: Settings, slept: list[float]) -> None:
    error = status_error(401, cls=openai.AuthenticationError)
    log = RetryLog()
    call, calls = failing([error])
    with pytest.raises(openai.AuthenticationError) as excinfo:
        transient_retrying(settings, log, is_async=False)(call)
    assert excinfo.value is error
    assert calls[0] == 1
    assert log.waits == []
    assert slept == []


def test_no_retries_when_max_transient_retries_is_zero(slept: list[float]) -> None:
    log = RetryLog()
    call, calls = failing([rate_limited("1")])
    with pytest.raises(openai.RateLimitError):
        transient_retrying(Settings(max_transient_retries=0), log, is_async=False)(call)
    assert calls[0] == 1
    assert slept == []


def test_garbage_retry_after_falls_back_to_backoff(settings: Settings, slept: list[float]) -> None:
    log = RetryLog()
    call, _ = failing([rate_limited("soon")])
    assert transient_retrying(settings, log, is_async=False)(call) == "ok"
    assert 0.5 <= log.waits[0] <= 1.0


# transient_retrying, async


def async_failing(errors: list[BaseException]) -> tuple[Callable[[], Awaitable[str]], list[int]]:
    calls = [0]

    async def call() -> str:
        calls[0] += 1
        if calls[0] <= len(errors):
            raise errors[calls[0] - 1]
        return "ok"

    return call, calls


async def test_async_retry_after_is_capped(settings: Settings, slept: list[float]) -> None:
    log = RetryLog()
    call, calls = async_failing([rate_limited("10"), rate_limited("10")])

    assert await transient_retrying(settings, log, is_async=True)(call) == "ok"

    assert calls[0] == 3
    assert log.waits == [3.0, 3.0]
    assert slept == [3.0, 3.0]


async def test_async_backoff_without_retry_after(settings: Settings, slept: list[float]) -> None:
    log = RetryLog()
    call, _ = async_failing([status_error(500, cls=openai.InternalServerError)] * 2)
    assert await transient_retrying(settings, log, is_async=True)(call) == "ok"
    first, second = log.waits
    assert 0.5 <= first <= 1.0
    assert 1.0 <= second <= 1.5
    assert slept == log.waits


async def test_async_attempt_loop_form(settings: Settings, slept: list[float]) -> None:
    log = RetryLog()
    call, calls = async_failing([openai.APIConnectionError(request=request())])
    result = None
    async for attempt in transient_retrying(settings, log, is_async=True):
        with attempt:
            result = await call()
    assert (result, calls[0]) == ("ok", 2)


async def test_async_exhausted_retries_reraise_the_last_error(
    settings: Settings, slept: list[float]
) -> None:
    errors = [status_error(429, {"retry-after": "1"}, openai.RateLimitError) for _ in range(5)]
    log = RetryLog()
    call, calls = async_failing(errors)

    with pytest.raises(openai.RateLimitError) as excinfo:
        await transient_retrying(settings, log, is_async=True)(call)

    assert excinfo.value is errors[2]
    assert calls[0] == settings.max_transient_retries + 1
    assert slept == [1.0, 1.0]


async def test_async_permanent_error_is_not_retried(settings: Settings, slept: list[float]) -> None:
    call, calls = async_failing([status_error(404, cls=openai.NotFoundError)])
    with pytest.raises(openai.NotFoundError):
        await transient_retrying(settings, RetryLog(), is_async=True)(call)
    assert calls[0] == 1
    assert slept == []


# Permanent refusals dressed as 500 (llama-cpp-python and json_schema)

# The body llama-cpp-python's server sent, as recorded in
# tests/cassettes/test_local_server/test_json_schema_mode_refused_by_this_server.yaml.
LLAMA_CPP_JSON_SCHEMA_500 = {
    "error": {
        "message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', "
        "'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\", "
        "'input': 'json_schema', 'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  "
        'File "/root/.cache/extractor-local-llm/venv/lib/python3.11/site-packages/llama_cpp/'
        'server/app.py", line 376, in create_chat_completion\n    POST /v1/chat/completions',
        "type": "internal_server_error",
        "param": None,
        "code": None,
    }
}


def error_with_body(status: int, body: object) -> openai.APIStatusError:
    response = httpx2.Response(status, json=body, request=request())
    return openai.InternalServerError(f"HTTP {status}", response=response, body=body)


@pytest.mark.parametrize(
    "body",
    [
        LLAMA_CPP_JSON_SCHEMA_500,
        {"error": {"message": "response_format is not supported", "type": "invalid_request_error"}},
        {"detail": [{"type": "missing", "loc": ["body", "messages"], "msg": "Field required"}]},
    ],
    ids=["llama-cpp-python", "invalid_request_error", "fastapi-detail"],
)
def test_a_500_refusing_the_request_is_permanent(body: object) -> None:
    assert not is_transient(error_with_body(500, body))


def test_an_ordinary_500_is_transient() -> None:
    body = {"error": {"message": "The server had an error while processing your request."}}
    assert is_transient(error_with_body(500, body))


def test_a_refusing_500_is_not_retried(settings: Settings, slept: list[float]) -> None:
    log = RetryLog()
    call, calls = failing([error_with_body(500, LLAMA_CPP_JSON_SCHEMA_500)])
    with pytest.raises(openai.InternalServerError):
        transient_retrying(settings, log, is_async=False)(call)
    assert calls[0] == 1 and slept == []


# Timeouts against a server on this machine


def timed_out(cause: Exception | None = None) -> openai.APITimeoutError:
    error = openai.APITimeoutError(request())
    error.__cause__ = cause or httpx2.ReadTimeout("timed out")
    return error


@pytest.mark.parametrize(
    "base_url",
    ["http://127.0.0.1:8765/v1", "http://localhost:8080/v1", "http://[::1]:8080/v1"],
)
def test_a_timeout_on_loopback_is_retried_once(base_url: str, slept: list[float]) -> None:
    """A local server still generates the abandoned reply: each retry queues behind it."""
    settings = Settings(base_url=base_url, max_transient_retries=4)
    log = RetryLog()
    call, calls = failing([timed_out() for _ in range(5)])
    with pytest.raises(openai.APITimeoutError):
        transient_retrying(settings, log, is_async=False)(call)
    assert calls[0] == 2 and len(slept) == 1


def test_timeout_retries_elsewhere_and_when_set(slept: list[float]) -> None:
    remote = Settings(base_url="https://api.example.com/v1", max_transient_retries=3)
    call, calls = failing([timed_out() for _ in range(3)])
    assert transient_retrying(remote, RetryLog(), is_async=False)(call) == "ok"
    assert calls[0] == 4
    chosen = Settings(base_url="http://127.0.0.1:8765/v1", max_timeout_retries=0)
    call, calls = failing([timed_out()])
    with pytest.raises(openai.APITimeoutError):
        transient_retrying(chosen, RetryLog(), is_async=False)(call)
    assert calls[0] == 1


def test_a_connect_timeout_on_loopback_keeps_every_retry(slept: list[float]) -> None:
    """The request never reached the server: nothing is queued behind it."""
    settings = Settings(base_url="http://127.0.0.1:8765/v1", max_transient_retries=3)
    call, calls = failing([timed_out(httpx2.ConnectTimeout("connect")) for _ in range(3)])
    assert transient_retrying(settings, RetryLog(), is_async=False)(call) == "ok"
    assert calls[0] == 4


def test_timeouts_are_counted_per_request(slept: list[float]) -> None:
    settings = Settings(base_url="http://127.0.0.1:8765/v1")
    log = RetryLog()
    for _ in range(2):  # the first request and a re-ask: each may retry one timeout
        log.start_request()
        call, calls = failing([timed_out()])
        assert transient_retrying(settings, log, is_async=False)(call) == "ok"
        assert calls[0] == 2


# The deadline of a whole call


def test_no_retry_that_would_wait_past_the_deadline(slept: list[float]) -> None:
    settings = Settings(deadline=10, backoff_initial=1, backoff_max=4)
    log = RetryLog()
    log.started -= 9.5  # 9.5 s of the call are spent; every backoff is at least 1 s
    call, calls = failing([status_error(503)])
    with pytest.raises(openai.APIStatusError):
        transient_retrying(settings, log, is_async=False)(call)
    assert calls[0] == 1 and slept == []


def test_each_attempt_runs_with_the_call_deadline_in_scope(slept: list[float]) -> None:
    settings = Settings(deadline=30)
    log = RetryLog()
    seen: list[float | None] = []

    def call() -> str:
        seen.append(current_deadline())
        if len(seen) == 1:
            raise status_error(503)
        return "ok"

    for attempt in transient_retrying(settings, log, is_async=False):
        with attempt:
            call()
    assert seen == [log.started + 30, log.started + 30]
    assert current_deadline() is None
    assert transient_retrying(settings, log, is_async=False)(call) == "ok"
    assert seen[-1] == log.started + 30 and current_deadline() is None


async def test_async_attempts_run_with_the_call_deadline_in_scope(slept: list[float]) -> None:
    settings = Settings(deadline=30)
    log = RetryLog()
    seen: list[float | None] = []

    async def call() -> str:
        seen.append(current_deadline())
        return "ok"

    async for attempt in transient_retrying(settings, log, is_async=True):
        with attempt:
            await call()
    assert await transient_retrying(settings, log, is_async=True)(call) == "ok"
    assert seen == [log.started + 30] * 2 and current_deadline() is None
