"""Retry policy for transient API faults: 429, 5xx, timeouts and dropped connections.

Validation failures are not retried here: instructor re-asks those at once, counted by
``max_reasks``. Transient faults back off exponentially with jitter, honouring the server's
``Retry-After`` (capped at ``retry_after_max``), up to ``max_transient_retries`` times per request.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from extractor.settings import Settings

__all__ = ["RetryLog", "is_transient", "retry_after_seconds", "transient_retrying"]

logger = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def sleep(seconds: float) -> None:
    """Block for `seconds` (a module attribute so tests can replace it)."""
    time.sleep(seconds)


async def asleep(seconds: float) -> None:
    """Wait for `seconds` without blocking the loop (replaceable by tests)."""
    await asyncio.sleep(seconds)


def is_transient(exc: BaseException) -> bool:
    """Whether a failed request is worth repeating unchanged."""
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in TRANSIENT_STATUS
    return False


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
    seconds = _number(value)
    if seconds is not None or not value:
        return seconds
    try:  # an HTTP date
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        return None
    return max(parsed.timestamp() - time.time(), 0.0)


def _number(value: str | None) -> float | None:
    """A finite, non-negative number of seconds, or None."""
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return max(number, 0.0) if number is not None and math.isfinite(number) else None


@dataclass
class RetryLog:
    """What the transient retries of one extraction did: each wait and why."""

    waits: list[float] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    requests: int = 0  # HTTP requests sent in all
    attempts: int = 0  # tries of the request in flight (1 + its transient retries so far)

    def start_request(self) -> None:
        """A new request begins (the first, or a re-ask): its tries are counted afresh."""
        self.attempts = 0

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


def transient_retrying(settings: Settings, log: RetryLog, *, is_async: bool) -> Any:
    """A tenacity controller for one request: `Retrying`, or `AsyncRetrying` if `is_async`."""
    options: dict[str, Any] = {
        "retry": retry_if_exception(is_transient),
        "stop": stop_after_attempt(settings.max_transient_retries + 1),
        "wait": _wait(settings),
        "before_sleep": log.record,
        "reraise": True,
    }
    if is_async:
        return AsyncRetrying(sleep=lambda s: asleep(s), **options)
    return Retrying(sleep=lambda s: sleep(s), **options)
