"""Scoring against gold (extractor.evaluation): the matching rules, the figures, the recording."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
import vcr
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor import Article, ArticleExtraction, Extractor
from extractor.evaluation import Counts, covered, evaluate, normalise_name, same_actor
from extractor.gold import (
    GoldArticle,
    GoldCommitment,
    GoldEvent,
    GoldQuote,
    GoldSpan,
    read_gold,
)
from extractor.models import (
    Actor,
    Commitment,
    CommitmentKind,
    Event,
    EventKind,
    EventStatus,
    Polarity,
    Quote,
    QuoteKind,
)
from extractor.spans import Alignment, Span

ROOT = Path(__file__).resolve().parents[1]
RECORDING = ROOT / "examples" / "recordings" / "peacekeepers-2025-08-27.yaml"

TEXT = (
    'Mayor Ann Lee said: "We will open the bridge in May." Councillor Bo Diaz said he would '
    "not vote for it. The council met on Monday."
)


def at(passage: str, text: str = TEXT) -> GoldSpan:
    start = text.index(passage)
    return GoldSpan(start=start, end=start + len(passage), text=passage)


def span(start: int, end: int, text: str = TEXT, alignment: Alignment = Alignment.EXACT) -> Span:
    return Span(start=start, end=end, text=text[start:end], alignment=alignment)


def pred_quote(start: int, end: int, speaker: str = "Ann Lee") -> Quote:
    return Quote(
        text=TEXT[start:end],
        speaker=Actor(name=speaker),
        kind=QuoteKind.DIRECT,
        span=span(start, end),
    )


def gold(**records: object) -> GoldArticle:
    return GoldArticle(id="a", text=TEXT, **records)  # type: ignore[arg-type]


def result(**records: object) -> ArticleExtraction:
    return ArticleExtraction(**records)  # type: ignore[arg-type]


BRIDGE = at("We will open the bridge in May.")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Dmitry Peskov", "dmitry  PESKOV", True),  # case and white space
        ("Peskov", "Dmitry Peskov", True),  # a surname matches the full name
        ("Donald Trump", "President Donald J. Trump", True),  # title dropped, middle initial
        ("Donald Trump Jr.", "Donald Trump", True),  # suffix dropped
        ("the Kremlin", "Kremlin", True),
        ("José Ramos-Horta", "Jose Ramos Horta", True),  # accents, hyphens
        ("Donald", "Donald Trump", False),  # a first name alone does not
        ("Hillary Clinton", "Bill Clinton", False),  # a namesake does not
        ("Trump", "Peskov", False),
        ("", "Peskov", False),
        ("President", "Prime Minister", False),  # titles only: kept, and different
    ],
)
def test_speakers_compare_by_normalised_words(a: str, b: str, same: bool) -> None:
    assert same_actor(a, b) is same
    assert same_actor(b, a) is same


def test_normalise_name_drops_titles_only_in_front() -> None:
    assert normalise_name("President Donald J. Trump Jr.") == ["donald", "j", "trump"]
    assert normalise_name("Secretary") == ["secretary"]


def test_covered_counts_characters_of_every_fragment() -> None:
    assert covered([(0, 10), (20, 30)], 5, 25) == 10
    assert covered([(0, 10)], 10, 20) == 0


def test_counts_give_precision_recall_and_f1() -> None:
    counts = Counts(gold=4, predicted=2, matched=1)
    assert (counts.precision, counts.recall) == (0.5, 0.25)
    assert counts.f1 == pytest.approx(2 * 0.5 * 0.25 / 0.75)
    assert Counts(gold=3).precision is None and Counts(gold=3).f1 is None
    assert Counts(gold=1, predicted=1, matched=0).f1 == 0.0


def test_a_quote_matches_when_its_span_holds_half_the_gold_and_the_speaker_agrees() -> None:
    g = gold(quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")])
    half = BRIDGE.start + (BRIDGE.end - BRIDGE.start + 1) // 2
    under = BRIDGE.start + (BRIDGE.end - BRIDGE.start) // 2 - 1
    assert (
        evaluate([g], {"a": result(quotes=[pred_quote(BRIDGE.start, half)])})
        .types["quotes"]
        .matched
        == 1
    )
    report = evaluate([g], {"a": result(quotes=[pred_quote(BRIDGE.start, under)])})
    assert report.types["quotes"].matched == 0
    assert [e.why for e in report.errors] == [
        "no prediction covers half of it",
        "covers no gold record by half",
    ]


@pytest.mark.parametrize(("covered_chars", "matched"), [(6, 1), (5, 0)])
def test_exactly_half_of_an_even_length_gold_is_enough_one_less_is_not(
    covered_chars: int, matched: int
) -> None:
    even = at("open the bridge")  # 15 characters: odd; take 12 of them, an even gold
    even = GoldSpan(start=even.start, end=even.start + 12, text=even.text[:12])
    assert len(even.text) == 12
    g = gold(quotes=[GoldQuote(span=even, speaker="Ann Lee")])
    pred = pred_quote(even.start, even.start + covered_chars)
    report = evaluate([g], {"a": result(quotes=[pred])})
    assert report.types["quotes"].matched == matched


def test_a_wrong_speaker_is_a_miss_and_a_false_hit_but_matches_on_span() -> None:
    g = gold(quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")])
    report = evaluate([g], {"a": result(quotes=[pred_quote(BRIDGE.start, BRIDGE.end, "Bo Diaz")])})
    assert report.types["quotes"] == Counts(gold=1, predicted=1, matched=0)
    assert report.quote_spans == Counts(gold=1, predicted=1, matched=1)
    assert (report.speakers.named, report.speakers.named_right) == (1, 0)
    assert report.errors[0].why == (
        "the prediction over it disagrees: speaker 'Bo Diaz', gold 'Ann Lee'"
    )


def test_surname_speaker_matches_the_full_name() -> None:
    g = gold(quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")])
    report = evaluate([g], {"a": result(quotes=[pred_quote(BRIDGE.start, BRIDGE.end, "Lee")])})
    assert report.types["quotes"].matched == 1


def test_matching_is_one_to_one_the_larger_overlap_first() -> None:
    g = gold(quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")])
    small = pred_quote(BRIDGE.start, BRIDGE.start + 20)
    whole = pred_quote(BRIDGE.start, BRIDGE.end)
    report = evaluate([g], {"a": result(quotes=[small, whole])})
    assert report.types["quotes"] == Counts(gold=1, predicted=2, matched=1)
    [false_hit] = [e for e in report.errors if e.error == "false hit"]
    assert false_hit.end == BRIDGE.start + 20


def test_unnamed_and_pronoun_speakers_are_reported_apart() -> None:
    pronoun = at("he would not vote for it")
    g = gold(
        quotes=[
            GoldQuote(span=BRIDGE, speaker=None, speaker_mention="a source"),
            GoldQuote(span=pronoun, speaker="Bo Diaz", speaker_mention="he"),
        ]
    )
    preds = [
        pred_quote(BRIDGE.start, BRIDGE.end, "unknown"),
        pred_quote(pronoun.start, pronoun.end, "Bo Diaz"),
    ]
    report = evaluate([g], {"a": result(quotes=preds)})
    s = report.speakers
    assert (s.named, s.unnamed, s.unnamed_given) == (0, 1, 0)  # 'unknown' names no one
    assert (s.pronoun, s.pronoun_resolved, s.pronoun_right, s.pronoun_given) == (1, 1, 1, 1)
    # an unnamed gold speaker is matched on its span alone, and said to be
    assert report.types["quotes"].matched == 2
    assert (report.speaker_checked.gold, report.speaker_checked.matched) == (1, 1)
    assert report.to_json_dict()["speaker_checked"] == {"gold": 1, "matched": 1, "recall": 1.0}


def test_a_commitment_matches_on_actor_polarity_and_evidence() -> None:
    evidence = at("he would not vote for it")
    g = gold(
        commitments=[GoldCommitment(actor="Bo Diaz", polarity=Polarity.WILL_NOT, span=evidence)]
    )

    def pred(actor: str, polarity: Polarity) -> Commitment:
        return Commitment(
            actor=Actor(name=actor),
            polarity=polarity,
            kind=CommitmentKind.REFUSAL,
            action="vote for it",
            evidence=evidence.text,
            span=span(evidence.start, evidence.end),
        )

    for actor, polarity, matched in [
        ("Councillor Bo Diaz", Polarity.WILL_NOT, 1),
        ("Bo Diaz", Polarity.WILL, 0),
        ("Ann Lee", Polarity.WILL_NOT, 0),
    ]:
        report = evaluate([g], {"a": result(commitments=[pred(actor, polarity)])})
        assert report.types["commitments"].matched == matched, (actor, polarity)


MONDAY = at("The council met on Monday.")


def pred_event(kind: EventKind, date: dt.date | None, end: dt.date | None = None) -> Event:
    return Event(
        kind=kind,
        summary="The council met.",
        status=EventStatus.OCCURRED,
        evidence=MONDAY.text,
        date=date,
        date_end=end or date,
        span=span(MONDAY.start, MONDAY.end),
    )


@pytest.mark.parametrize(
    ("predicted", "matched", "exact"),
    [
        (pred_event(EventKind.MEETING, dt.date(2025, 8, 25)), 1, 1),
        (pred_event(EventKind.MEETING, dt.date(2025, 8, 25), dt.date(2025, 8, 31)), 1, 0),
        (pred_event(EventKind.MEETING, dt.date(2025, 8, 26)), 0, 0),  # ranges apart
        (pred_event(EventKind.MEETING, None), 0, 0),  # undated against dated
        (pred_event(EventKind.STATEMENT, dt.date(2025, 8, 25)), 0, 0),  # another kind
    ],
)
def test_an_event_matches_on_kind_date_range_and_evidence(
    predicted: Event, matched: int, exact: int
) -> None:
    g = gold(events=[GoldEvent(kind=EventKind.MEETING, date=dt.date(2025, 8, 25), span=MONDAY)])
    report = evaluate([g], {"a": result(events=[predicted])})
    assert report.types["events"].matched == matched
    assert report.dates.exact == exact
    same_kind = predicted.kind is EventKind.MEETING
    assert (report.dates.pairs, report.dates.gold_dated) == (int(same_kind), int(same_kind))


def test_undated_gold_and_undated_prediction_match() -> None:
    g = gold(events=[GoldEvent(kind=EventKind.MEETING, span=MONDAY)])
    report = evaluate([g], {"a": result(events=[pred_event(EventKind.MEETING, None)])})
    assert report.types["events"].matched == 1 and report.dates.undated_right == 1
    assert report.dates.accuracy is None


def test_grounding_counts_exact_spans_and_spans_off_the_text() -> None:
    g = gold(quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")])
    normalised = pred_quote(BRIDGE.start, BRIDGE.end).model_copy(
        update={"span": span(BRIDGE.start, BRIDGE.end, alignment=Alignment.NORMALIZED)}
    )
    elsewhere = "x" * len(TEXT)
    off = Quote(
        text="x" * 5,
        speaker=Actor(name="Ann Lee"),
        kind=QuoteKind.DIRECT,
        span=span(0, 5, text=elsewhere),
    )
    report = evaluate([g], {"a": result(quotes=[normalised, off])})
    assert (report.grounding.spans, report.grounding.exact, report.grounding.misplaced) == (2, 1, 1)


def test_records_without_a_span_count_as_predicted_false_hits_and_ungrounded() -> None:
    g = gold(
        quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")],
        events=[GoldEvent(kind=EventKind.MEETING, span=MONDAY)],
    )
    unplaced = pred_quote(BRIDGE.start, BRIDGE.end).model_copy(update={"span": None})
    event = pred_event(EventKind.MEETING, None).model_copy(update={"span": None})
    report = evaluate(
        [g], {"a": result(quotes=[pred_quote(BRIDGE.start, BRIDGE.end), unplaced], events=[event])}
    )
    quotes, events = report.types["quotes"], report.types["events"]
    assert (quotes.gold, quotes.predicted, quotes.matched) == (1, 2, 1)
    assert (events.gold, events.predicted, events.matched) == (1, 1, 0)
    assert report.quote_spans.predicted == 2
    hits = [
        (e.type, e.start, e.end, e.text, e.why) for e in report.errors if e.error == "false hit"
    ]
    assert hits == [
        ("quotes", None, None, BRIDGE.text, "no span: the record is not grounded in the text"),
        ("events", None, None, MONDAY.text, "no span: the record is not grounded in the text"),
    ]
    grounding = report.grounding
    assert (grounding.spans, grounding.exact, grounding.no_span) == (3, 1, 2)
    assert grounding.exact_share == pytest.approx(1 / 3)


def test_spans_into_the_article_body_are_moved_past_its_date_line() -> None:
    text = "date 2025-08-25\n" + TEXT
    g = GoldArticle(
        id="a", text=text, quotes=[GoldQuote(span=at(BRIDGE.text, text), speaker="Ann Lee")]
    )
    body = pred_quote(BRIDGE.start, BRIDGE.end)  # offsets into TEXT, the body
    report = evaluate([g], {"a": result(quotes=[body])})
    assert report.types["quotes"].matched == 1 and report.grounding.misplaced == 0


def test_articles_without_prediction_are_all_missed_and_named() -> None:
    g = gold(quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")])
    report = evaluate([g], {})
    assert report.types["quotes"] == Counts(gold=1) and report.missing_predictions == ["a"]
    failed = evaluate([g], {"a": None}, failed={"a": "ExtractionError: no reply grounded"})
    assert failed.missing_predictions == [] and failed.failed_predictions == {
        "a": "ExtractionError: no reply grounded"
    }


def test_types_and_quote_kinds_the_gold_does_not_annotate_are_not_scored() -> None:
    g = gold(
        annotated=["quotes"],
        quote_kinds=[QuoteKind.DIRECT],
        quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")],
    )
    reported = pred_quote(0, 5).model_copy(update={"kind": QuoteKind.REPORTED})
    event = pred_event(EventKind.MEETING, None)
    report = evaluate([g], {"a": result(quotes=[reported], events=[event])})
    assert list(report.types) == ["quotes"]
    assert report.types["quotes"] == Counts(gold=1, predicted=0, matched=0)


def test_overall_adds_every_type() -> None:
    g = gold(
        quotes=[GoldQuote(span=BRIDGE, speaker="Ann Lee")],
        events=[GoldEvent(kind=EventKind.MEETING, span=MONDAY)],
    )
    report = evaluate([g], {"a": result(quotes=[pred_quote(BRIDGE.start, BRIDGE.end)])})
    assert report.overall == Counts(gold=2, predicted=1, matched=1)
    data = report.to_json_dict()
    assert data["overall"] == {
        "gold": 2,
        "predicted": 1,
        "matched": 1,
        "precision": 1.0,
        "recall": 0.5,
        "f1": pytest.approx(2 / 3),
    }


def test_the_example_recording_scored_against_its_gold(article: Article) -> None:
    """The cassette-replayed extraction of the example article, against gold/gold.jsonl.

    Its reply was written by hand (examples/recordings/); the figures are what it scores, so a
    change in extraction or in scoring changes them.
    """
    [example] = [
        g
        for g in read_gold(ROOT / "gold" / "gold.jsonl")
        if g.article.id == "peacekeepers-2025-08-27"
    ]
    with vcr.use_cassette(str(RECORDING), record_mode="none", match_on=["method", "path"]):
        predicted = Extractor(api_key="replay-no-key").extract(
            article.text, published=article.published
        )
    report = evaluate([example], {"peacekeepers-2025-08-27": predicted})
    assert {name: (c.gold, c.predicted, c.matched) for name, c in report.types.items()} == {
        "quotes": (13, 8, 8),
        "commitments": (5, 3, 3),
        "events": (9, 7, 7),
    }
    assert report.overall == Counts(gold=27, predicted=18, matched=18)
    assert round(report.overall.f1 or 0, 4) == 0.8
    assert (report.speakers.named, report.speakers.named_right) == (8, 8)
    by_kind = {k: (c.gold, c.matched) for k, c in report.quote_kinds.items()}
    assert by_kind == {"reported": (6, 1), "partial": (5, 5), "direct": (2, 2)}
    assert (report.dates.pairs, report.dates.gold_dated, report.dates.exact) == (7, 6, 6)
    assert (report.grounding.spans, report.grounding.exact) == (18, 18)
    misses = sorted((e.type, e.start) for e in report.errors if e.error == "miss")
    assert misses == [
        ("commitments", 1774),
        ("commitments", 1956),
        ("events", 679),
        ("events", 1455),
        ("quotes", 158),
        ("quotes", 619),
        ("quotes", 1645),
        ("quotes", 1730),
        ("quotes", 1792),
    ]


def test_scoring_loads_neither_openai_nor_instructor() -> None:
    code = (
        "import sys, extractor.gold, extractor.evaluation, extractor.brat, extractor.cli_eval, "
        "extractor.result_files; "
        "from extractor.evaluation import offline_predictions; "
        "from extractor.gold import read_gold; "
        "offline_predictions(read_gold(sys.argv[1])); "
        "loaded = [m for m in ('openai', 'instructor') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(ROOT / "gold" / "gold.jsonl")], check=True, timeout=60
    )


def as_prediction(article: GoldArticle) -> ArticleExtraction:
    """The gold records themselves, as a result the library could have given."""

    def placed(s: GoldSpan) -> Span:
        return Span(start=s.start, end=s.end, text=s.text)

    return ArticleExtraction(
        quotes=[
            Quote(
                text=q.span.text,
                speaker=Actor(name=q.speaker or "unknown"),
                kind=q.kind or QuoteKind.DIRECT,
                span=placed(q.span),
            )
            for q in article.quotes
        ],
        commitments=[
            Commitment(
                actor=Actor(name=c.actor),
                polarity=c.polarity,
                kind=c.kind or CommitmentKind.PROMISE,
                action=c.action or "act",
                evidence=c.span.text,
                span=placed(c.span),
            )
            for c in article.commitments
        ],
        events=[
            Event(
                kind=e.kind,
                summary=e.summary or "it happened",
                status=EventStatus.OCCURRED,
                evidence=e.span.text,
                date=e.date,
                date_end=e.date_end,
                span=placed(e.span),
            )
            for e in article.events
        ],
    )


def test_the_shipped_gold_predicted_as_itself_scores_perfectly() -> None:
    gold = read_gold(ROOT / "gold" / "gold.jsonl")
    report = evaluate(gold, {g.article.id: as_prediction(g.article) for g in gold})
    for name, c in report.types.items():
        assert c.gold == c.predicted == c.matched > 0, name
    assert report.errors == [] and report.dates.accuracy == 1.0
    assert report.speakers.named_accuracy == report.speakers.pronoun_accuracy == 1.0


@settings(max_examples=60, deadline=None)
@given(
    gold_spans=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 30)), max_size=6),
    pred_spans=st.lists(st.tuples(st.integers(0, 60), st.integers(1, 30)), max_size=6),
)
def test_counts_and_errors_always_agree(
    gold_spans: list[tuple[int, int]], pred_spans: list[tuple[int, int]]
) -> None:
    """Whatever the spans: one to one, and every unmatched record listed exactly once."""
    text = "abcdefghij" * 10
    g = GoldArticle(
        id="a",
        text=text,
        annotated=["quotes"],
        quotes=[
            GoldQuote(span=GoldSpan(start=a, end=a + n, text=text[a : a + n]), speaker="Ann Lee")
            for a, n in gold_spans
        ],
    )
    preds = [
        Quote(
            text=text[a : a + n],
            speaker=Actor(name="Lee"),
            kind=QuoteKind.DIRECT,
            span=Span(start=a, end=a + n, text=text[a : a + n]),
        )
        for a, n in pred_spans
    ]
    report = evaluate([g], {"a": ArticleExtraction(quotes=preds)})
    c = report.types["quotes"]
    assert c.matched <= min(c.gold, c.predicted)
    assert sum(e.error == "miss" for e in report.errors) == c.gold - c.matched
    assert sum(e.error == "false hit" for e in report.errors) == c.predicted - c.matched
    assert report.quote_spans.matched == c.matched  # the speakers always agree here
