"""Sentences numbered for the prompt: what a record's sentence number s names."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from extractor.prompting import mark_quotations, sentence_marker, strip_markers
from extractor.quotations import find_quotations
from extractor.sentences import Sentence, find_sentences


def texts(text: str, found: tuple[Sentence, ...]) -> list[str]:
    return [text[s.start : s.end] for s in found]


def quoted(text: str) -> list[tuple[int, int]]:
    return [(q.outer_start, q.outer_end) for q in find_quotations(text)]


def test_sentences_end_at_end_marks_not_at_abbreviations_or_initials() -> None:
    text = "On Feb. 24 the U.S. envoy met J. Smith. They talked! Did it help? Nobody knows."
    assert texts(text, find_sentences(text)) == [
        "On Feb. 24 the U.S. envoy met J. Smith.",
        "They talked!",
        "Did it help?",
        "Nobody knows.",
    ]


def test_a_sentence_never_ends_inside_a_quotation() -> None:
    text = '"We will. We must," he said. Then he left.'
    assert texts(text, find_sentences(text, quoted(text))) == [
        '"We will. We must," he said.',
        "Then he left.",
    ]
    # Without the quotation's span, the end inside it would count.
    assert len(find_sentences(text)) == 3


def test_every_line_break_ends_a_sentence_even_inside_an_unclosed_quotation() -> None:
    text = 'Title line\n\n"First paragraph of a quote.\n\n"Second paragraph," she said.'
    assert texts(text, find_sentences(text, quoted(text))) == [
        "Title line",
        '"First paragraph of a quote.',
        '"Second paragraph," she said.',
    ]


def test_start_skips_the_date_line() -> None:
    text = "date 2025-08-27 Russia dismissed it. Peskov spoke."
    found = find_sentences(text, start=len("date 2025-08-27 "))
    assert texts(text, found) == ["Russia dismissed it.", "Peskov spoke."]


def test_the_example_article_has_twelve_sentences_none_cut_in_a_quotation() -> None:
    text = Path("examples/articles/peacekeepers-2025-08-27.txt").read_text(encoding="utf-8")
    spans = quoted(text)
    found = find_sentences(text, spans)
    assert len(found) == 12
    for s in found:
        assert not any(start < s.end < end for start, end in spans)


@given(st.text(alphabet='ab .!?"\n\u201c\u201dQ', max_size=200))
def test_sentences_are_ordered_trimmed_and_disjoint(text: str) -> None:
    found = find_sentences(text, quoted(text))
    last = 0
    for s in found:
        assert last <= s.start < s.end <= len(text)
        piece = text[s.start : s.end]
        assert piece == piece.strip() and piece
        last = s.end


def test_markers_number_sentences_and_quotations_and_come_out_again() -> None:
    text = 'Berg spoke. "We will not," she said.'
    quotations = find_quotations(text)
    sentences = find_sentences(text, quoted(text))
    shown = mark_quotations(text, quotations, 0, sentences)
    assert shown == '\u00a71 Berg spoke. \u00a72 [Q1]"We will not," she said.'
    assert strip_markers(shown) == text


def test_an_article_that_uses_the_section_sign_gets_other_sentence_markers() -> None:
    text = "Under \u00a7 230 the firms are shielded. Congress may act."
    assert sentence_marker(text) == "[S{n}] "
    shown = mark_quotations(text, (), 0, find_sentences(text))
    assert shown == "[S1] Under \u00a7 230 the firms are shielded. [S2] Congress may act."
    assert strip_markers("[S2] Congress may act.") == "Congress may act."


def test_a_section_sign_the_article_uses_is_kept_in_copied_text() -> None:
    article = "Under \u00a7230 the firms are shielded."
    assert strip_markers("[S1] Under \u00a7230 the firms", article) == "Under \u00a7230 the firms"
    assert strip_markers("\u00a71 Under the law", "no section sign here") == "Under the law"
