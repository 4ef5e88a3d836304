"""Retry policy for transient API faults: 429, 5xx, timeouts and dropped connections.

Validation failures are not retried here: instructor re-asks those at once, counted by
``max_reasks``. Transient faults back off exponentially with jitter, honouring the server's
``Retry-After`` (capped at ``retry_after_max``), up to ``max_transient_retries`` times per request.
A timeout is retried at most ``max_timeout_retries`` times (once, against a server on loopback);
a 500 whose body says the request itself is invalid is not retried; no wait runs past the call's
``deadline``, and every attempt runs with that deadline in force (`extractor.transport`).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import math
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import httpx2
import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from extractor import errors
from extractor.settings import Settings
from extractor.transport import deadline_scope

__all__ = ["RetryLog", "is_transient", "retry_after_seconds", "transient_retrying"]

logger = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def sleep(seconds: float) -> None:
    """Block for `seconds` (a module attribute so tests can replace it)."""
    time.sleep(seconds)


async def asleep(seconds: float) -> None:
    """Wait for `seconds` without blocking the loop (replaceable by tests)."""
    await asyncio.sleep(seconds)


# A 500 that is really a refusal of the request: a request-validation error (FastAPI/pydantic,
# as llama-cpp-python's server sends for json_schema) or an error typed invalid_request_error.
_REFUSAL = re.compile(
    r"validation errors?\b.*\bloc\b.*\bbody\b|\binvalid_request_error\b|"
    r"['\"]loc['\"]: *[\[(] *['\"]body['\"]",
    re.IGNORECASE | re.DOTALL,
)


def is_transient(exc: BaseException) -> bool:
    """Whether a failed request is worth repeating unchanged."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in TRANSIENT_STATUS and not refuses_request(exc)
    return False


def refuses_request(exc: openai.APIStatusError) -> bool:
    """Whether an error reply says the request itself is invalid, so repeating it cannot help."""
    body = exc.body if exc.body is not None else exc.message
    return bool(_REFUSAL.search(str(body)[:4000]))


def is_loopback(base_url: str | None) -> bool:
    """Whether `base_url` names this machine (localhost, 127.0.0.0/8, ::1)."""
    host = urlsplit(base_url).hostname if base_url else None
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def timeout_retries(settings: Settings) -> int:
    """How many times one request is retried after timing out."""
    if settings.max_timeout_retries is not None:
        return min(settings.max_timeout_retries, settings.max_transient_retries)
    if is_loopback(settings.base_url):
        # A local server keeps generating the abandoned reply; a retry queues behind it.
        return min(1, settings.max_transient_retries)
    return settings.max_transient_retries


def _reached_server(exc: BaseException) -> bool:
    """Whether a timed-out request got as far as the server (not a connect or pool timeout)."""
    return not isinstance(exc.__cause__, (httpx2.ConnectTimeout, httpx2.PoolTimeout))


def retry_after_seconds(exc: BaseException) -> float | None:
    """The wait a server asked for in ``Retry-After``/``retry-after-ms``, if it asked."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    seconds = _number(headers.get("retry-after-ms"))
    if seconds is not None:
        return seconds / 1000
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return _valid_seconds(float(value))
    except ValueError:
        pass  # not a number: an HTTP date, or nothing usable
    try:  # an HTTP date
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    left = parsed.timestamp() - time.time()
    return left if left > 0 else None  # a date in the past is not a wait: back off instead


def _number(value: str | None) -> float | None:
    """A finite, non-negative number of seconds, or None (negative values are invalid)."""
    try:
        return _valid_seconds(float(value)) if value else None
    except ValueError:
        return None


def _valid_seconds(number: float) -> float | None:
    """`number` if it is a finite, non-negative number of seconds, else None."""
    return number if math.isfinite(number) and number >= 0 else None


@dataclass
class RetryLog:
    """What the transient retries of one extraction did: each wait and why."""

    waits: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    requests: int = 0  # HTTP requests sent in all
    attempts: int = 0  # tries of the request in flight (1 + its transient retries so far)
    timeouts: int = 0  # tries of the request in flight that timed out at the server
    started: float = field(default_factory=time.monotonic)  # when the call began

    def start_request(self) -> None:
        """A new request begins (the first, or a re-ask): its tries are counted afresh."""
        self.attempts = 0
        self.timeouts = 0

    def sent(self) -> None:
        """One more HTTP request went out."""
        self.requests += 1
        self.attempts += 1

    def record(self, state: RetryCallState) -> None:
        """tenacity ``before_sleep`` hook: remember and log the wait."""
        wait = state.next_action.sleep if state.next_action else 0.0
        exc = state.outcome.exception() if state.outcome else None
        reason = _describe(exc)
        self.waits.append(wait)
        self.reasons.append(reason)
        logger.warning("transient fault (%s); retry %d in %.2fs", reason, len(self.waits), wait)


def _describe(exc: BaseException | None) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    return type(exc).__name__ if exc else "unknown"


def _wait(settings: Settings) -> Callable[[RetryCallState], float]:
    # Exponential up to backoff_max, then jitter on top, so clients at the cap still spread out.
    backoff = wait_exponential(
        multiplier=settings.backoff_initial, max=settings.backoff_max
    ) + wait_random(0, settings.backoff_initial)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after_seconds(exc) if exc else None
        if asked is not None:
            return min(asked, settings.retry_after_max)
        return float(backoff(state))

    return wait


def _should_retry(settings: Settings, log: RetryLog) -> Callable[[RetryCallState], bool]:
    limit = timeout_retries(settings)

    def should_retry(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if exc is None:
            return False
        if isinstance(exc, errors.APIError):  # ours, raised beneath openai: say which try it was
            exc.attempts = log.attempts
        if not is_transient(exc):
            return False
        if isinstance(exc, openai.APITimeoutError) and _reached_server(exc):
            log.timeouts += 1
            return log.timeouts <= limit
        return True

    return should_retry


def _stop(settings: Settings, deadline: float | None) -> Callable[[RetryCallState], bool]:
    tries = stop_after_attempt(settings.max_transient_retries + 1)

    def stop(state: RetryCallState) -> bool:
        if tries(state):
            return True
        # No wait that would end past the call's deadline: give up now, with the last error.
        return deadline is not None and time.monotonic() + (state.upcoming_sleep or 0) >= deadline

    return stop


def transient_retrying(settings: Settings, log: RetryLog, *, is_async: bool) -> Any:
    """A tenacity controller for one request: `Retrying`, or `AsyncRetrying` if `is_async`.

    Iterate it (``for attempt in ...: with attempt: ...``, or ``async for``) or call it with the
    function to retry; either way each attempt runs with the call's ``deadline`` in force.
    """
    deadline = log.started + settings.deadline if settings.deadline is not None else None
    options: dict[str, Any] = {
        "retry": _should_retry(settings, log),
        "stop": _stop(settings, deadline),
        "wait": _wait(settings),
        "before_sleep": log.record,
        "reraise": True,
    }
    if is_async:
        return _AsyncScoped(AsyncRetrying(sleep=lambda s: asleep(s), **options), deadline)
    return _Scoped(Retrying(sleep=lambda s: sleep(s), **options), deadline)


class _Attempt:
    """One tenacity attempt, run with the call's deadline in force."""

    def __init__(self, attempt: Any, deadline: float | None) -> None:
        self._attempt, self._deadline = attempt, deadline
        self._scope: Any = None

    def __enter__(self) -> Any:
        self._scope = deadline_scope(self._deadline)
        self._scope.__enter__()
        return self._attempt.__enter__()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        self._scope.__exit__(None, None, None)
        return bool(self._attempt.__exit__(kind, exc, tb))


class _Scoped:
    """`Retrying` whose every attempt runs with the call's deadline in force."""

    def __init__(self, retrying: Retrying, deadline: float | None) -> None:
        self._retrying, self._deadline = retrying, deadline

    def __iter__(self) -> Iterator[_Attempt]:
        for attempt in self._retrying:
            yield _Attempt(attempt, self._deadline)

    def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def scoped(*args: Any, **kwargs: Any) -> Any:
            with deadline_scope(self._deadline):
                return fn(*args, **kwargs)

        return self._retrying(scoped, *args, **kwargs)


class _AsyncScoped:
    """`AsyncRetrying` whose every attempt runs with the call's deadline in force."""

    def __init__(self, retrying: AsyncRetrying, deadline: float | None) -> None:
        self._retrying, self._deadline = retrying, deadline

    async def __aiter__(self) -> AsyncIterator[_Attempt]:
        async for attempt in self._retrying:
            yield _Attempt(attempt, self._deadline)

    async def __call__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        async def scoped(*args: Any, **kwargs: Any) -> Any:
            with deadline_scope(self._deadline):
                return await fn(*args, **kwargs)

        return await self._retrying(scoped, *args, **kwargs)
