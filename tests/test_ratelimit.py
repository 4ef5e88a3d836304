"""The rate limiter (extractor.ratelimit): the window, tokens, the server's headers, 429 pauses.

Every test runs on a simulated clock (no wall-clock assertions): the limiter books requests at
instants of that clock, and a request counts as sent at the instant it was booked for. The
integration tests talk to a real HTTP server on 127.0.0.1 that answers with HAND-WRITTEN replies
(tests/scripted_server.py); nothing here is a model.
"""

from __future__ import annotations

import asyncio
import heapq
import json
import random
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from extractor import Extractor, RateLimitError
from extractor.ratelimit import (
    RateLimiter,
    RateLimitWaitError,
    aacquire,
    acquire,
    estimate_tokens,
    parse_duration,
    retry_after,
)
from extractor.settings import load_settings
from extractor.transport import RateLimitWaitError as TooLate
from extractor.transport import async_http_client, http_client

from handwritten import replies
from scripted_server import Reply, ScriptedServer, completion, error_body

TEXT = (
    'Kremlin spokesman Dmitry Peskov said Moscow held a "negative attitude" toward the plan, '
    'adding it was "one of the root causes" of the war.'
)
GOOD = {"quotes": [replies.QUOTES[0]]}
KEY = "sk-test-ratelimit-0123456789abcdef"


class Clock:
    """A simulated monotonic clock: it moves only when told to (or when someone sleeps)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


def worst_window(times: list[float], width: float = 60.0) -> int:
    """The most instants of `times` in any half-open window [t, t + width)."""
    ordered = sorted(times)
    return max(
        (sum(1 for u in ordered if t <= u < t + width) for t in ordered),
        default=0,
    )


def booked_instants(limiter: RateLimiter, clock: Clock, count: int, cost: int = 0) -> list[float]:
    """Book `count` requests at the clock's current instant; the instants they may be sent."""
    instants = []
    for _ in range(count):
        booked = limiter.reserve(cost)
        assert booked is not None
        instants.append(clock.now + booked.wait)
    return instants


# The sliding window.


def test_never_more_than_the_limit_in_any_minute_and_no_slower_than_it_requires() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    instants = booked_instants(limiter, clock, 1000)
    assert worst_window(instants) == 60
    # As fast as the limit allows: 60 at once, then the next 60 one window (60.5 s) later.
    assert instants == [clock.now + (i // 60) * 60.5 for i in range(1000)]


def test_workers_arriving_at_random_keep_to_the_limit() -> None:
    clock, rng = Clock(), random.Random(7)
    limiter = RateLimiter(25, clock=clock)
    sent: list[float] = []
    for _ in range(600):  # workers ask at random moments, each sending when its wait is over
        clock.now += rng.expovariate(1.0)
        booked = limiter.reserve(rng.randint(1, 500))
        assert booked is not None
        sent.append(clock.now + booked.wait)
    assert worst_window(sent) <= 25
    assert sent == sorted(sent)  # first come, first served


def test_a_fraction_of_a_request_per_minute() -> None:
    clock = Clock()
    instants = booked_instants(RateLimiter(0.5, period=60, clock=clock), clock, 3)
    assert [t - clock.now for t in instants] == [0, 120, 240]
    clock = Clock()
    instants = booked_instants(RateLimiter(2.9, period=60, clock=clock), clock, 5)
    assert worst_window(instants) == 2  # whole requests only: 2 a minute


def test_max_wait_books_nothing() -> None:
    clock = Clock()
    limiter = RateLimiter(1, period=60, clock=clock)
    assert limiter.reserve(0, max_wait=5) is not None
    assert limiter.reserve(0, max_wait=5) is None  # would wait 60 s
    booked = limiter.reserve(0)
    assert booked is not None and booked.wait == 60  # the refused one took no slot


def test_limits_are_validated() -> None:
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="per minute"):
            RateLimiter(bad)
        with pytest.raises(ValueError, match="per minute"):
            RateLimiter(None, bad)


def test_threads_share_one_limiter() -> None:
    clock = Clock()
    limiter = RateLimiter(10, period=60, clock=clock)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            booked = limiter.reserve(0)
            assert booked is not None
            with lock:
                waits.append(booked.wait)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == [(i // 10) * 60.0 for i in range(200)]


def test_acquire_sleeps_the_wait_sync_and_async() -> None:
    clock = Clock()
    limiter = RateLimiter(2, period=60, clock=clock)
    assert [acquire(limiter, 0, sleep=clock.sleep) for _ in range(3)] == [1, 2, 3]
    assert clock.slept == [60.0]

    async def three() -> list[int]:
        return [await aacquire(limiter, 0, sleep=clock.asleep) for _ in range(3)]

    assert asyncio.run(three()) == [4, 5, 6]
    # 4 goes with 3 (1 and 2 are a minute old); 5 waits for their minute; 6 goes with 5.
    assert clock.slept == [60.0, 60.0]
    with pytest.raises(RateLimitWaitError):
        acquire(limiter, 0, max_wait=1, sleep=clock.sleep)


# Tokens.


def test_tokens_per_minute() -> None:
    clock = Clock()
    limiter = RateLimiter(None, 1000, period=60, clock=clock)
    costs = [300, 300, 300, 300, 50, 900, 2000]
    instants = booked_instants_costs(limiter, clock, costs)
    assert [t - clock.now for t in instants] == [0, 0, 0, 60, 60, 120, 180]
    for start in instants:  # tokens started in any minute (an oversized request goes alone)
        pairs = zip(costs, instants, strict=True)
        window = sum(min(cost, 1000) for cost, t in pairs if start <= t < start + 60)
        assert window <= 1000


def booked_instants_costs(limiter: RateLimiter, clock: Clock, costs: list[int]) -> list[float]:
    instants = []
    for cost in costs:
        booked = limiter.reserve(cost)
        assert booked is not None
        instants.append(clock.now + booked.wait)
    return instants


def test_the_replys_usage_replaces_the_estimate() -> None:
    clock = Clock()
    limiter = RateLimiter(None, 1000, period=60, clock=clock)
    first = limiter.reserve(900)
    assert first is not None
    limiter.observe(first.ticket, 200, {}, tokens=100)  # the server counted 100
    booked = limiter.reserve(900)
    assert booked is not None and booked.wait == 0


def run_workers(
    limiter: RateLimiter,
    clock: Clock,
    workers: int,
    estimate: int,
    used: list[int],
    latency: float = 2.0,
) -> list[tuple[float, int]]:
    """Workers on the simulated clock, each booking a request of `estimate` tokens, sending it
    when its wait is over, and telling the limiter its usage (`used`, in turn) `latency` seconds
    later, then booking the next; (instant sent, tokens used) of every request."""
    events = [(clock.now, worker, -1, 0) for worker in range(workers)]  # (when, order, ticket, i)
    heapq.heapify(events)
    sent: list[tuple[float, int]] = []
    order = workers
    while events:
        clock.now, _, ticket, index = heapq.heappop(events)
        if ticket >= 0:  # a reply: its usage, then the worker's next request
            limiter.observe(ticket, 200, {}, tokens=used[index])
        if len(sent) < len(used):
            booked = limiter.reserve(estimate)
            assert booked is not None
            sent.append((clock.now + booked.wait, used[len(sent)]))
            order += 1
            heapq.heappush(events, (sent[-1][0] + latency, order, booked.ticket, len(sent) - 1))
    return sent


def worst_token_window(sent: list[tuple[float, int]], width: float = 60.0) -> int:
    """The most tokens used by requests sent in any window [t, t + width)."""
    return max(sum(n for u, n in sent if t <= u < t + width) for t, _ in sent)


@pytest.mark.parametrize("workers", [4, 16])
def test_replies_using_less_than_the_estimate_let_the_run_go_at_the_limits_pace(
    workers: int,
) -> None:
    # Requests estimated at 3,300 tokens (body / 4 + max_tokens) whose replies use 1,000, as in a
    # measured run (101,859 tokens booked, 30,856 used). At 30,000 a minute, 300 such requests
    # take about ten minutes: 30 a window. Counted at their estimate while they wait, every
    # worker's booking would hold the window for 3,300 and the run would take three times that.
    clock = Clock()
    start = clock.now
    limiter = RateLimiter(None, 30_000, period=60, clock=clock)
    sent = run_workers(limiter, clock, workers, 3_300, [1_000] * 300)
    assert worst_token_window(sent) <= 30_000
    last = max(t for t, _ in sent) - start
    assert last <= (300 / 30 - 1) * 60 * 1.15  # the last window starts at 540 s at the limit


def test_replies_of_varying_size_still_keep_to_the_token_limit() -> None:
    clock, rng = Clock(), random.Random(11)
    limiter = RateLimiter(None, 30_000, period=60, clock=clock)
    used = [rng.randint(300, 3_300) for _ in range(400)]
    sent = run_workers(limiter, clock, 16, 3_300, used)
    assert worst_token_window(sent) <= 30_000
    assert len(sent) == 400


def test_estimate_tokens() -> None:
    body = b'{"messages": [{"content": "abcd"}], "max_tokens": 100}'
    assert estimate_tokens(body, 4096) == -(-len(body) // 4) + 100
    assert estimate_tokens(b'{"max_completion_tokens": 7}', 4096) == 7 + 7
    assert estimate_tokens(b"{}", 50) == 1 + 50


# The server's headers.


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1s", 1.0),
        ("6m0s", 360.0),
        ("20ms", 0.02),
        ("1h2m3.5s", 3723.5),
        ("0.5", 0.5),
        ("17", 17.0),
        ("", None),
        ("soon", None),
        ("-1", None),
        ("inf", None),
        ("m", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_retry_after_forms() -> None:
    assert retry_after({"retry-after": "3"}, now=0) == 3.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}, now=0) == 0.25
    assert retry_after({"retry-after": "Thu, 01 Jan 1970 00:01:00 GMT"}, now=30) == 30.0
    assert retry_after({"retry-after": "later"}, now=0) is None
    assert retry_after({"retry-after": "-5"}, now=0) is None
    assert retry_after({}, now=0) is None


def test_no_remaining_requests_waits_for_the_servers_reset() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, clock=clock)
    first = limiter.reserve(10)
    assert first is not None
    headers = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "6s"}
    limiter.observe(first.ticket, 200, headers)
    booked = limiter.reserve(10)
    assert booked is not None and booked.wait == 6.0


def test_remaining_requests_less_those_booked_since() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, clock=clock)
    tickets = [limiter.reserve(10) for _ in range(3)]  # three in flight
    assert all(tickets)
    headers = {"x-ratelimit-remaining-requests": "3", "x-ratelimit-reset-requests": "2s"}
    limiter.observe(tickets[0].ticket, 200, headers)  # type: ignore[union-attr]
    # 3 left after the first; two more were booked since: one more now, then wait for the reset.
    waits = [limiter.reserve(10).wait for _ in range(2)]  # type: ignore[union-attr]
    assert waits == [0.0, 2.0]


def test_an_older_reply_does_not_undo_a_newer_one() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, clock=clock)
    first, second = limiter.reserve(1), limiter.reserve(1)
    assert first is not None and second is not None
    empty = {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "5s"}
    plenty = {"x-ratelimit-remaining-requests": "500", "x-ratelimit-reset-requests": "5s"}
    limiter.observe(second.ticket, 200, empty)
    limiter.observe(first.ticket, 200, plenty)  # arrived late, knows less
    booked = limiter.reserve(1)
    assert booked is not None and booked.wait == 5.0


def test_remaining_tokens() -> None:
    clock = Clock()
    limiter = RateLimiter(None, 1_000_000, clock=clock)
    first = limiter.reserve(100)
    assert first is not None
    headers = {"x-ratelimit-remaining-tokens": "250", "x-ratelimit-reset-tokens": "1m30s"}
    limiter.observe(first.ticket, 200, headers, tokens=80)
    assert limiter.reserve(200).wait == 0.0  # type: ignore[union-attr]
    assert limiter.reserve(200).wait == 60.0  # type: ignore[union-attr]  # capped at max_pause


# 429: everyone pauses.


def test_a_429_pauses_every_worker() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, clock=clock)
    tickets = [limiter.reserve(1) for _ in range(4)]  # four workers' requests in flight
    limiter.observe(tickets[0].ticket, 429, {"retry-after": "7"})  # type: ignore[union-attr]
    waits = [limiter.reserve(1).wait for _ in range(4)]  # type: ignore[union-attr]
    assert waits == [7.0, 7.0, 7.0, 7.0]
    assert limiter.paused_for() == 7.0
    clock.now += 7
    assert limiter.reserve(1).wait == 0.0  # type: ignore[union-attr]


def test_429_without_retry_after_doubles_then_resets() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, clock=clock, max_pause=5)
    pauses = []
    for _ in range(5):
        booked = limiter.reserve(1)
        assert booked is not None
        clock.now += booked.wait
        limiter.observe(booked.ticket, 429, {})
        pauses.append(limiter.paused_for())
    assert pauses == [1.0, 2.0, 4.0, 5.0, 5.0]  # doubling, capped at max_pause
    clock.now += 5
    booked = limiter.reserve(1)
    assert booked is not None
    limiter.observe(booked.ticket, 200, {})
    limiter.observe(limiter.reserve(1).ticket, 429, {})  # type: ignore[union-attr]
    assert limiter.paused_for() == 1.0  # a success starts the doubling afresh


def test_429_uses_the_exhausted_limits_reset() -> None:
    clock = Clock()
    limiter = RateLimiter(1000, clock=clock)
    booked = limiter.reserve(1)
    assert booked is not None
    headers = {
        "x-ratelimit-remaining-requests": "10",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-remaining-tokens": "0",
        "x-ratelimit-reset-tokens": "12s",
    }
    limiter.observe(booked.ticket, 429, headers)
    assert limiter.paused_for() == 12.0


# Through the transport, against a local server with hand-written replies.


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    """A simulated clock that the limiter's waits and the retry policy's waits both advance."""
    simulated = Clock()
    monkeypatch.setattr("extractor.transport.sleep", simulated.sleep)
    monkeypatch.setattr("extractor.transport.asleep", simulated.asleep)
    monkeypatch.setattr("extractor.retry.sleep", simulated.sleep)
    monkeypatch.setattr("extractor.retry.asleep", simulated.asleep)
    yield simulated


def limited(server: ScriptedServer, limiter: RateLimiter, **options: Any) -> Extractor:
    """An Extractor whose requests go through `limiter` (clients built as the library does)."""
    settings = load_settings(
        model="gpt-4o-mini",
        base_url=server.base_url,
        api_key=KEY,
        **{"max_transient_retries": 2, **options},
    )
    client = openai.OpenAI(
        base_url=server.base_url,
        api_key=KEY,
        max_retries=0,
        http_client=http_client(settings, limiter=limiter),
    )
    return Extractor(settings=settings, client=client)


def ok(**headers: str) -> Reply:
    return Reply(completion(GOOD, prompt_tokens=100, completion_tokens=20), headers=headers)


def test_requests_wait_for_the_limit(server: ScriptedServer, clock: Clock) -> None:
    server.responder = lambda request: ok()
    extractor = limited(server, RateLimiter(2, period=60, clock=clock))
    for _ in range(5):
        extractor.extract(TEXT)
    assert len(server.requests) == 5
    assert clock.slept == [60.0, 60.0]  # requests 3 and 5 waited for a slot


def test_the_limit_built_from_settings_is_shared_by_sync_and_async(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[float] = []

    async def asleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("extractor.transport.sleep", waits.append)
    monkeypatch.setattr("extractor.transport.asleep", asleep)
    server.responder = lambda request: ok()
    extractor = Extractor(
        "gpt-4o-mini", base_url=server.base_url, api_key=KEY, requests_per_minute=2
    )
    extractor.extract(TEXT)
    asyncio.run(extractor.aextract(TEXT))
    extractor.extract(TEXT)  # the third request of one Extractor, whichever client sends it
    assert len(server.requests) == 3
    assert len(waits) == 1 and 0 < waits[0] <= 60.5  # only the third waited


def test_the_servers_headers_are_followed(server: ScriptedServer, clock: Clock) -> None:
    server.replies.extend(
        [
            ok(**{"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1.5s"}),
            ok(),
        ]
    )
    extractor = limited(server, RateLimiter(1000, clock=clock))
    extractor.extract(TEXT)
    extractor.extract(TEXT)
    assert clock.slept == [1.5]


def test_a_429_slows_every_worker_sharing_the_limiter(server: ScriptedServer, clock: Clock) -> None:
    limiter = RateLimiter(1000, clock=clock)
    first = limited(server, limiter, max_transient_retries=0)
    second = limited(server, limiter)  # another worker, the same limiter
    server.replies.extend(
        [
            Reply(error_body("Rate limit reached", "rate_limit_error"), 429, {"retry-after": "30"}),
            ok(),
        ]
    )
    with pytest.raises(RateLimitError):
        first.extract(TEXT)
    second.extract(TEXT)
    assert clock.slept == [30.0]  # the other worker waited out the pause before sending


def test_a_429_is_waited_once_not_twice(server: ScriptedServer, clock: Clock) -> None:
    server.replies.extend(
        [
            Reply(error_body("Rate limit reached", "rate_limit_error"), 429, {"retry-after": "4"}),
            ok(),
        ]
    )
    extractor = limited(server, RateLimiter(1000, clock=clock))
    result = extractor.extract(TEXT)
    assert result.quotes and len(server.requests) == 2
    # The retry policy slept the Retry-After; the limiter's pause, started at the same 429, was
    # over by then, so the retry went out at once.
    assert clock.slept == [4.0]


def test_the_replys_usage_frees_tokens(server: ScriptedServer, clock: Clock) -> None:
    def run(with_usage: bool) -> list[float]:
        clock.slept.clear()
        body = completion(GOOD, prompt_tokens=100, completion_tokens=20)
        if not with_usage:
            del body["usage"]
        server.responder = lambda request: Reply(body)
        extractor = limited(server, RateLimiter(None, 5000, clock=clock), max_tokens=700)
        for _ in range(4):
            extractor.extract(TEXT)
        return list(clock.slept)

    assert run(with_usage=True) == []  # 120 tokens each by the server's count
    # Each estimated at its body / 4 + 700 tokens, between 5000/4 and 5000/3: the 4th waits.
    estimate = estimate_tokens(json.dumps(server.requests[-1]).encode(), 700)
    assert 5000 / 4 < estimate < 5000 / 3
    assert len(run(with_usage=False)) == 1


def test_a_wait_past_the_deadline_fails_at_once(server: ScriptedServer, clock: Clock) -> None:
    server.responder = lambda request: ok()
    extractor = limited(server, RateLimiter(1, clock=clock), deadline=30)
    extractor.extract(TEXT)
    with pytest.raises(RateLimitError) as caught:
        extractor.extract(TEXT)
    assert isinstance(caught.value, TooLate)
    assert "requests_per_minute" in str(caught.value) and "deadline" in str(caught.value)
    assert len(server.requests) == 1 and clock.slept == []


class Remote:
    """A limiter hosted elsewhere (as a Dask Actor would be): only the interface, calls logged."""

    def __init__(self, inner: RateLimiter) -> None:
        self.inner = inner
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def reserve(self, cost: int, max_wait: float | None = None) -> Any:
        self.calls.append(("reserve", (cost, max_wait)))
        return self.inner.reserve(cost, max_wait)

    def observe(
        self, ticket: int | None, status: int, headers: Any, tokens: int | None = None
    ) -> None:
        self.calls.append(("observe", (ticket, status, tokens)))
        self.inner.observe(ticket, status, headers, tokens)


def test_any_limiter_with_the_interface_can_be_plugged_in(
    server: ScriptedServer, clock: Clock
) -> None:
    server.responder = lambda request: ok()
    remote = Remote(RateLimiter(1, clock=clock))
    settings = load_settings(model="gpt-4o-mini", base_url=server.base_url, api_key=KEY)
    client = openai.AsyncOpenAI(
        base_url=server.base_url,
        api_key=KEY,
        max_retries=0,
        http_client=async_http_client(settings, limiter=remote),
    )
    extractor = Extractor(settings=settings, async_client=client)

    async def twice() -> None:
        await extractor.aextract(TEXT)
        await extractor.aextract(TEXT)

    asyncio.run(twice())
    names = [name for name, _ in remote.calls]
    assert names == ["reserve", "observe", "reserve", "observe"]
    cost, max_wait = remote.calls[0][1]
    assert cost > settings.max_tokens and max_wait is None  # estimated; no deadline set
    assert remote.calls[1][1] == (1, 200, 120)  # the server's token count passed on
    assert clock.slept == [60.5]
