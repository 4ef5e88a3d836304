"""Long articles end to end: chunks, cut replies, passes and concurrency against a scripted server.

Every reply here is HAND-WRITTEN by rules in this file (`Responder`), standing in for a model
(see tests/scripted_server.py): it answers each numbered quotation of the request with a speaker
from a table, reports an event for every sentence with "dismissed", and, like a real server,
ENFORCES max_tokens: a reply longer than max_tokens (characters / 4) is cut there and sent with
finish_reason "length".
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from extractor import ArticleExtraction, Extractor, IncompleteOutputError, LibrarySpan, Verbatim
from extractor.errors import ConfigurationError
from extractor.prompting import strip_markers
from extractor.quotations import find_quotations

from people_schema import People
from scripted_server import Reply, ScriptedServer, completion

ROOT = Path(__file__).resolve().parents[1]
SEED = (ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt").read_text(encoding="utf-8")
LONG = "\n\n".join([SEED] * 10)  # about 21,000 characters
SMALL = {"context_tokens": 4096, "max_tokens": 1024}  # chunks of about 2,700 characters

# HAND-WRITTEN: who says each quotation of the example article, by its first words; the short
# name is given in every other request, so one person is named two ways across chunks.
SPEAKERS = {
    "negative attitude": ("Peskov", "Kremlin spokesman Dmitry Peskov"),
    "one of the root": ("Peskov", "Dmitry Peskov"),
    "specifically asked": ("Trump", "President Donald Trump"),
    "had no problem": ("Trump", "Donald Trump"),
    "raise the level": ("Lavrov", "Sergei Lavrov"),
    "When it comes": ("Trump", "Donald Trump"),
    "We're willing": ("Trump", "Donald Trump"),
}
_ARTICLE = re.compile(r"<(article[\w-]*)>\n(.*)\n</\1>", re.DOTALL)
_MARKED = re.compile(r"\[Q(\d+)\]\s*[\"\u201c]")
_SENTENCE = re.compile(r"[^.!?\n]*\bdismissed\b[^.!?\n]*\.")


def chunk_text(request: dict[str, Any]) -> str:
    """The article text a request carries, without the [Qn] markers."""
    user = request["messages"][-1]["content"]
    found = _ARTICLE.search(user)
    assert found, user[:200]
    return strip_markers(found[2])


def request_tokens(request: dict[str, Any]) -> int:
    """A request's prompt size, characters / 4: messages and tools."""
    chars = sum(len(m["content"]) for m in request["messages"])
    return (chars + len(json.dumps(request.get("tools", [])))) // 4


class Responder:
    """HAND-WRITTEN rules answering like a model; enforces max_tokens; counts what it saw."""

    def __init__(self, latency: float = 0.0, meet: int = 0) -> None:
        self.latency = latency
        # The first `meet` requests wait until all of them are in flight at once (or fail).
        self.meeting = threading.Barrier(meet, timeout=10) if meet else None
        self.lock = threading.Lock()
        self.count = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.cut = 0
        self.longest_reply = 0  # tokens (characters / 4) of the longest reply sent
        self.cut_when: Callable[[int], int | None] = lambda number: None  # answers to cut after

    def answer(self, request: dict[str, Any], number: int) -> dict[str, Any]:
        """The full answer this rule-based stand-in gives to one request."""
        user = request["messages"][-1]["content"]
        text = chunk_text(request)
        quotes = []
        for m in _MARKED.finditer(user):
            after = user[m.end() : m.end() + 40]
            short, full = next(v for k, v in SPEAKERS.items() if after.startswith(k))
            name = short if number % 2 else full
            quotes.append({"n": int(m[1]), "speaker": {"name": name}, "kind": "direct"})
        events = [
            {"kind": "statement", "summary": "A dismissal.", "status": "occurred", "evidence": s}
            for s in (m[0].strip() for m in _SENTENCE.finditer(text))
        ]
        return {"events": events, "commitments": [], "quotes": quotes}

    def __call__(self, request: dict[str, Any]) -> Reply:
        with self.lock:
            self.count += 1
            number = self.count
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.meeting is not None and number <= self.meeting.parties:
                self.meeting.wait()  # BrokenBarrierError (a 500) unless they are concurrent
            time.sleep(self.latency)
            answer = self.answer(request, number)
            keep = self.cut_when(number)
            arguments = json.dumps(answer)
            if keep is not None:  # verbose beyond the estimate: cut inside answer keep + 1
                whole = json.dumps({**answer, "quotes": answer["quotes"][: keep + 1]})
                arguments = whole[: whole.rindex("{") + 8]
            elif len(arguments) // 4 > request["max_tokens"]:
                arguments = arguments[: request["max_tokens"] * 4]
            finish = "length" if arguments != json.dumps(answer) else "tool_calls"
            with self.lock:
                self.cut += finish == "length"
                self.longest_reply = max(self.longest_reply, len(arguments) // 4)
            tokens = len(arguments) // 4
            body = completion(
                arguments,
                finish_reason=finish,
                prompt_tokens=request_tokens(request),
                completion_tokens=tokens,
            )
            return Reply(body)
        finally:
            with self.lock:
                self.in_flight -= 1


def quotation_spans(text: str) -> list[tuple[int, int]]:
    return [(q.start, q.end) for q in find_quotations(text)]


def outer_spans(text: str) -> list[tuple[int, int]]:
    return [(q.outer_start, q.outer_end) for q in find_quotations(text)]


def boundaries_inside_quotations(text: str, requests: list[dict[str, Any]]) -> list[int]:
    """Chunk starts and ends (where each request's text is in `text`) strictly in a quotation."""
    outer = outer_spans(text)
    bad = []
    for request in requests:
        piece = chunk_text(request)
        start = text.find(piece)
        assert start >= 0, "a chunk's text is not a passage of the article"
        for at in (start, start + len(piece)):
            bad.extend(at for a, b in outer if a < at < b)
    return bad


def check_whole(result: ArticleExtraction, text: str) -> None:
    """Every quotation once, every span an offset into the whole text."""
    spans = [(q.span.start, q.span.end) for q in result.quotes if q.span is not None]
    assert sorted(spans) == quotation_spans(text)
    for record in [*result.quotes, *result.events, *result.commitments]:
        assert record.span is not None
        assert text[record.span.start : record.span.end] == record.span.text


# --- the article x10 against a server that enforces max_tokens --------------------------------


def test_the_article_x10_succeeds_in_chunks_within_every_limit(server: ScriptedServer) -> None:
    server.responder = responder = Responder()
    result = Extractor(base_url=server.base_url, api_key="k", **SMALL).extract(LONG)
    requests = server.requests
    assert len(requests) > 5 and responder.cut == 0
    assert all(r["max_tokens"] == SMALL["max_tokens"] for r in requests)
    assert max(request_tokens(r) for r in requests) + SMALL["max_tokens"] <= SMALL["context_tokens"]
    assert responder.longest_reply <= SMALL["max_tokens"]
    assert boundaries_inside_quotations(LONG, requests) == []
    check_whole(result, LONG)
    assert result.usage.requests == len(requests)
    # Ten "dismissed" sentences of each kind, each at its own place: overlaps merged.
    assert len(result.events) == 2 * 10
    assert len({e.span.start for e in result.events if e.span}) == 20
    # One name per person, whichever way a chunk named them.
    names = {q.speaker.name for q in result.quotes}
    assert names == {"Dmitry Peskov", "Donald Trump", "Sergei Lavrov"}
    assert all(q.confirmed for q in result.quotes)
    coverage = result.coverage
    assert coverage is not None and coverage.found == len(result.quotes) == 70
    assert coverage.attributed == 70 and coverage.unattributed == []


def test_a_quotation_in_two_chunks_overlap_is_kept_once(server: ScriptedServer) -> None:
    server.responder = Responder()
    result = Extractor(base_url=server.base_url, api_key="k", **SMALL).extract(LONG)
    seen = [chunk_text(r) for r in server.requests]
    starts = [LONG.find(piece) for piece in seen]
    ends = [s + len(p) for s, p in zip(starts, seen, strict=True)]
    assert any(e > s for e, s in zip(ends, starts[1:], strict=False)), "chunks overlap"
    check_whole(result, LONG)


def test_a_short_article_is_one_request(server: ScriptedServer) -> None:
    server.responder = Responder()
    result = Extractor(base_url=server.base_url, api_key="k").extract(SEED)
    assert len(server.requests) == 1 and chunk_text(server.requests[0]) == SEED
    check_whole(result, SEED)


def test_a_context_too_small_for_any_article_is_a_configuration_error(
    server: ScriptedServer,
) -> None:
    with pytest.raises(ConfigurationError, match="context_tokens"):
        Extractor(base_url=server.base_url, api_key="k", context_tokens=1024).extract(SEED)
    assert server.requests == []


# --- a reply cut at max_tokens ----------------------------------------------------------------


def test_a_cut_reply_keeps_what_it_grounded_and_asks_the_rest_again(
    server: ScriptedServer,
) -> None:
    server.responder = responder = Responder()
    responder.cut_when = lambda number: 3 if number == 1 else None  # 3 answers whole, then cut
    result = Extractor(base_url=server.base_url, api_key="k").extract(SEED)
    first, *again = server.requests
    assert chunk_text(first) == SEED and responder.cut == 1
    assert again and all(len(chunk_text(r)) < len(SEED) for r in again)
    # The rest starts at a sentence before where the third answered quotation ends, not at 0.
    third_end = find_quotations(SEED)[2].outer_end
    rest_start = min(SEED.find(chunk_text(r)) for r in again)
    assert 0 < rest_start < third_end
    assert boundaries_inside_quotations(SEED, again) == []
    check_whole(result, SEED)
    assert all(q.confirmed for q in result.quotes)  # the first three from the cut reply
    assert result.usage.requests == len(server.requests)


def test_a_reply_cut_every_time_gives_up_keeping_everything_grounded(
    server: ScriptedServer,
) -> None:
    server.responder = responder = Responder()
    responder.cut_when = lambda number: 0  # always cut after one whole answer
    with pytest.raises(IncompleteOutputError) as caught:
        Extractor(base_url=server.base_url, api_key="k").extract(SEED)
    assert len(server.requests) < 10  # bounded: halves until a chunk cannot shrink
    partial = caught.value.partial
    assert isinstance(partial, ArticleExtraction) and partial.quotes
    for quote in partial.quotes:
        assert quote.span is not None
        assert SEED[quote.span.start : quote.span.end] == quote.span.text
    assert caught.value.usage is not None
    assert caught.value.usage.requests == len(server.requests)


async def test_the_async_twin_handles_a_cut_reply_too(server: ScriptedServer) -> None:
    server.responder = responder = Responder()
    responder.cut_when = lambda number: 3 if number == 1 else None
    async with Extractor(base_url=server.base_url, api_key="k") as extractor:
        result = await extractor.aextract(SEED)
    assert responder.cut == 1 and len(server.requests) > 1
    check_whole(result, SEED)


# --- passes and concurrency ---------------------------------------------------------------------


def test_two_passes_merge_without_duplicates(server: ScriptedServer) -> None:
    server.responder = Responder()
    once = Extractor(base_url=server.base_url, api_key="k", **SMALL).extract(LONG)
    calls = len(server.requests)
    twice = Extractor(base_url=server.base_url, api_key="k", extraction_passes=2, **SMALL).extract(
        LONG
    )
    assert len(server.requests) - calls == 2 * calls
    check_whole(twice, LONG)
    assert len(twice.events) == len(once.events) and len(twice.quotes) == len(once.quotes)
    assert twice.usage.requests == 2 * calls


async def test_aextract_asks_the_chunks_concurrently_within_the_bound(
    server: ScriptedServer,
) -> None:
    server.responder = responder = Responder(meet=3)
    async with Extractor(
        base_url=server.base_url, api_key="k", max_concurrency=3, **SMALL
    ) as extractor:
        result = await extractor.aextract(LONG)
    assert responder.most_in_flight == 3  # three met at the barrier, never a fourth
    check_whole(result, LONG)
    assert boundaries_inside_quotations(LONG, server.requests) == []


def test_extract_asks_the_chunks_one_after_another(server: ScriptedServer) -> None:
    server.responder = responder = Responder(latency=0.01)
    Extractor(base_url=server.base_url, api_key="k", **SMALL).extract(LONG)
    assert responder.most_in_flight == 1


# --- a caller's own schema ----------------------------------------------------------------------


def people_reply(request: dict[str, Any]) -> Reply:
    """HAND-WRITTEN: the first quotation of the chunk, as a person's quote (verbatim)."""
    text = chunk_text(request)
    found = find_quotations(text)
    people = [{"name": "Someone", "quote": text[q.start : q.end]} for q in found[:1]]
    return Reply(completion({"people": people}, name="People"))


def test_a_callers_schema_of_lists_is_merged_across_chunks(server: ScriptedServer) -> None:
    server.responder = people_reply
    result = Extractor(base_url=server.base_url, api_key="k", **SMALL).extract(LONG, schema=People)
    assert len(server.requests) > 5
    assert len(result.data.people) == len(server.requests)  # one new quotation per chunk
    for i, person in enumerate(result.data.people):
        span = result.spans[f"people[{i}].quote"]
        assert LONG[span.start : span.end] == person.quote == span.text
        assert person.span == span
    assert len({p.span.start for p in result.data.people if p.span}) == len(result.data.people)


class Summary(BaseModel):
    """A schema with a field that is not a list."""

    headline: str
    quote: Verbatim
    span: LibrarySpan


def test_a_callers_schema_that_cannot_be_merged_is_refused_before_any_request(
    server: ScriptedServer,
) -> None:
    with pytest.raises(ConfigurationError, match="every field is a list"):
        Extractor(base_url=server.base_url, api_key="k", **SMALL).extract(LONG, schema=Summary)
    assert server.requests == []


def test_the_async_path_gives_the_same_records_as_the_sync_path(server: ScriptedServer) -> None:
    server.responder = Responder()
    extractor = Extractor(base_url=server.base_url, api_key="k", **SMALL)
    sync = extractor.extract(LONG)
    concurrent = asyncio.run(extractor.aextract(LONG))
    assert [q.span for q in sync.quotes] == [q.span for q in concurrent.quotes]
    assert [q.speaker.name for q in sync.quotes] == [q.speaker.name for q in concurrent.quotes]
    assert [e.span for e in sync.events] == [e.span for e in concurrent.events]


def test_a_cut_reply_repeating_a_record_is_a_loop_and_gives_up_at_once(
    server: ScriptedServer,
) -> None:
    event = {
        "kind": "statement",
        "summary": "Peskov spoke.",
        "status": "occurred",
        "evidence": "Peskov's remarks called into question",
    }
    # HAND-WRITTEN: a model looping on one record until max_tokens cuts it.
    looping = json.dumps({"events": [event] * 6})[:-40]
    server.replies.append(Reply(completion(looping, finish_reason="length")))
    with pytest.raises(IncompleteOutputError) as caught:
        Extractor(base_url=server.base_url, api_key="k").extract(SEED)
    assert len(server.requests) == 1
    partial = caught.value.partial
    assert isinstance(partial, ArticleExtraction) and len(partial.events) == 1


def test_records_the_article_itself_repeats_are_not_a_loop(server: ScriptedServer) -> None:
    twice = "\n\n".join([SEED] * 2)
    server.responder = responder = Responder()
    responder.cut_when = lambda number: 3 if number == 1 else None  # events repeat, as the text
    result = Extractor(base_url=server.base_url, api_key="k").extract(twice)
    assert responder.cut == 1 and len(server.requests) > 1
    check_whole(result, twice)
