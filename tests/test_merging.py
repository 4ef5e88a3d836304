"""Merging chunk results: spans shifted to the article, one name per person, duplicates once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from extractor.alignment import ArticleIndex
from extractor.chunking import plan_chunks
from extractor.errors import InputError
from extractor.merging import (
    canonical_names,
    merge_extractions,
    merge_records,
    shift_span,
    shift_spans,
    unify_actor_names,
)
from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    CommitmentKind,
    Event,
    EventKind,
    EventStatus,
    Extraction,
    Polarity,
    Quote,
    QuoteKind,
    Usage,
)
from extractor.spans import Alignment, Span

ARTICLE = (
    Path(__file__).resolve().parents[1] / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
).read_text(encoding="utf-8")
QUOTED = re.compile(r'"([^"]*)"')


def span_of(text: str, passage: str, start: int = 0) -> Span:
    at = text.index(passage, start)
    return Span(start=at, end=at + len(passage), text=passage)


def quote(text: str, passage: str, speaker: str, start: int = 0, **fields: object) -> Quote:
    return Quote(
        text=passage,
        speaker=Actor(name=speaker),
        kind=QuoteKind.DIRECT,
        span=span_of(text, passage, start),
        **fields,  # type: ignore[arg-type]
    )


def commitment(evidence: str, polarity: Polarity, action: str, actor: str = "Trump") -> Commitment:
    return Commitment(
        actor=Actor(name=actor),
        polarity=polarity,
        kind=CommitmentKind.PROMISE,
        action=action,
        evidence=evidence,
        span=span_of(ARTICLE, evidence),
    )


# --- shifting ---------------------------------------------------------------------------------


def test_a_chunk_local_span_becomes_an_article_span() -> None:
    offset = ARTICLE.index("Trump has indicated")
    chunk = ARTICLE[offset:]
    local = ArticleIndex(chunk).find("willing to put people on the ground")[0]
    shifted = shift_span(local, offset, ARTICLE)
    assert ARTICLE[shifted.start : shifted.end] == shifted.text == local.text
    assert shifted.start == local.start + offset
    assert shifted.alignment is local.alignment


def test_shift_spans_rebuilds_every_span_and_leaves_the_chunk_result_alone() -> None:
    offset = ARTICLE.index("Peskov's remarks")
    chunk = ARTICLE[offset:]
    part = ArticleExtraction(
        quotes=[quote(chunk, "specifically asked", "Trump")],
        commitments=[
            Commitment(
                actor=Actor(name="Trump"),
                polarity=Polarity.WILL_NOT,
                kind=CommitmentKind.REFUSAL,
                action="commit American boots on the ground",
                evidence="promised not to commit American boots on the ground",
                span=span_of(chunk, "promised not to commit American boots on the ground"),
            )
        ],
    )
    before = part.model_dump()
    shifted = shift_spans(part, offset, ARTICLE)
    assert part.model_dump() == before
    for record in (*shifted.quotes, *shifted.commitments):
        assert record.span is not None
        assert ARTICLE[record.span.start : record.span.end] == record.span.text
    assert shifted.quotes[0].span == span_of(ARTICLE, "specifically asked")


class Person(BaseModel):
    name: str
    quote: str


class People(BaseModel):
    people: list[Person]


def test_shift_spans_shifts_a_user_schema_extraction() -> None:
    offset = ARTICLE.index("Lavrov dismissed")
    chunk = ARTICLE[offset:]
    local = span_of(chunk, "raise the level of its representation")
    result = Extraction[People](
        data=People(people=[Person(name="Lavrov", quote=local.text)]),
        spans={"people[0].quote": local},
    )
    shifted = shift_spans(result, offset, ARTICLE)
    assert shifted.spans["people[0].quote"] == span_of(ARTICLE, local.text)
    assert result.spans["people[0].quote"] == local


def test_a_span_shifted_by_the_wrong_offset_is_an_error() -> None:
    local = span_of(ARTICLE, "negative attitude")
    with pytest.raises(InputError, match="negative attitude"):
        shift_span(local, 5, ARTICLE)
    with pytest.raises(InputError):
        shift_spans(ArticleExtraction(quotes=[quote(ARTICLE, "one of", "x")]), 3, ARTICLE)


# --- names ------------------------------------------------------------------------------------


def test_a_surname_becomes_the_full_name_everywhere() -> None:
    records: list[Quote | Commitment | Event] = [
        quote(ARTICLE, "specifically asked", "Trump"),
        quote(ARTICLE, "had no problem with it.", "Donald Trump"),
        commitment("promised not to commit American boots", Polarity.WILL_NOT, "commit boots"),
        Event(
            kind=EventKind.MEETING,
            summary="Trump and Putin met in Alaska.",
            actors=[Actor(name="Trump"), Actor(name="Russian President Vladimir Putin")],
            status=EventStatus.OCCURRED,
            evidence="The summit in Alaska",
        ),
        quote(ARTICLE, "negative attitude", "Peskov"),
        quote(ARTICLE, "one of the root causes", "Kremlin spokesman Dmitry Peskov"),
        quote(ARTICLE, "raise the level", "Putin"),
    ]
    unified = unify_actor_names(records)
    names = [
        actor.name
        for record in unified
        for actor in (
            record.actors
            if isinstance(record, Event)
            else [record.speaker if isinstance(record, Quote) else record.actor]
        )
    ]
    assert names == [
        "Donald Trump",
        "Donald Trump",
        "Donald Trump",
        "Donald Trump",
        "Vladimir Putin",
        "Dmitry Peskov",
        "Dmitry Peskov",
        "Vladimir Putin",
    ]
    assert records[0].speaker.name == "Trump"  # type: ignore[union-attr]  # inputs unchanged


def test_one_event_naming_a_person_twice_keeps_one_actor() -> None:
    event = Event(
        kind=EventKind.MEETING,
        summary="Trump met Putin.",
        actors=[Actor(name="Trump"), Actor(name="Putin"), Actor(name="Donald Trump", role="US")],
        status=EventStatus.OCCURRED,
        evidence="The summit in Alaska",
    )
    (unified,) = unify_actor_names([event])
    assert unified.actors == [Actor(name="Donald Trump", role="US"), Actor(name="Putin")]


def test_people_sharing_a_surname_keep_their_names() -> None:
    names = ["Donald Trump", "Melania Trump", "Trump", "Donald J. Trump"]
    assert canonical_names(names) == {"Donald Trump": "Donald J. Trump"}
    assert canonical_names(["Trump", "Donald Trump", "Melania Trump"]) == {}


def test_single_names_and_bodies_are_left_alone() -> None:
    names = ["Russia", "Kremlin", "The Wall Street Journal", "Politico", "NATO", "he"]
    assert canonical_names(names) == {}
    assert canonical_names(["President Donald Trump"]) == {}


# --- merging records --------------------------------------------------------------------------


def test_a_record_found_by_two_chunks_is_kept_once() -> None:
    first = [quote(ARTICLE, "negative attitude", "Dmitry Peskov")]
    second = [
        quote(ARTICLE, "negative attitude", "Dmitry Peskov", verb="said"),
        quote(ARTICLE, "one of the root causes", "Dmitry Peskov"),
    ]
    merged = merge_records([first, second])
    assert [q.text for q in merged] == ["negative attitude", "one of the root causes"]
    assert merged[0].verb == "said"  # the same span: more filled fields win


def test_a_quote_the_model_attributed_beats_one_by_the_rules_only() -> None:
    by_rules = quote(ARTICLE, "negative attitude", "Dmitry Peskov", verb="said", confirmed=False)
    by_model = quote(ARTICLE, "negative attitude", "Peskov")
    assert merge_records([[by_rules], [by_model]]) == [by_model]
    assert merge_records([[by_model], [by_rules]]) == [by_model]


def test_the_longer_span_wins() -> None:
    short = commitment("not to commit American boots on the ground", Polarity.WILL_NOT, "a")
    long = commitment("promised not to commit American boots on the ground", Polarity.WILL_NOT, "b")
    assert merge_records([[short], [long]]) == [long]
    assert merge_records([[long], [short]]) == [long]


def test_records_of_one_chunk_are_never_merged_together() -> None:
    sentence = (
        "Trump has indicated he's willing to use U.S. airpower to support European forces "
        "in Ukraine but promised not to commit American boots on the ground."
    )
    airpower = commitment(sentence, Polarity.WILL, "use U.S. airpower")
    boots = commitment(sentence, Polarity.WILL, "commit boots")
    assert merge_records([[airpower, boots]]) == [airpower, boots]
    # from another chunk, the first record of the same span and polarity takes it
    assert merge_records([[airpower, boots], [airpower]]) == [airpower, boots]


def test_different_polarity_or_kind_is_not_the_same_record() -> None:
    evidence = "promised not to commit American boots on the ground"
    will = commitment(evidence, Polarity.WILL, "x")
    will_not = commitment(evidence, Polarity.WILL_NOT, "x")
    assert len(merge_records([[will], [will_not]])) == 2


def test_spans_that_barely_overlap_are_different_records() -> None:
    a = quote(ARTICLE, "Trump said he had", "x")
    b = quote(ARTICLE, 'had "specifically asked" Putin about the matter', "x")
    assert len(merge_records([[a], [b]])) == 2
    assert len(merge_records([[a], [b]], min_overlap=0.01)) == 1


def test_the_same_passage_at_two_places_is_two_records() -> None:
    text = ARTICLE * 2
    first = quote(text, "negative attitude", "Dmitry Peskov")
    second = quote(text, "negative attitude", "Dmitry Peskov", start=len(ARTICLE))
    assert merge_records([[first], [second]]) == [first, second]


def test_spanless_records_merge_only_when_equal() -> None:
    event = Event(
        kind=EventKind.MEETING, summary="s", status=EventStatus.PLANNED, evidence="formal meeting"
    )
    other = event.model_copy(update={"summary": "t"})
    assert merge_records([[event], [event], [other]]) == [event, other]


def test_merge_extractions_sums_usage_and_orders_records() -> None:
    first = ArticleExtraction(
        quotes=[quote(ARTICLE, "one of the root causes", "Peskov")],
        usage=Usage(requests=1, prompt_tokens=10, completion_tokens=5, total_tokens=15),
        published=None,
    )
    second = ArticleExtraction(
        quotes=[
            quote(ARTICLE, "negative attitude", "Dmitry Peskov"),
            quote(ARTICLE, "one of the root causes", "Dmitry Peskov"),
        ],
        usage=Usage(requests=2, prompt_tokens=20, completion_tokens=7, total_tokens=27),
        published=__import__("datetime").date(2025, 8, 27),
    )
    merged = merge_extractions([first, second])
    assert [q.text for q in merged.quotes] == ["negative attitude", "one of the root causes"]
    assert {q.speaker.name for q in merged.quotes} == {"Dmitry Peskov"}
    assert merged.usage == Usage(
        requests=3, prompt_tokens=30, completion_tokens=12, total_tokens=42
    )
    assert str(merged.published) == "2025-08-27"


# --- property: chunk, extract per chunk, shift, merge ------------------------------------------


def extract_chunk(chunk_text: str, index: int) -> ArticleExtraction:
    """A stand-in for a model: every double-quoted passage of the chunk, grounded in the chunk."""
    grounding = ArticleIndex(chunk_text)
    quotes = []
    for m in QUOTED.finditer(chunk_text):
        spans = [s for s in grounding.find(m.group(1)) if s.start == m.start(1)]
        assert len(spans) == 1
        speaker = "Trump" if index % 2 else "Donald Trump"
        quotes.append(
            Quote(
                text=m.group(1), speaker=Actor(name=speaker), kind=QuoteKind.DIRECT, span=spans[0]
            )
        )
    return ArticleExtraction(quotes=quotes)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=10),
    st.integers(min_value=60, max_value=6000),
    st.integers(min_value=0, max_value=800),
)
def test_chunking_then_merging_never_loses_or_shifts_a_span(
    repeats: int, budget: int, overlap: int
) -> None:
    text = ARTICLE * repeats
    protected = [(m.start(), m.end()) for m in QUOTED.finditer(text)]
    chunks = plan_chunks(text, budget_chars=budget, overlap_chars=overlap, protected=protected)
    parts = [
        shift_spans(extract_chunk(chunk.text_of(text), i), chunk.start, text)
        for i, chunk in enumerate(chunks)
    ]
    merged = merge_extractions(parts)
    expected = [(m.start(1), m.end(1)) for m in QUOTED.finditer(text)]
    assert [(q.span.start, q.span.end) for q in merged.quotes if q.span] == expected
    for q in merged.quotes:
        assert q.span is not None
        assert text[q.span.start : q.span.end] == q.span.text == q.text
        assert q.span.alignment is Alignment.EXACT
    given_names = {q.speaker.name for part in parts for q in part.quotes}
    if "Donald Trump" in given_names:  # "Trump" of the odd chunks is him everywhere
        assert {q.speaker.name for q in merged.quotes} == {"Donald Trump"}
