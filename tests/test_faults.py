"""The fault matrix (docs/faults.md): each fault a server can throw, on the sync and async paths.

A real HTTP server on 127.0.0.1 (tests/scripted_server.py) answers with HAND-WRITTEN replies and
faults: nothing here is a model. Each test asserts whether the request was retried, how many
requests were made, the waits asked for (the autouse ``no_sleep`` fixture records them instead of
sleeping), the usage counted and the error type.
"""

from __future__ import annotations

import asyncio
import json
import socket
import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import pytest

from extractor import (
    ArticleExtraction,
    AuthenticationError,
    BadResponseError,
    ConnectionFailedError,
    ExtractionError,
    Extractor,
    IncompleteOutputError,
    ModelNotFoundError,
    ModelRefusalError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
)

from handwritten import replies
from scripted_server import Reply, ScriptedServer, completion, error_body

TEXT = (
    'Kremlin spokesman Dmitry Peskov said Moscow held a "negative attitude" toward the plan, '
    'adding it was "one of the root causes" of the war.'
)
GOOD = {"quotes": [replies.QUOTES[0]]}
KEY = "sk-test-faults-0123456789abcdef"

Run = Callable[[Extractor], ArticleExtraction]


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Run:
    """Extract TEXT with the sync or the async path."""

    def call(extractor: Extractor) -> ArticleExtraction:
        if request.param == "sync":
            return extractor.extract(TEXT, published="2025-08-27")
        return asyncio.run(extractor.aextract(TEXT, published="2025-08-27"))

    return call


def make(base_url: str, **options: Any) -> Extractor:
    """An extractor with small, known retry settings."""
    settings: dict[str, Any] = {
        "max_transient_retries": 2,
        "max_reasks": 1,
        "backoff_initial": 0.5,
        "backoff_max": 4.0,
        "retry_after_max": 5.0,
        "timeout": 5.0,
        **options,
    }
    return Extractor("gpt-4o-mini", base_url=base_url, api_key=KEY, **settings)


def ok(prompt_tokens: int = 100, completion_tokens: int = 20) -> Reply:
    return Reply(completion(GOOD, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens))


def rate_limited(**headers: str) -> Reply:
    return Reply(error_body("Rate limit reached", "rate_limit_error"), status=429, headers=headers)


# Transient faults: retried with backoff, then success or our error.


def test_429_with_retry_after_is_honoured(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([rate_limited(**{"retry-after": "2"}), ok()])
    result = run(make(server.base_url))
    assert no_sleep == [2.0]
    assert len(server.requests) == 2
    assert result.usage.requests == 1 and result.usage.total_tokens == 120


def test_429_retry_after_is_capped(server: ScriptedServer, run: Run, no_sleep: list[float]) -> None:
    server.replies.extend([rate_limited(**{"retry-after": "3600"}), ok()])
    run(make(server.base_url))
    assert no_sleep == [5.0]  # retry_after_max


def test_429_without_retry_after_backs_off_then_gives_up(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([rate_limited() for _ in range(3)])
    with pytest.raises(RateLimitError) as caught:
        run(make(server.base_url))
    assert caught.value.status == 429 and caught.value.attempts == 3
    assert len(server.requests) == 3
    assert len(no_sleep) == 2
    assert 0.5 <= no_sleep[0] <= 1.0 and 1.0 <= no_sleep[1] <= 1.5  # exponential, with jitter
    assert caught.value.usage is not None and caught.value.usage.requests == 0


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_then_succeeds(
    server: ScriptedServer, run: Run, no_sleep: list[float], status: int
) -> None:
    server.replies.extend([Reply(error_body("upstream trouble"), status=status), ok()])
    result = run(make(server.base_url))
    assert len(server.requests) == 2 and len(no_sleep) == 1
    assert [q.text for q in result.quotes if q.confirmed] == ["negative attitude"]


def test_5xx_every_time_is_a_server_error(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([Reply(error_body("down"), status=503) for _ in range(3)])
    with pytest.raises(ServerError) as caught:
        run(make(server.base_url))
    assert caught.value.status == 503 and caught.value.attempts == 3
    assert len(no_sleep) == 2
    assert "HTTP 503" in str(caught.value) and "down" in str(caught.value)


def test_connection_refused(run: Run, no_sleep: list[float]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionFailedError) as caught:
        run(make(f"http://127.0.0.1:{port}/v1"))
    assert caught.value.attempts == 3 and len(no_sleep) == 2
    assert f"127.0.0.1:{port}" in str(caught.value)


def test_connection_reset_is_retried(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([Reply(drop=True), ok()])
    result = run(make(server.base_url))
    assert len(server.requests) == 2 and len(no_sleep) == 1
    assert result.quotes


def test_reply_cut_mid_body_is_retried(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([Reply(completion(GOOD), cut_after=60), ok()])
    result = run(make(server.base_url))
    assert len(server.requests) == 2 and len(no_sleep) == 1
    assert result.usage.requests == 1  # the cut reply never reached the parser


def test_read_timeout_is_retried_then_reported(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([Reply(completion(GOOD), delay=0.6) for _ in range(2)])
    with pytest.raises(ConnectionFailedError) as caught:
        run(make(server.base_url, timeout=0.2, max_transient_retries=1))
    assert "timed out" in str(caught.value) and caught.value.attempts == 2
    assert len(no_sleep) == 1


# Replies that arrive but are unusable: not retried as transient.


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b"<html><body>Welcome to nginx!</body></html>", "text/html", "not a chat completion"),
        (b"{this is not json", "application/json", "not JSON"),
    ],
)
def test_200_that_is_not_a_completion(
    server: ScriptedServer,
    run: Run,
    no_sleep: list[float],
    body: bytes,
    content_type: str,
    expected: str,
) -> None:
    server.replies.append(Reply(body, headers={"content-type": content_type}))
    with pytest.raises(BadResponseError) as caught:
        run(make(server.base_url))
    assert expected in str(caught.value) and "base_url" in str(caught.value)
    assert len(server.requests) == 1 and no_sleep == []


def test_empty_choices(server: ScriptedServer, run: Run, no_sleep: list[float]) -> None:
    body = completion(GOOD, prompt_tokens=50, completion_tokens=0)
    body["choices"] = []
    server.replies.append(Reply(body))
    with pytest.raises(BadResponseError, match="no choices") as caught:
        run(make(server.base_url))
    assert len(server.requests) == 1 and no_sleep == []
    assert caught.value.usage is not None and caught.value.usage.prompt_tokens == 50


def test_refusal_is_not_retried(server: ScriptedServer, run: Run, no_sleep: list[float]) -> None:
    body = completion(GOOD, prompt_tokens=80, completion_tokens=7, finish_reason="stop")
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "refusal": "I can't help with that request.",
    }
    server.replies.append(Reply(body))
    with pytest.raises(ModelRefusalError, match="can't help") as caught:
        run(make(server.base_url))
    assert len(server.requests) == 1 and no_sleep == []
    assert caught.value.usage is not None and caught.value.usage.total_tokens == 87


def test_content_filter_is_a_refusal(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    body = completion(GOOD, prompt_tokens=60, completion_tokens=0, finish_reason="content_filter")
    body["choices"][0]["message"] = {"role": "assistant", "content": None}
    server.replies.append(Reply(body))
    with pytest.raises(ModelRefusalError, match="content filter") as caught:
        run(make(server.base_url))
    assert len(server.requests) == 1 and no_sleep == []
    assert caught.value.usage is not None and caught.value.usage.prompt_tokens == 60


def test_truncated_at_max_tokens(server: ScriptedServer, run: Run, no_sleep: list[float]) -> None:
    server.replies.append(
        Reply(
            completion(
                '{"quotes": [{"text": "neg',
                finish_reason="length",
                prompt_tokens=90,
                completion_tokens=256,
            )
        )
    )
    with pytest.raises(IncompleteOutputError) as caught:
        run(make(server.base_url, max_tokens=256))
    message = str(caught.value)
    assert "max_tokens=256" in message and "chunks" in message
    assert len(server.requests) == 1 and no_sleep == []
    assert caught.value.usage is not None and caught.value.usage.completion_tokens == 256


# Replies that do not validate: re-asked at once (no wait), then success or ExtractionError.


def test_malformed_tool_arguments_are_reasked(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend(
        [
            Reply(completion('{"quotes": [{"text": "neg', prompt_tokens=100, completion_tokens=9)),
            ok(prompt_tokens=140, completion_tokens=20),
        ]
    )
    result = run(make(server.base_url))
    assert no_sleep == [] and len(server.requests) == 2
    assert result.usage.requests == 2 and result.usage.total_tokens == 100 + 9 + 140 + 20
    reask = server.requests[1]["messages"]
    assert any("Invalid JSON" in str(m.get("content")) for m in reask)


def test_reply_to_the_wrong_tool(server: ScriptedServer, run: Run, no_sleep: list[float]) -> None:
    server.replies.extend(
        [Reply(completion({"city": "Paris"}, name="get_weather")) for _ in range(2)]
    )
    with pytest.raises(ExtractionError) as caught:
        run(make(server.base_url))
    assert len(caught.value.attempts) == 2 and no_sleep == []
    assert any("city" in line for line in caught.value.last_errors)
    assert caught.value.raw_reply == '{"city": "Paris"}'


def test_valid_but_never_grounded(server: ScriptedServer, run: Run, no_sleep: list[float]) -> None:
    invented = {"quotes": [replies.QUOTES[0], replies.INVENTED_QUOTE]}
    server.replies.extend(
        [Reply(completion(invented, prompt_tokens=100, completion_tokens=30)) for _ in range(2)]
    )
    with pytest.raises(ExtractionError) as caught:
        run(make(server.base_url))
    error = caught.value
    assert len(error.attempts) == 2 and no_sleep == []
    assert "quotes[1].text" in error.last_errors[0]
    assert error.usage is not None and error.usage.total_tokens == 260
    assert isinstance(error.partial, ArticleExtraction)
    assert [q.text for q in error.partial.quotes] == ["negative attitude"]
    # The re-ask told the model which value was not in the article.
    assert "single soldier" in str(server.requests[1]["messages"][-1])


# Configuration faults: fail at once, one clear line, no retries.


def test_wrong_api_key(server: ScriptedServer, run: Run, no_sleep: list[float]) -> None:
    server.replies.append(
        Reply(error_body("Incorrect API key provided", "invalid_request_error"), status=401)
    )
    with pytest.raises(AuthenticationError) as caught:
        run(make(server.base_url))
    assert len(server.requests) == 1 and no_sleep == []
    assert caught.value.status == 401 and "\n" not in str(caught.value)
    assert KEY not in str(caught.value)


def test_context_overflow_says_to_split(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    body = error_body(
        "This model's maximum context length is 8192 tokens. However, your messages resulted "
        "in 9000 tokens.",
        "invalid_request_error",
    )
    body["error"]["code"] = "context_length_exceeded"
    server.replies.append(Reply(body, status=400))
    with pytest.raises(RequestRejectedError, match="too long for this model's context"):
        run(make(server.base_url))
    assert len(server.requests) == 1 and no_sleep == []


def test_unknown_model(server: ScriptedServer, run: Run, no_sleep: list[float]) -> None:
    server.replies.append(
        Reply(
            error_body("The model `gpt-4o-mini` does not exist", "invalid_request_error"),
            status=404,
        )
    )
    with pytest.raises(ModelNotFoundError) as caught:
        run(make(server.base_url))
    assert len(server.requests) == 1 and no_sleep == []
    assert "unknown model 'gpt-4o-mini'" in str(caught.value) and "\n" not in str(caught.value)


# Faults in combination, and details that matter to a caller.


def test_api_error_after_a_reask_keeps_grounded_records_and_counts_its_own_attempts(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    invented = {"quotes": [replies.QUOTES[0], replies.INVENTED_QUOTE]}
    server.replies.extend(
        [Reply(completion(invented, prompt_tokens=100, completion_tokens=30))]
        + [rate_limited() for _ in range(3)]
    )
    with pytest.raises(RateLimitError) as caught:
        run(make(server.base_url))
    assert caught.value.attempts == 3  # the re-ask's own tries, not every request of the call
    assert len(server.requests) == 4
    assert caught.value.usage is not None and caught.value.usage.total_tokens == 130
    partial = caught.value.partial
    assert isinstance(partial, ArticleExtraction)
    assert [q.text for q in partial.quotes] == ["negative attitude"]


def test_empty_refusal_field_is_not_a_refusal(server: ScriptedServer, run: Run) -> None:
    body = completion(GOOD)
    body["choices"][0]["message"]["refusal"] = ""
    server.replies.append(Reply(body))
    assert run(make(server.base_url)).quotes[0].text == "negative attitude"


def test_408_every_time_is_a_server_error(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([Reply(error_body("timeout"), status=408) for _ in range(3)])
    with pytest.raises(ServerError) as caught:
        run(make(server.base_url))
    assert caught.value.status == 408 and caught.value.attempts == 3 and len(no_sleep) == 2


def test_credentials_in_base_url_never_reach_a_message(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    host = server.base_url.removeprefix("http://")
    server.replies.extend([Reply(error_body("down"), status=503) for _ in range(3)])
    with pytest.raises(ServerError) as caught:
        run(make(f"http://alice:s3cret-pass@{host}"))
    assert "s3cret-pass" not in str(caught.value) and host in str(caught.value)


# Slow, huge and self-contradicting replies (issue 7).


def test_body_trickle_is_timed_out_as_a_whole(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    """One body byte every 50 ms: each read is quick, the request is not; timeout bounds it all."""
    server.replies.append(Reply(completion(GOOD), trickle=0.05))
    with pytest.raises(ConnectionFailedError) as caught:
        run(make(server.base_url, timeout=0.5, max_transient_retries=0))
    assert "timed out (timeout 0.5s)" in str(caught.value) and caught.value.attempts == 1
    assert len(server.requests) == 1 and no_sleep == []


def test_header_trickle_is_timed_out_as_a_whole(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.append(Reply(completion(GOOD), trickle_headers=0.05))
    with pytest.raises(ConnectionFailedError) as caught:
        run(make(server.base_url, timeout=0.5, max_transient_retries=0))
    assert "timed out" in str(caught.value) and len(server.requests) == 1


def test_deadline_bounds_the_whole_call(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([Reply(completion(GOOD), trickle=0.05) for _ in range(3)])
    with pytest.raises(ConnectionFailedError, match="timed out"):
        run(make(server.base_url, timeout=60, deadline=0.5))
    assert len(server.requests) == 1 and no_sleep == []  # no retry is left time to run


def test_no_retry_waits_past_the_deadline(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.extend([Reply(error_body("busy"), status=503, headers={"retry-after": "5"})])
    with pytest.raises(ServerError) as caught:
        run(make(server.base_url, deadline=2))
    assert caught.value.attempts == 1 and len(server.requests) == 1 and no_sleep == []


def test_a_timeout_on_loopback_is_retried_only_once(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    """A local server goes on generating the abandoned reply; more retries would queue behind it."""
    server.replies.extend([Reply(completion(GOOD), delay=0.6) for _ in range(5)])
    with pytest.raises(ConnectionFailedError) as caught:
        run(make(server.base_url, timeout=0.2, max_transient_retries=4))
    assert caught.value.attempts == 2 and len(server.requests) == 2 and len(no_sleep) == 1


def bomb(inflated: int) -> bytes:
    """A valid completion padded with `inflated` bytes of JSON white space, gzipped (~1000:1)."""
    text = json.dumps(completion(GOOD)).encode()
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    parts = [compressor.compress(text[:-1])]
    block = b" " * (1 << 20)
    parts += [compressor.compress(block) for _ in range(inflated >> 20)]
    return b"".join([*parts, compressor.compress(text[-1:]), compressor.flush()])


def test_gzip_bomb_is_refused_early(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    """64 KiB of gzip inflating to 64 MiB: refused past max_reply_bytes, never inflated whole."""
    body = bomb(64 << 20)
    assert len(body) < 128 << 10
    server.replies.append(Reply(body, headers={"content-encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(BadResponseError) as caught:
            run(make(server.base_url, max_reply_bytes=1 << 20))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "max_reply_bytes" in str(caught.value) and caught.value.attempts == 1
    assert len(server.requests) == 1 and no_sleep == []  # not retried
    assert peak < 16 << 20


def test_reply_over_max_reply_bytes_is_refused_by_its_length(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    body = json.dumps(completion(GOOD)).encode()[:-1] + b" " * (200 << 10) + b"}"
    server.replies.append(Reply(body))
    with pytest.raises(BadResponseError, match="max_reply_bytes"):
        run(make(server.base_url, max_reply_bytes=100 << 10))
    assert len(server.requests) == 1 and no_sleep == []


@pytest.mark.parametrize("coding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_replies_are_read(
    server: ScriptedServer, run: Run, no_sleep: list[float], coding: str
) -> None:
    text = json.dumps(completion(GOOD)).encode()
    wbits = {"gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS, "raw-deflate": -15}[coding]
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    body = compressor.compress(text) + compressor.flush()
    header = "gzip" if coding == "gzip" else "deflate"
    server.replies.append(Reply(body, headers={"content-encoding": header}))
    assert run(make(server.base_url)).quotes[0].text == "negative attitude"
    assert server.requests and no_sleep == []


def test_a_coding_not_asked_for_is_refused(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    server.replies.append(Reply(b"\x1b\x00\x00", headers={"content-encoding": "br"}))
    with pytest.raises(BadResponseError, match="'br', which was not asked for"):
        run(make(server.base_url))
    assert len(server.requests) == 1 and no_sleep == []


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "-1"},
        {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"},
        {"retry-after-ms": "-1"},
    ],
    ids=["negative", "past-date", "negative-ms"],
)
def test_invalid_retry_after_falls_back_to_backoff(
    server: ScriptedServer, run: Run, no_sleep: list[float], headers: dict[str, str]
) -> None:
    server.replies.extend([rate_limited(**headers), ok()])
    run(make(server.base_url))
    assert len(no_sleep) == 1 and 0.5 <= no_sleep[0] <= 1.0  # backoff, not "retry now"


# The body llama-cpp-python's server answered to json_schema, as recorded in
# tests/cassettes/test_local_server/test_json_schema_mode_refused_by_this_server.yaml.
LLAMA_CPP_REFUSAL = (
    "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
    "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
    "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"/root/.cache/extractor-"
    'local-llm/venv/lib/python3.11/site-packages/llama_cpp/server/app.py", line 376, in '
    "create_chat_completion\n    POST /v1/chat/completions"
)


def test_a_500_refusing_the_request_is_not_retried(
    server: ScriptedServer, run: Run, no_sleep: list[float]
) -> None:
    body = error_body(LLAMA_CPP_REFUSAL, "internal_server_error")
    server.replies.extend([Reply(body, status=500) for _ in range(3)])
    with pytest.raises(ServerError) as caught:
        run(make(server.base_url, mode="json_schema"))
    assert caught.value.status == 500 and caught.value.attempts == 1
    assert len(server.requests) == 1 and no_sleep == []
    assert "mode json_schema" in str(caught.value)
