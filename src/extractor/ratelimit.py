"""Rate limits on requests and tokens per minute, shared by every worker of one Extractor.

One `RateLimiter` serves every request an Extractor sends (sync and async, every thread, task and
event loop, every retry and re-ask): `extractor.transport` books each request with it before
sending and tells it what the server answered. It never lets more than ``requests_per_minute``
requests, or ``tokens_per_minute`` tokens, start in any window of a minute (a sliding window,
not a bucket that refills: a bucket lets twice its size through in one minute), and it follows
the server:

- ``x-ratelimit-remaining-requests`` / ``-tokens`` with ``x-ratelimit-reset-requests`` /
  ``-tokens`` (OpenAI's durations: ``1s``, ``6m0s``, ``20ms``, ``1h2m3.5s``; or plain seconds):
  no more than the server says remain are sent before its reset, less what was booked since;
- a 429 pauses the whole limiter, so every worker waits, not only the one that got it: for its
  ``Retry-After``/``retry-after-ms`` if sent, else the reset of the exhausted limit, else 1 s
  doubling with each 429 in a row (up to ``max_pause``). The retry policy (`extractor.retry`)
  sleeps the same Retry-After before its retry; both waits start at the 429, so they overlap
  instead of adding up.

A request's cost in tokens is estimated before it is sent (`estimate_tokens`: its body's length
/ 4 plus its ``max_tokens``, as OpenAI counts against the limit) and replaced by the reply's
``usage.total_tokens`` once known. The estimate is an upper bound, often three times what a reply
uses (max_tokens is rarely used up), and a request booked ahead keeps the instant it was given
while it waits: counted at its full estimate, the requests waiting and in flight would hold the
window for tokens no reply uses, and a run with many workers would go at the estimate's pace, not
the limit's. So the window counts a request not yet answered at its estimate times the largest
share of its estimate that any of the last `CALIBRATION` replies used (the whole estimate until
a reply has told): the difference a reply gives back reaches the requests booked after it. The
server's own ``x-ratelimit-remaining-tokens`` is followed in estimates, as it counts. A request
costing more than ``tokens_per_minute`` on its own waits for an empty window and then goes alone.

The interface, which a limiter hosted elsewhere (a Dask Actor shared by a cluster's workers)
must offer; it never blocks and uses only its own clock, so it can be called remotely:

    reserve(cost: int, max_wait: float | None = None) -> Reservation | None
        Book one request of `cost` tokens at the earliest moment the limits allow. Returns its
        ``ticket`` and the ``wait`` (seconds) before the caller may send it; None, booking
        nothing, if that wait would be longer than `max_wait`.
    observe(ticket: int | None, status: int, headers: Mapping[str, str],
            tokens: int | None = None) -> None
        What the server answered that request: status, headers (x-ratelimit-*, Retry-After;
        names lower-case), and the tokens it counted, which replace the estimate.

`acquire` (sync) and `aacquire` (async) are reserve-then-sleep, on the caller's side.
"""

from __future__ import annotations

import asyncio
import email.utils
import math
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "Limiter",
    "RateLimitWaitError",
    "RateLimiter",
    "Reservation",
    "aacquire",
    "acquire",
    "estimate_tokens",
    "parse_duration",
    "retry_after",
]

PERIOD = 60.0  # seconds: the limits are per minute
# Added to the window the limiter keeps, so that a request delayed between its booking and the
# server (a busy event loop, a new connection) still keeps to the limit as the server counts it.
SAFETY = 0.5
FIRST_PAUSE = 1.0  # after a 429 that says nothing of how long to wait; doubles per 429 in a row
CHARS_PER_TOKEN = 4
CALIBRATION = 32  # replies whose share of their estimate scales the requests not yet answered


@dataclass(frozen=True)
class Reservation:
    """A booked request: its ticket (for `observe`) and the seconds to wait before sending it."""

    ticket: int
    wait: float


class RateLimitWaitError(Exception):
    """The limits allow the request only after the time the caller can wait."""


class Limiter(Protocol):
    """What `extractor.transport` needs of a rate limiter (see the module docstring)."""

    def reserve(self, cost: int, max_wait: float | None = None) -> Reservation | None:
        """Book one request of `cost` tokens; None if it would wait longer than `max_wait`."""

    def observe(
        self,
        ticket: int | None,
        status: int,
        headers: Mapping[str, str],
        tokens: int | None = None,
    ) -> None:
        """Take in what the server answered the request booked as `ticket`."""


@dataclass
class _Booking:
    at: float  # when it may be sent, on the limiter's clock
    tokens: int  # its estimate, until the reply's count replaces it
    tokens_before: int  # tokens booked before it, in all (estimates)
    counted: bool = False  # whether `tokens` is the server's count


@dataclass
class _ServerBudget:
    remaining: int  # what the server said is left once the request that told it was counted
    until: float  # when the server's limit resets, on the limiter's clock
    ticket: int  # the request whose reply said so; bookings after it are not counted in it
    tokens_through: int  # tokens booked up to and including that request


class RateLimiter:
    """Requests and tokens per minute over a sliding window, the server's headers, 429 pauses.

    Thread-safe; `clock` gives monotonic seconds (injectable for exact tests).
    """

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        period: float = PERIOD + SAFETY,
        max_pause: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for name, value in (("requests", requests_per_minute), ("tokens", tokens_per_minute)):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} per minute must be a finite number above 0: {value!r}")
        # Whole requests per window (90.5 a minute: 90); under one a minute, one per longer window.
        self._requests = max(1, math.floor(requests_per_minute)) if requests_per_minute else None
        self._request_window = period
        if requests_per_minute is not None and requests_per_minute < 1:
            self._request_window = period / requests_per_minute
        self._tokens = max(1, math.floor(tokens_per_minute)) if tokens_per_minute else None
        self._window = period
        self._max_pause = max_pause
        self._clock = clock
        self._lock = threading.Lock()
        self._log: deque[tuple[int, _Booking]] = deque()  # bookings in the window, oldest first
        self._open: dict[int, _Booking] = {}  # booked, not yet observed
        self._tickets = 0
        self._tokens_booked = 0
        self._paused_until = -math.inf
        self._strikes = 0  # 429s in a row
        self._server_requests: _ServerBudget | None = None
        self._server_tokens: _ServerBudget | None = None
        self._shares: deque[float] = deque(maxlen=CALIBRATION)  # replies' tokens / estimate

    @property
    def limits(self) -> tuple[float | None, float | None]:
        """Requests and tokens allowed per window (None: no limit of that kind)."""
        return self._requests, self._tokens

    def reserve(self, cost: int, max_wait: float | None = None) -> Reservation | None:
        """Book one request of `cost` tokens; None if it would wait longer than `max_wait`."""
        cost = max(0, cost) if self._tokens is None else min(max(0, cost), self._tokens)
        with self._lock:
            now = self._clock()
            self._forget_before(now - max(self._window, self._request_window))
            at = max(now, self._paused_until, self._log[-1][1].at if self._log else now)
            at = max(at, self._request_limit_at(), self._token_limit_at(cost))
            at = max(at, self._server_limit_at(at, cost))
            if max_wait is not None and at - now > max_wait:
                return None
            self._tickets += 1
            booking = _Booking(at, cost, self._tokens_booked)
            self._tokens_booked += cost
            self._log.append((self._tickets, booking))
            self._open[self._tickets] = booking
            return Reservation(self._tickets, at - now)

    def observe(
        self,
        ticket: int | None,
        status: int,
        headers: Mapping[str, str],
        tokens: int | None = None,
    ) -> None:
        """Take in what the server answered the request booked as `ticket`."""
        with self._lock:
            now = self._clock()
            booking = self._open.pop(ticket, None) if ticket is not None else None
            requests_reset = parse_duration(headers.get("x-ratelimit-reset-requests"))
            tokens_reset = parse_duration(headers.get("x-ratelimit-reset-tokens"))
            requests_left = _whole(headers.get("x-ratelimit-remaining-requests"))
            tokens_left = _whole(headers.get("x-ratelimit-remaining-tokens"))
            if booking is not None and ticket is not None:
                through = booking.tokens_before + booking.tokens
                if requests_left is not None and _newer(self._server_requests, ticket, now):
                    until = now + min(requests_reset or FIRST_PAUSE, self._max_pause)
                    self._server_requests = _ServerBudget(requests_left, until, ticket, through)
                if tokens_left is not None and _newer(self._server_tokens, ticket, now):
                    until = now + min(tokens_reset or FIRST_PAUSE, self._max_pause)
                    self._server_tokens = _ServerBudget(tokens_left, until, ticket, through)
                if tokens is not None and tokens >= 0:
                    if booking.tokens > 0:
                        self._shares.append(min(1.0, tokens / booking.tokens))
                    booking.tokens, booking.counted = tokens, True  # the server's count
            if status == 429:
                self._strikes += 1
                pause = retry_after(headers, now=time.time())
                if pause is None:
                    pairs = ((requests_left, requests_reset), (tokens_left, tokens_reset))
                    resets = [reset for left, reset in pairs if reset is not None and left == 0]
                    resets = resets or [r for r in (requests_reset, tokens_reset) if r is not None]
                    pause = max(resets) if resets else FIRST_PAUSE * 2 ** (self._strikes - 1)
                self._paused_until = max(self._paused_until, now + min(pause, self._max_pause))
            elif 200 <= status < 300:
                self._strikes = 0

    def paused_for(self) -> float:
        """Seconds left of a pause after a 429 (0 if none)."""
        with self._lock:
            return max(0.0, self._paused_until - self._clock())

    # The earliest moment each limit allows the next request (all under the lock).

    def _forget_before(self, instant: float) -> None:
        while self._log and self._log[0][1].at <= instant:
            self._log.popleft()

    def _request_limit_at(self) -> float:
        if self._requests is None or len(self._log) < self._requests:
            return -math.inf
        return self._log[-self._requests][1].at + self._request_window

    def _token_limit_at(self, cost: int) -> float:
        if self._tokens is None:
            return -math.inf
        share = max(self._shares, default=1.0)  # of its estimate a request not answered counts
        total = math.ceil(cost * share)
        for _, booking in reversed(self._log):
            total += booking.tokens if booking.counted else math.ceil(booking.tokens * share)
            if total > self._tokens:
                return booking.at + self._window
        return -math.inf

    def _server_limit_at(self, at: float, cost: int) -> float:
        earliest = -math.inf
        budget = self._server_requests
        if budget is not None and at < budget.until:
            booked_since = self._tickets - budget.ticket
            if booked_since + 1 > budget.remaining:
                earliest = budget.until
        budget = self._server_tokens
        if (
            budget is not None
            and at < budget.until
            and self._tokens_booked - budget.tokens_through + cost > budget.remaining
        ):
            earliest = max(earliest, budget.until)
        return earliest


def acquire(
    limiter: Limiter,
    cost: int,
    max_wait: float | None = None,
    sleep: Callable[[float], object] = time.sleep,
) -> int:
    """Book a request and block until it may be sent; its ticket. `RateLimitWaitError` if the
    wait would be longer than `max_wait`."""
    booked = limiter.reserve(cost, max_wait)
    if booked is None:
        raise RateLimitWaitError(
            f"the rate limits allow the next request only in over {max_wait:.1f}s"
        )
    if booked.wait > 0:
        sleep(booked.wait)
    return booked.ticket


async def aacquire(
    limiter: Limiter,
    cost: int,
    max_wait: float | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> int:
    """Async twin of `acquire`: waits without blocking the event loop."""
    booked = limiter.reserve(cost, max_wait)
    if booked is None:
        raise RateLimitWaitError(
            f"the rate limits allow the next request only in over {max_wait:.1f}s"
        )
    if booked.wait > 0:
        await sleep(booked.wait)
    return booked.ticket


def estimate_tokens(body: bytes, max_tokens: int) -> int:
    """What a request counts against a tokens-per-minute limit before it is answered: its body's
    characters / 4, plus the reply's ``max_tokens`` (``max_completion_tokens``) if the body sets
    it, else `max_tokens`."""
    reply = max_tokens
    for name in (b'"max_completion_tokens":', b'"max_tokens":'):
        found = re.search(re.escape(name) + rb"\s*(\d{1,12})\b", body)
        if found:
            reply = int(found.group(1))
            break
    return math.ceil(len(body) / CHARS_PER_TOKEN) + reply


_DURATION = re.compile(
    r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m(?!s))?"
    r"(?:(?P<s>\d+(?:\.\d+)?)s)?(?:(?P<ms>\d+(?:\.\d+)?)ms)?"
)


def parse_duration(value: str | None) -> float | None:
    """Seconds in an ``x-ratelimit-reset-*`` value (``1s``, ``6m0s``, ``20ms``, ``1h2m``, or a
    plain number of seconds); None if absent or not understood."""
    if not value:
        return None
    text = value.strip().lower()
    try:
        seconds = float(text)
    except ValueError:
        found = _DURATION.fullmatch(text)
        if not found or not any(found.groupdict().values()):
            return None
        parts = {name: float(part) for name, part in found.groupdict().items() if part}
        seconds = (
            parts.get("h", 0) * 3600
            + parts.get("m", 0) * 60
            + parts.get("s", 0)
            + parts.get("ms", 0) / 1000
        )
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """The wait a 429 asks for in ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date,
    `now` being the wall-clock time); None if it asks for none."""
    try:
        milliseconds = float(headers.get("retry-after-ms") or "nan")
    except ValueError:
        milliseconds = math.nan
    if math.isfinite(milliseconds) and milliseconds >= 0:
        return milliseconds / 1000
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if parsed.tzinfo is None:
            return None
        seconds = parsed.timestamp() - now
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _newer(budget: _ServerBudget | None, ticket: int, now: float) -> bool:
    """Whether a reply to `ticket` tells more than `budget` (a reply to a later request does)."""
    return budget is None or budget.ticket <= ticket or budget.until <= now


def _whole(value: str | None) -> int | None:
    """A header's whole, non-negative number, or None."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())
