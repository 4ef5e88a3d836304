"""Tests for grounding: verbatim values looked up in the article, spans filled, issues reported."""

from __future__ import annotations

from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from extractor import alignment
from extractor.alignment import ArticleIndex, nearest_to
from extractor.grounding import (
    GroundingIssue,
    format_path,
    ground,
    library_fields,
    verbatim_fields,
    without_ungrounded,
)
from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    CommitmentKind,
    Event,
    EventKind,
    EventStatus,
    Polarity,
    Quote,
    QuoteKind,
)
from extractor.spans import Alignment, LibrarySpan, Verbatim

ARTICLE = (
    "Kremlin spokesman Dmitry Peskov said Moscow held a \u201cnegative attitude\u201d toward "
    "the plan. \u201cWe don\u2019t accept foreign troops,\u201d Peskov said on Wednesday. "
    "Leaders met last week in Washington to discuss the proposal."
)

# "No deal." occurs twice: once near Peskov, once near Rubio, with filler in between.
REPEATED = (
    'Peskov said: "No deal." Reporters waited for hours in the cold outside the hall, '
    "and nobody came out to speak to them until late in the evening. "
    'Then Rubio said: "No deal."'
)


def quote(text: str, speaker: str = "Dmitry Peskov") -> Quote:
    return Quote(text=text, speaker=Actor(name=speaker), kind=QuoteKind.DIRECT)


def event(evidence: str) -> Event:
    return Event(
        kind=EventKind.MEETING,
        summary="Leaders met.",
        status=EventStatus.OCCURRED,
        evidence=evidence,
    )


def commitment(evidence: str) -> Commitment:
    return Commitment(
        actor=Actor(name="Russia"),
        polarity=Polarity.WILL_NOT,
        kind=CommitmentKind.REFUSAL,
        action="accept foreign troops",
        evidence=evidence,
    )


def assert_points_into(article: str, span: object) -> None:
    assert span is not None
    assert article[span.start : span.end] == span.text  # type: ignore[attr-defined]


# field markers and paths


def test_verbatim_and_library_fields_of_the_builtin_records() -> None:
    assert verbatim_fields(Quote) == ["text"]
    assert library_fields(Quote) == ["span"]
    assert verbatim_fields(Event) == ["evidence"]
    assert verbatim_fields(Commitment) == ["evidence"]
    assert verbatim_fields(Actor) == []
    assert library_fields(ArticleExtraction) == []


def test_format_path() -> None:
    assert format_path(("quotes", 2, "text")) == "quotes[2].text"
    assert format_path(("events", 0, "actors", 1, "name")) == "events[0].actors[1].name"
    assert format_path(("text",)) == "text"
    assert format_path(("people", 0)) == "people[0]"
    assert format_path(()) == ""


# spans


def test_ground_fills_every_span_with_article_text() -> None:
    extraction = ArticleExtraction(
        events=[event("Leaders met last week in Washington")],
        quotes=[quote("negative attitude")],
        commitments=[commitment("Leaders met last week")],
    )
    report = ground(extraction, ArticleIndex(ARTICLE))

    assert report.issues == []
    assert set(report.spans) == {"events[0].evidence", "quotes[0].text", "commitments[0].evidence"}
    for record in (*extraction.events, *extraction.quotes, *extraction.commitments):
        assert_points_into(ARTICLE, record.span)
    assert extraction.quotes[0].span is not None
    assert extraction.quotes[0].span.start == ARTICLE.index("negative attitude")
    assert extraction.quotes[0].span.alignment is Alignment.EXACT
    assert report.spans["quotes[0].text"] == extraction.quotes[0].span
    assert extraction.events[0].span is not None
    assert extraction.events[0].span.text == "Leaders met last week in Washington"


def test_straight_quotes_match_curly_ones_as_normalized() -> None:
    extraction = ArticleExtraction(quotes=[quote("We don't accept foreign troops,")])
    report = ground(extraction, ArticleIndex(ARTICLE))

    span = extraction.quotes[0].span
    assert report.issues == []
    assert span is not None
    assert span.alignment is Alignment.NORMALIZED
    assert span.text == "We don\u2019t accept foreign troops,"
    assert_points_into(ARTICLE, span)


def test_identical_records_get_distinct_occurrences() -> None:
    extraction = ArticleExtraction(
        quotes=[quote("No deal.", "An official"), quote("No deal.", "An official")]
    )
    ground(extraction, ArticleIndex(REPEATED))

    first, second = (q.span for q in extraction.quotes)
    assert first is not None and second is not None
    assert (first.start, second.start) == (
        REPEATED.index("No deal."),
        REPEATED.rindex("No deal."),
    )
    assert_points_into(REPEATED, first)
    assert_points_into(REPEATED, second)


def test_repeated_quote_goes_to_the_occurrence_near_its_speaker() -> None:
    rubio = ArticleExtraction(quotes=[quote("No deal.", "Marco Rubio")])
    ground(rubio, ArticleIndex(REPEATED))
    assert rubio.quotes[0].span is not None
    assert rubio.quotes[0].span.start == REPEATED.rindex("No deal.")

    peskov = ArticleExtraction(quotes=[quote("No deal.", "Dmitry Peskov")])
    ground(peskov, ArticleIndex(REPEATED))
    assert peskov.quotes[0].span is not None
    assert peskov.quotes[0].span.start == REPEATED.index("No deal.")


def test_speakers_listed_out_of_order_still_get_their_own_occurrence() -> None:
    extraction = ArticleExtraction(
        quotes=[quote("No deal.", "Marco Rubio"), quote("No deal.", "Dmitry Peskov")]
    )
    ground(extraction, ArticleIndex(REPEATED))
    starts = [q.span.start for q in extraction.quotes if q.span is not None]
    assert starts == [REPEATED.rindex("No deal."), REPEATED.index("No deal.")]


# issues


def test_invented_quote_is_reported_with_path_value_and_closest_passage() -> None:
    invented = "Moscow held a negative attitude toward the plan"  # marks dropped: not verbatim
    extraction = ArticleExtraction(quotes=[quote("negative attitude"), quote(invented)])
    report = ground(extraction, ArticleIndex(ARTICLE))

    assert len(report.issues) == 1
    issue = report.issues[0]
    assert issue.path == ("quotes", 1, "text")
    assert issue.value == invented
    assert issue.closest is not None
    assert issue.closest in ARTICLE
    assert issue.closest.startswith("Moscow held a \u201cnegative attitude\u201d")
    line = issue.describe()
    assert line.startswith("quotes[1].text: ")
    assert f'"{invented}" is not in the article' in line
    assert f'the closest passage is "{issue.closest}"' in line
    assert extraction.quotes[1].span is None
    assert "quotes[1].text" not in report.spans
    assert "quotes[0].text" in report.spans
    assert "- quotes[1].text:" in report.message()


def test_invented_quote_with_nothing_near_has_no_hint() -> None:
    extraction = ArticleExtraction(quotes=[quote("zzzz qqq xxx")])
    [issue] = ground(extraction, ArticleIndex(ARTICLE)).issues
    assert issue.closest is None
    assert issue.describe() == 'quotes[0].text: "zzzz qqq xxx" is not in the article'


def test_describe_shortens_long_values() -> None:
    issue = GroundingIssue(("quotes", 0, "text"), "x" * 300, None)
    line = issue.describe()
    assert '"' + "x" * 157 + '..."' in line
    assert "x" * 158 not in line


# without_ungrounded


def test_without_ungrounded_drops_exactly_the_failing_items() -> None:
    extraction = ArticleExtraction(
        events=[event("Leaders never met"), event("Leaders met last week")],
        quotes=[quote("negative attitude"), quote("invented one"), quote("the plan")],
        commitments=[commitment("Leaders met last week")],
    )
    report = ground(extraction, ArticleIndex(ARTICLE))
    assert {format_path(i.path) for i in report.issues} == {
        "events[0].evidence",
        "quotes[1].text",
    }

    kept = without_ungrounded(extraction, report.issues)

    assert isinstance(kept, ArticleExtraction)
    assert [e.evidence for e in kept.events] == ["Leaders met last week"]
    assert [q.text for q in kept.quotes] == ["negative attitude", "the plan"]
    assert [c.evidence for c in kept.commitments] == ["Leaders met last week"]
    assert kept.quotes[1].span == extraction.quotes[2].span  # grounded spans survive
    # the original is left alone
    assert len(extraction.events) == 2
    assert len(extraction.quotes) == 3


def test_without_ungrounded_with_no_issues_is_an_equal_copy() -> None:
    extraction = ArticleExtraction(quotes=[quote("negative attitude")])
    ground(extraction, ArticleIndex(ARTICLE))
    kept = without_ungrounded(extraction, [])
    assert kept == extraction
    assert kept is not extraction


class Single(BaseModel):
    text: Verbatim


def test_without_ungrounded_gives_none_when_the_value_is_not_in_a_list() -> None:
    record = Single(text="nowhere to be found")
    report = ground(record, ArticleIndex(ARTICLE))
    assert [format_path(i.path) for i in report.issues] == ["text"]
    assert without_ungrounded(record, report.issues) is None


class Claim(BaseModel):
    """A user schema with verbatim fields in every shape."""

    maybe: Verbatim | None = None
    several: list[Verbatim] = []


class Claims(BaseModel):
    by_speaker: dict[str, list[Claim]]


def test_optional_and_list_verbatim_fields_are_grounded() -> None:
    index = ArticleIndex(ARTICLE)
    real = ARTICLE[10:40]
    claims = Claims(
        by_speaker={"x": [Claim(maybe="invented words", several=[real, "also invented"])]}
    )
    report = ground(claims, index)
    assert sorted(format_path(issue.path) for issue in report.issues) == [
        "by_speaker.x[0].maybe",
        "by_speaker.x[0].several[1]",
    ]
    assert report.spans["by_speaker.x[0].several[0]"].text == real
    assert verbatim_fields(Claim) == ["maybe", "several"]


def test_partial_through_a_dict_drops_only_the_bad_items() -> None:
    index = ArticleIndex(ARTICLE)
    good, bad = Claim(several=[ARTICLE[10:40]]), Claim(maybe="invented words")
    claims = Claims(by_speaker={"x": [good, bad]})
    partial = without_ungrounded(claims, ground(claims, index).issues)
    assert isinstance(partial, Claims)
    assert partial.by_speaker == {"x": [good]}


@pytest.mark.parametrize(
    ("article", "quote", "first_speaker", "second_speaker"),
    [
        # Putin's name stands closer to the end of Trump's quote than to the start of his own.
        (
            'Trump said "we will win". Later, Putin said "we will win". Then silence.',
            "we will win",
            "Donald Trump",
            "Vladimir Putin",
        ),
        # "Feb." is an abbreviation, not a sentence end between Trump and his quote.
        (
            'Trump said on Feb. 24 that "we want peace". Then Putin, staring at Trump for a long '
            'moment, said "we want peace".',
            "we want peace",
            "Donald Trump",
            "Putin",
        ),
    ],
)
def test_repeated_quote_goes_to_the_speaker_named_in_its_sentence(
    article: str, quote: str, first_speaker: str, second_speaker: str
) -> None:
    # Listed in reverse order of appearance: placement must not follow list order.
    extraction = ArticleExtraction(
        quotes=[
            Quote(text=quote, speaker=Actor(name=second_speaker), kind=QuoteKind.DIRECT),
            Quote(text=quote, speaker=Actor(name=first_speaker), kind=QuoteKind.DIRECT),
        ]
    )
    ground(extraction, ArticleIndex(article))
    second, first = (q.span for q in extraction.quotes)
    assert first is not None and second is not None
    assert first.start == article.index(quote)
    assert second.start == article.rindex(quote)


class Nested(BaseModel):
    """Verbatim strings inside other containers."""

    by_key: dict[str, Verbatim] = {}
    grid: list[list[Verbatim]] = []
    tags: frozenset[Verbatim] = frozenset()


def test_verbatim_strings_in_any_container_are_grounded() -> None:
    index = ArticleIndex(ARTICLE)
    real = ARTICLE[10:40]
    nested = Nested(
        by_key={"a": "made up"}, grid=[[real, "also made up"]], tags=frozenset({"x y z"})
    )
    report = ground(nested, index)
    assert sorted(format_path(issue.path) for issue in report.issues) == [
        "by_key.a",
        "grid[0][1]",
        "tags[0]",
    ]
    assert report.spans["grid[0][0]"].text == real
    # No partial can be made by dropping from a dict value or a set: say so rather than guess.
    assert without_ungrounded(nested, report.issues) is None


def test_span_of_a_list_verbatim_field_is_its_first_string() -> None:
    class Said(BaseModel):
        lines: list[Verbatim]
        span: LibrarySpan = None

    said = Said(lines=[ARTICLE[10:40], ARTICLE[50:70]])
    ground(said, ArticleIndex(ARTICLE))
    assert said.span is not None and said.span.text == ARTICLE[10:40]


# a verbatim field holds the article's own characters


def test_a_grounded_value_becomes_the_articles_text() -> None:
    article = (
        "The minister said we will talk soon. "
        "\u201cWe don\u2019t accept foreign troops,\u201d he said."
    )
    extraction = ArticleExtraction(
        quotes=[quote('"we will talk soon"'), quote("We don't accept  foreign troops,")]
    )
    report = ground(extraction, ArticleIndex(article))
    assert report.issues == []
    first, second = extraction.quotes
    assert first.text == "we will talk soon"  # marks the article does not have are gone
    assert second.text == "We don\u2019t accept foreign troops,"
    for record in extraction.quotes:
        assert record.span is not None
        assert record.text == record.span.text
        assert record.span.alignment is Alignment.NORMALIZED
        assert_points_into(article, record.span)


def test_an_exact_value_is_left_as_it_is() -> None:
    extraction = ArticleExtraction(quotes=[quote("negative attitude")])
    ground(extraction, ArticleIndex(ARTICLE))
    assert extraction.quotes[0].text == "negative attitude"
    assert extraction.quotes[0].span is not None
    assert extraction.quotes[0].span.alignment is Alignment.EXACT


def test_verbatim_strings_in_containers_become_the_articles_text() -> None:
    index = ArticleIndex(ARTICLE)
    claims = Claims(by_speaker={"x": [Claim(maybe='"the plan"', several=["We don't accept"])]})
    nested = Nested(by_key={"a": "We don't accept"}, grid=[["foreign  troops"]])
    ground(claims, index)
    ground(nested, index)
    claim = claims.by_speaker["x"][0]
    assert claim.maybe == "the plan"
    assert claim.several == ["We don\u2019t accept"]
    assert nested.by_key == {"a": "We don\u2019t accept"}
    assert nested.grid == [["foreign troops"]]


# placing many records quoting the same passage


@given(
    st.lists(
        st.sampled_from(["No deal", "Li", "Wu", "said", "waited", ".", "\u201c"]), max_size=40
    ),
    st.lists(
        st.tuples(
            st.sampled_from(["No deal", "said", "deal"]),
            st.sampled_from(["Ann Li", "Bo Wu", "Nobody Here"]),
        ),
        max_size=12,
    ),
    st.sampled_from([1, 2, 16]),
)
@settings(max_examples=300, deadline=None)
def test_property_placement_is_nearest_free_occurrence(
    words: list[str], records: list[tuple[str, str]], many_anchors: int
) -> None:
    article = " ".join(words)
    # The article is made of the words: "No deal" repeated, speakers' names, sentence ends.
    index = ArticleIndex(article)
    extraction = ArticleExtraction(quotes=[quote(text, speaker) for text, speaker in records])
    # What grounding did before it was made fast: every free occurrence measured per record.
    expected = []
    taken: set[tuple[int, int]] = set()
    for text, speaker in records:
        found = index.find(text)
        if not found:
            expected.append(None)
            continue
        free = [s for s in found if (s.start, s.end) not in taken] or found
        anchors = [s.start for s in index.find(speaker.split()[-1])]
        chosen = nearest_to(free, anchors, index.sentence_ends) if len(free) > 1 else free[0]
        taken.add((chosen.start, chosen.end))
        expected.append(chosen)
    with mock.patch.object(alignment, "_MANY_ANCHORS", many_anchors):  # rank, or look around
        ground(extraction, index)
    assert [q.span for q in extraction.quotes] == expected


def test_placing_repeated_quotes_does_not_measure_every_occurrence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    article = "Peskov spoke. " + " ".join(['Then "No deal." Silence.'] * 400)
    measured = 0
    real = alignment._crosses

    def counting(ends: list[int], start: int, end: int) -> bool:
        nonlocal measured
        measured += 1
        return real(ends, start, end)

    monkeypatch.setattr(alignment, "_crosses", counting)
    extraction = ArticleExtraction(quotes=[quote("No deal.") for _ in range(200)])
    report = ground(extraction, ArticleIndex(article))
    assert len(report.spans) == 200
    assert len({(q.span.start if q.span else -1) for q in extraction.quotes}) == 200
    # Before: each record measured every free occurrence (about 60,000 measurements here).
    assert measured <= 10 * (200 + 400)
