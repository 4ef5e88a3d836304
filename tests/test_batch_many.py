"""`Extractor.extract_many` / `aextract_many` against a scripted server.

Every reply here is HAND-WRITTEN by the rule in `EventResponder` (it stands in for a model; see
tests/scripted_server.py): the article's first sentence is reported as one event, its evidence
copied from the request. An article whose text holds ``SLOW`` is answered once the test opens
`gate` (or after `slow` seconds), one holding ``GARBAGE`` with a reply that never validates.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

import pytest

from extractor import Extractor, InputError
from extractor.batch_lines import ArticleOutcome
from extractor.errors import ConfigurationError, ExtractionError

from conftest import FAKE_KEY
from scripted_server import Reply, ScriptedServer, completion

_ARTICLE = re.compile(r"<(article[\w-]*)>\n(.*)\n</\1>", re.DOTALL)
_FIRST_SENTENCE = re.compile(r"[^.!?\n]+[.!?]")
ID_MARK = re.compile(r"\bArticle-(\w+)\b")


class EventResponder:
    """HAND-WRITTEN rule answering like a model: the first sentence is an event."""

    def __init__(self, latency: float = 0.0, slow: float = 0.3, meet: int = 0) -> None:
        self.latency, self.slow = latency, slow
        # The first `meet` requests wait until all of them are in flight at once (or fail).
        self.meeting = threading.Barrier(meet, timeout=10) if meet else None
        self.gate = threading.Event()  # SLOW articles are answered once it is set
        self.slow_answered = 0
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.seen: list[str] = []  # the Article-<id> mark of each request, in arrival order

    def __call__(self, request: dict[str, Any]) -> Reply:
        user = request["messages"][-1]["content"]
        found = _ARTICLE.search(user)
        text = found[2] if found else user
        mark = ID_MARK.search(text)
        with self.lock:
            self.seen.append(mark[1] if mark else "?")
            number = len(self.seen)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.meeting is not None and number <= self.meeting.parties:
                self.meeting.wait()  # BrokenBarrierError (a 500) unless they are concurrent
            if "SLOW" in text:
                self.gate.wait(self.slow)
                with self.lock:
                    self.slow_answered += 1
            else:
                time.sleep(self.latency)
            if "GARBAGE" in text:
                return Reply(completion("not json at all"))
            first = _FIRST_SENTENCE.search(text)
            event = {
                "kind": "statement",
                "summary": "Something was said.",
                "status": "occurred",
                "evidence": first[0].strip() if first else text[:20],
            }
            return Reply(completion({"events": [event], "quotes": [], "commitments": []}))
        finally:
            with self.lock:
                self.in_flight -= 1


def article(key: str, extra: str = "") -> str:
    return f"Article-{key} was published today. {extra}The minister spoke at length.\n"


def extractor_for(server: ScriptedServer, **options: Any) -> Extractor:
    return Extractor(base_url=server.base_url, api_key=FAKE_KEY, max_reasks=0, **options)


def test_extract_many_yields_every_article_within_the_concurrency_limit(
    server: ScriptedServer,
) -> None:
    responder = server.responder = EventResponder(meet=3)  # the first 3 wait for each other
    texts = [(f"k{i}", article(f"k{i}")) for i in range(8)]
    with extractor_for(server) as extractor:
        outcomes = list(extractor.extract_many(texts, concurrency=3))
    assert sorted(o.id for o in outcomes) == sorted(k for k, _ in texts)
    assert all(o.ok and o.error is None for o in outcomes)
    assert responder.most_in_flight == 3  # 3 met at once, and never more
    first = outcomes[0]
    assert first.result is not None and first.result.events
    span = first.result.events[0].span
    assert span is not None and dict(texts)[first.id][span.start : span.end] == span.text
    assert first.usage.requests == 1 and first.timing.seconds >= 0


def test_one_bad_article_is_an_outcome_with_its_error_not_an_exception(
    server: ScriptedServer,
) -> None:
    server.responder = EventResponder()
    texts = ["", article("good"), article("bad", "GARBAGE. ")]
    with extractor_for(server) as extractor:
        outcomes = {o.id: o for o in extractor.extract_many(texts)}
    assert isinstance(outcomes["0"].error, InputError) and outcomes["0"].article is None
    assert outcomes["1"].ok
    bad = outcomes["2"]
    assert isinstance(bad.error, ExtractionError) and bad.result is None
    assert bad.usage.requests == 1  # what the failure cost is kept


async def test_aextract_many_yields_results_as_they_complete(server: ScriptedServer) -> None:
    responder = server.responder = EventResponder(latency=0.0, slow=30)
    texts = [("slow", article("slow", "SLOW. ")), ("a", article("a")), ("b", article("b"))]
    order: list[str] = []
    async with extractor_for(server) as extractor:
        async for outcome in extractor.aextract_many(texts, concurrency=3):
            assert isinstance(outcome, ArticleOutcome) and outcome.ok
            order.append(outcome.id)
            if len(order) == 2:  # the slow one is answered only now
                responder.gate.set()
    assert order[-1] == "slow" and sorted(order[:2]) == ["a", "b"]


async def test_inputs_are_taken_lazily_as_workers_free_up(server: ScriptedServer) -> None:
    responder = server.responder = EventResponder(latency=0.02)
    taken: list[int] = []

    def texts() -> Any:
        for i in range(6):
            taken.append(i)
            yield (f"k{i}", article(f"k{i}"))

    got = []
    async with extractor_for(server) as extractor:
        async for outcome in extractor.aextract_many(texts(), concurrency=2):
            if not got:
                assert len(taken) == 2  # only as many as may be in flight
            got.append(outcome)
    assert len(got) == 6 and responder.most_in_flight <= 2


def test_stopping_early_cancels_what_is_in_flight(server: ScriptedServer) -> None:
    responder = server.responder = EventResponder(latency=0.0, slow=30)
    texts = [("fast", article("fast"))] + [(f"s{i}", article(f"s{i}", "SLOW. ")) for i in range(4)]
    try:
        with extractor_for(server) as extractor:
            for outcome in extractor.extract_many(texts, concurrency=5):
                assert outcome.id == "fast"
                break
        # Not cancelled, extract_many would have waited for the slow replies (30 s) to finish.
        assert responder.slow_answered == 0
    finally:
        responder.gate.set()


def test_an_input_iterable_that_fails_raises_in_the_callers_thread(
    server: ScriptedServer,
) -> None:
    server.responder = EventResponder()

    def texts() -> Any:
        yield ("a", article("a"))
        raise OSError("the feed broke")

    with (
        extractor_for(server) as extractor,
        pytest.raises(OSError, match="the feed broke"),
    ):
        list(extractor.extract_many(texts(), concurrency=1))


def test_a_bad_concurrency_is_a_configuration_error(server: ScriptedServer) -> None:
    with (
        extractor_for(server) as extractor,
        pytest.raises(ConfigurationError, match="concurrency"),
    ):
        list(extractor.extract_many(["text"], concurrency=-1))


def test_a_result_line_from_many_is_json(server: ScriptedServer) -> None:
    server.responder = EventResponder()
    with extractor_for(server) as extractor:
        (outcome,) = extractor.extract_many([article("x")])
    assert outcome.result is not None
    json.loads(outcome.result.model_dump_json())


class Crowd:
    """Wraps a responder: the first `hold` requests meet (all in flight at once), then wait
    (at most 1 s) for `crowd` in flight, which a correct cap never lets form; counts the most
    in flight."""

    def __init__(self, inner: Any, crowd: int, hold: int) -> None:
        self.inner, self.crowd, self.hold = inner, crowd, hold
        self.lock = threading.Lock()
        self.formed = threading.Event()
        self.meeting = threading.Barrier(hold, timeout=10)
        self.count = self.in_flight = self.most_in_flight = 0

    def __call__(self, request: dict[str, Any]) -> Reply:
        with self.lock:
            self.count += 1
            number = self.count
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if self.in_flight >= self.crowd:
                self.formed.set()
        try:
            if number <= self.hold:
                self.meeting.wait()  # BrokenBarrierError (a 500) unless they are concurrent
                self.formed.wait(1.0)
            reply: Reply = self.inner(request)
            return reply
        finally:
            with self.lock:
                self.in_flight -= 1


def test_the_concurrency_caps_requests_across_articles_not_only_articles(
    server: ScriptedServer,
) -> None:
    from test_long_articles import LONG, SMALL, Responder

    responder = server.responder = Crowd(Responder(), crowd=3, hold=2)
    texts = [(f"long{i}", LONG) for i in range(2)]  # several chunks each
    with extractor_for(server, max_concurrency=3, **SMALL) as extractor:
        outcomes = list(extractor.extract_many(texts, concurrency=2))
    assert all(o.ok for o in outcomes) and len(outcomes) == 2
    assert all(o.usage.requests > 2 for o in outcomes)  # each article had chunks to spread
    assert responder.most_in_flight == 2  # 2 articles x 3 chunks were never 6, nor 3, at once
