"""Tests for finding model-copied passages in the article and mapping them to offsets."""

from __future__ import annotations

import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from extractor.alignment import (
    ArticleIndex,
    _strip_passage,
    crosses_sentence_end,
    nearest_to,
    normalize,
)
from extractor.spans import Alignment, Span

ALPHABET = "abcXY \n\t\u00a0\"'\u201c\u201d\u2018\u2019-\u2013\u2014\u2026."
TYPOGRAPHIC = {'"': "\u201c\u201d", "'": "\u2019\u2018", "-": "\u2014\u2013", " ": "\n\u00a0"}
PROPERTY = settings(max_examples=200, deadline=None)


def assert_valid(index: ArticleIndex, passage: str, spans: list[Span]) -> None:
    """Every span points at its own text and normalises to the same text as the passage."""
    wanted = normalize(_strip_passage(passage))[0]
    for span in spans:
        assert index.article[span.start : span.end] == span.text
        assert normalize(span.text)[0] == wanted
    assert [s.start for s in spans] == sorted(s.start for s in spans)


# normalize


def test_normalize_maps_typography() -> None:
    text = "\u201cHi\u201d \u2018yo\u2019 a\u2014b \u00ab\u00bb 5\u2032"
    assert normalize(text)[0] == '"Hi" \'yo\' a-b "" 5\''


def test_normalize_ellipsis_maps_three_chars_to_one_offset() -> None:
    normalised, offsets = normalize("a\u2026b")
    assert normalised == "a...b"
    assert offsets == [0, 1, 1, 1, 2]


def test_normalize_collapses_white_space_runs() -> None:
    normalised, offsets = normalize("a \n\u00a0\tb\r\nc")
    assert normalised == "a b c"
    assert offsets == [0, 1, 5, 6, 8]


def test_normalize_keeps_case_and_folds_compatibility_forms() -> None:
    assert normalize("\ufb01ne ABC \uff02x\uff02")[0] == 'fine ABC "x"'


# find


@pytest.mark.parametrize(
    ("article", "passage", "expected"),
    [
        ("He said \u201cwe will\u201d win.", 'said "we will" win', "said \u201cwe will\u201d win"),
        ('He said "we will" win.', "said \u201cwe will\u201d win", 'said "we will" win'),
        ("It\u2019s done.", "It's done", "It\u2019s done"),
        ("A well\u2014known fact.", "well-known fact", "well\u2014known fact"),
        ("a long-term plan", "long\u2013term plan", "long-term plan"),
        ("taxes will\nrise  soon", "will rise soon", "will\nrise  soon"),
        ("wait\u2026 what", "wait... what", "wait\u2026 what"),
        ("wait... what", "wait\u2026 what", "wait... what"),
    ],
)
def test_find_normalized(article: str, passage: str, expected: str) -> None:
    index = ArticleIndex(article)
    spans = index.find(passage)
    assert [s.text for s in spans] == [expected]
    assert spans[0].alignment is Alignment.NORMALIZED
    assert_valid(index, passage, spans)


def test_find_exact_first() -> None:
    index = ArticleIndex("The mayor said: we will win.")
    assert index.find("we will win") == [Span(start=16, end=27, text="we will win")]


def test_find_every_occurrence_sorted() -> None:
    article = "We act now. Later, we act now. And \u201cwe act now\u201d."
    index = ArticleIndex(article)
    spans = index.find("act now")
    assert [s.start for s in spans] == [3, 22, 39]
    assert all(s.alignment is Alignment.EXACT for s in spans)
    normalized = index.find("act\u00a0now")
    assert [s.start for s in normalized] == [3, 22, 39]
    assert all(s.alignment is Alignment.NORMALIZED for s in normalized)


@pytest.mark.parametrize(
    "passage",
    [
        '"we will win"',
        "\u201cwe will win\u201d",
        "\u2018we will win\u2019",
        "'we will win'",
        "\u00abwe will win\u00bb",
        '  "we will win  ',
        "we will win\u201d ",
    ],
)
def test_find_strips_quote_marks(passage: str) -> None:
    index = ArticleIndex("She said \u201cwe will win\u201d on Monday.")
    assert [s.text for s in index.find(passage)] == ["we will win"]


@pytest.mark.parametrize("passage", ["", "   ", '""', "\u201c \u201d"])
def test_find_empty_passage(passage: str) -> None:
    assert ArticleIndex("Some article text.").find(passage) == []


def test_find_missing_passage() -> None:
    assert ArticleIndex("The council met on Tuesday.").find("the council met") == []


def test_find_skips_matches_inside_an_ellipsis() -> None:
    index = ArticleIndex("Well\u2026 ok")
    assert index.find("..") == []
    assert [s.text for s in index.find("...")] == ["\u2026"]


# closest


def test_closest_finds_a_near_miss() -> None:
    article = (
        "The minister told reporters on Monday that "
        "\u201cthe budget will be balanced by 2026\u201d, adding "
        "that spending cuts were not planned."
    )
    index = ArticleIndex(article)
    result = index.closest('"the budget will be balanced by 2027"')
    assert result is not None
    span, score = result
    assert 80 <= score < 100
    assert article[span.start : span.end] == span.text
    assert "budget will be balanced" in span.text
    assert span.alignment is Alignment.NORMALIZED


def test_closest_rejects_unrelated_text() -> None:
    index = ArticleIndex("The council met on Tuesday to discuss road repairs.")
    assert index.closest("Quantum zebras xylophone jukebox") is None
    assert index.closest("") is None
    assert ArticleIndex("").closest("anything") is None


def test_closest_is_fast_on_a_long_article() -> None:
    article = " ".join(f"Sentence number {i} talks about topic {i % 37}." for i in range(250))
    assert len(article) > 10_000
    index = ArticleIndex(article)
    began = time.perf_counter()
    result = index.closest("Sentence number 123 talks about topic 12.")
    assert time.perf_counter() - began < 1.0
    assert result is not None
    assert "Sentence number 123" in result[0].text


# nearest_to


def test_nearest_to() -> None:
    spans = [Span(start=0, end=5, text="aaaaa"), Span(start=50, end=55, text="bbbbb")]
    assert nearest_to(spans, []) == spans[0]
    assert nearest_to(spans, [60]) == spans[1]
    assert nearest_to(spans, [52]) == spans[1]
    assert nearest_to(spans, [100, 3]) == spans[0]
    with pytest.raises(ValueError):
        nearest_to([], [1])


# properties


@PROPERTY
@given(st.data(), st.text(ALPHABET, min_size=1, max_size=60))
def test_property_substring_is_found(data: st.DataObject, text: str) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    passage = text[start:end]
    assume(passage.strip() and _strip_passage(passage) == passage)
    index = ArticleIndex(text)
    spans = index.find(passage)
    assert_valid(index, passage, spans)
    assert any(s.start == start and s.text == passage for s in spans)


@PROPERTY
@given(st.data(), st.text(ALPHABET, min_size=1, max_size=60))
def test_property_typographic_variant_is_found(data: st.DataObject, text: str) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    original = text[start:end]
    variant = "".join(
        data.draw(st.sampled_from(c + TYPOGRAPHIC[c])) if c in TYPOGRAPHIC else c for c in original
    )
    assume(_strip_passage(variant))
    index = ArticleIndex(text)
    spans = index.find(variant)
    assert spans
    assert_valid(index, variant, spans)
    if spans[0].alignment is Alignment.NORMALIZED:
        stripped = _strip_passage(original)
        assert any(s.text == stripped and start <= s.start < end for s in spans)


@PROPERTY
@given(st.text(ALPHABET + "\ufb01\uff02\u00ab\u00bb\u2032\u2212", max_size=80))
def test_property_normalize_map(text: str) -> None:
    normalised, offsets = normalize(text)
    assert len(offsets) == len(normalised)
    assert offsets == sorted(offsets)
    assert all(0 <= o < len(text) for o in offsets)
    assert "  " not in normalised
    assert normalize(normalised)[0] == normalised


@PROPERTY
@given(st.text(ALPHABET, max_size=60), st.text(ALPHABET, max_size=20))
def test_property_closest_spans_are_valid(text: str, passage: str) -> None:
    index = ArticleIndex(text)
    result = index.closest(passage, min_score=0.0)
    if result is not None:
        span, score = result
        assert text[span.start : span.end] == span.text
        assert 0.0 <= score <= 100.0


@pytest.mark.parametrize(
    ("text", "crosses"),
    [
        ("on Feb. 24 that", False),
        ("the U.S. Army", False),
        ("Mr. Li said", False),
        ("said J. Smith", False),
        ('peace". Then Putin', True),
        ("win. Later, Putin", True),
        ("win! Putin", True),
        ("in 2022. Then", True),
    ],
)
def test_sentence_ends(text: str, crosses: bool) -> None:
    assert crosses_sentence_end(text, 0, len(text)) is crosses
