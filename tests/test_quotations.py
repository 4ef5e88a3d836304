"""The quotation finder: every marked quotation, exact spans, and marks that are not quotations.

The sentences here are written for these tests (news-like, invented); none is copied from a corpus.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.quotations import MarkStyle, Quotation, QuotationHint, find_quotations

SRC = Path(__file__).resolve().parents[1] / "src" / "extractor"


def quoted(text: str) -> list[str]:
    """The quoted words of every quotation found, in order."""
    return [text[q.start : q.end] for q in find_quotations(text)]


def only(text: str) -> Quotation:
    found = find_quotations(text)
    assert len(found) == 1, [text[q.start : q.end] for q in found]
    return found[0]


# --- marks -----------------------------------------------------------------------------------


def test_straight_double_quotes() -> None:
    text = 'The mayor said, "We will rebuild the bridge by spring." Crews began on Monday.'
    q = only(text)
    assert text[q.start : q.end] == "We will rebuild the bridge by spring."
    assert text[q.outer_start : q.outer_end] == '"We will rebuild the bridge by spring."'
    assert q.hint is QuotationHint.SPEECH and not q.partial and q.closed


def test_curly_quotes_split_by_the_attribution_are_two_quotations() -> None:
    text = "\u201cWe are ready,\u201d the minister said. \u201cThe talks start on Friday.\u201d"
    assert quoted(text) == ["We are ready,", "The talks start on Friday."]


def test_two_apostrophes_written_as_a_double_quote() -> None:
    text = "''It is a tax cut for the few,'' said Ms. Alvarez, an economist at the institute."
    q = only(text)
    assert text[q.start : q.end] == "It is a tax cut for the few,"
    assert q.hint is QuotationHint.SPEECH


def test_backticks_and_apostrophes_as_double_quotes() -> None:
    text = "He wrote: ``Nothing was decided tonight.'' The meeting ended late."
    assert quoted(text) == ["Nothing was decided tonight."]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("\u00abNous resterons\u00bb, a dit le maire.", "Nous resterons"),
        ("\u00ab Nous resterons \u00bb, a dit le maire.", "Nous resterons"),
        ("\u00bbWir bleiben hier\u00ab, sagte der Sprecher.", "Wir bleiben hier"),
        ("\u201eWir bleiben hier\u201c, sagte der Sprecher.", "Wir bleiben hier"),
    ],
)
def test_guillemets_either_way_round_and_low_nine_marks(text: str, words: str) -> None:
    assert quoted(text) == [words]


def test_nested_single_quotes_stay_inside_the_double_quotation() -> None:
    text = (
        "\u201cShe looked at me and said \u2018not this year,\u2019 and walked out,\u201d "
        "the coach recalled."
    )
    q = only(text)
    assert text[q.start : q.end].startswith("She looked at me")
    assert [text[a:b] for a, b in q.nested] == ["not this year,"]


def test_nested_straight_single_quotes_and_apostrophes() -> None:
    text = "\"Don't tell me 'it can't be done,'\" O'Neill said."
    q = only(text)
    assert text[q.start : q.end] == "Don't tell me 'it can't be done,'"
    assert [text[a:b] for a, b in q.nested] == ["it can't be done,"]


def test_nested_double_quotes_inside_a_block_quote() -> None:
    text = (
        'The paper reported: "Officials called the plan "a disaster in waiting" '
        'and promised a review."'
    )
    outer, inner = find_quotations(text)
    assert text[outer.start : outer.end].endswith("promised a review.")
    assert [text[a:b] for a, b in outer.nested] == ["a disaster in waiting"]
    # the inner double quotation is also a quotation of its own, inside the outer one
    assert text[inner.start : inner.end] == "a disaster in waiting"
    assert outer.start < inner.outer_start < inner.outer_end < outer.end
    assert (inner.start, inner.end) in outer.nested and inner.partial


def test_quotes_inside_an_excerpt_are_listed_on_their_own() -> None:
    text = (
        'The column went on: "The crowd waited an hour. Then the governor walked in, shouting '
        "\u201cFour more years!\u201d, and the band played. A nurse's form read "
        "\u201cfit to travel.\u201d\"\n\nThe governor's office declined to comment."
    )
    assert quoted(text)[1:] == ["Four more years!", "fit to travel."]


# --- paragraphs ------------------------------------------------------------------------------


def test_a_quote_running_over_paragraphs_is_one_quotation_with_pieces() -> None:
    text = (
        'The senator read from her statement: "We have listened to the families.\n\n'
        '"We have heard the engineers, and we have read every report.\n\n'
        '"Now we will act," she said.'
    )
    q = only(text)
    assert q.multi_paragraph and len(q.pieces) == 3 and q.closed
    assert [text[p.start : p.end] for p in q.pieces] == [
        "We have listened to the families.",
        "We have heard the engineers, and we have read every report.",
        "Now we will act,",
    ]
    assert text[q.outer_start] == '"' and text[q.outer_end - 1] == '"'
    assert text[q.outer_start : q.outer_end].endswith('act,"')
    assert q.hint is QuotationHint.SPEECH


def test_a_paragraph_left_open_without_a_continuation_is_kept_unclosed() -> None:
    text = 'He added: "The vote is on Tuesday and we will win it.\n\nThe count begins at nine.'
    q = only(text)
    assert not q.closed
    assert text[q.start : q.end] == "The vote is on Tuesday and we will win it."


def test_continuation_needs_the_same_kind_of_mark() -> None:
    text = (
        'The report says: "Turnout fell in every district.\n\n'
        "\u201cWe saw it coming,\u201d a clerk said."
    )
    assert quoted(text) == ["Turnout fell in every district.", "We saw it coming,"]


# --- partial quotes, transcripts, non-speech -------------------------------------------------


def test_fragment_inside_reported_speech_is_partial_speech() -> None:
    text = "The governor said the budget was \u201ca promise kept to families\u201d in the state."
    q = only(text)
    assert q.partial and q.hint is QuotationHint.SPEECH


def test_transcript_turns() -> None:
    text = (
        "MODERATOR: What will you do first?\n"
        "SEN. RIVERA: Fix the roads. Then the schools.\n"
        "CORRECTION: An earlier version misspelled a name."
    )
    found = find_quotations(text)
    assert [q.speaker_label for q in found] == ["MODERATOR", "SEN. RIVERA"]
    assert [text[q.start : q.end] for q in found] == [
        "What will you do first?",
        "Fix the roads. Then the schools.",
    ]
    assert all(q.style is MarkStyle.TRANSCRIPT for q in found)


def test_transcript_turns_inside_a_quoted_excerpt() -> None:
    """Each quoted turn is its own quotation, its follow-on paragraphs its pieces."""
    text = (
        "The exchange, in part:\n\n"
        '"HOST: Will she attend the debate?\n\n'
        '"GOV. MARSH: No. She has other plans.\n\n'
        '"And that is the end of it.\n\n'
        '"HOST: Thank you, governor."\n\n'
        "The interview ran ten minutes."
    )
    found = find_quotations(text)
    assert [q.speaker_label for q in found] == ["HOST", "GOV. MARSH", "HOST"]
    assert [text[p.start : p.end] for p in found[1].pieces] == [
        "No. She has other plans.",
        "And that is the end of it.",
    ]
    assert found[2].closed and text[found[2].start : found[2].end] == "Thank you, governor."


@pytest.mark.parametrize(
    "text",
    [
        "The center is 6'2\" tall and wears size 14 shoes.",
        'The tablet has a 12" screen and a 10" keyboard.',
        "It's the voters' choice, and O'Brien's campaign doesn't agree.",
        'A lone " mark in the middle of a sentence.',
        "The closing mark\u201d arrives with no opening one.",
        "",
    ],
)
def test_marks_that_are_not_quotations(text: str) -> None:
    assert find_quotations(text) == []


def test_inches_inside_a_real_quotation_do_not_end_it() -> None:
    text = '"He is 6\'2" and still growing," his coach said.'
    assert quoted(text) == ["He is 6'2\" and still growing,"]


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ('She appeared on CBS\'s "Face the Nation" on Sunday.', QuotationHint.TITLE),
        ('His memoir, "A Long Road Home," sold well.', QuotationHint.TITLE),
        ('Critics attacked the so-called "reform" of the pension system.', QuotationHint.SCARE),
        ('He used the word "deplorable" twice.', QuotationHint.TERM),
        ('The boxer, nicknamed "Iron Mike," retired.', QuotationHint.NAME),
        ('Former Gov. James "Jim" Carter spoke first.', QuotationHint.NAME),
        ('His niece, Del. Rosa "Ro" Lind, shouted to the crowd.', QuotationHint.NAME),
        ('The merger brought "synergies" that never came.', QuotationHint.SCARE),
        ("Results\n\n'Nobody Saw It Coming'\n\nThe count ended late.", QuotationHint.TITLE),
    ],
)
def test_likely_non_speech_is_flagged(text: str, hint: QuotationHint) -> None:
    q = only(text)
    assert q.hint is hint, q.reason
    assert not q.likely_speech


def test_short_fragment_after_a_said_verb_in_the_sentence_is_speech() -> None:
    text = 'The envoy said his government held a "negative view" of the proposal.'
    q = only(text)
    assert q.hint is QuotationHint.SPEECH and q.partial


def test_short_speech_next_to_a_said_verb_stays_speech() -> None:
    text = '"Absolutely," the senator said when asked about the vote.'
    assert only(text).hint is QuotationHint.SPEECH


def test_headline_with_single_quotes() -> None:
    text = "Mayor Tells Council: \u2018We Will Not Raise Taxes\u2019\n\nThe mayor spoke on Monday."
    q = only(text)
    assert q.style is MarkStyle.SINGLE
    assert text[q.start : q.end] == "We Will Not Raise Taxes"
    assert q.hint is QuotationHint.SPEECH


def test_shipped_example_article() -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "articles"
    text = (path / "peacekeepers-2025-08-27.txt").read_text(encoding="utf-8")
    found = find_quotations(text)
    assert found
    for q in found:
        assert text[q.outer_start] in "\"\u201c'\u2018" or q.style is MarkStyle.TRANSCRIPT


# --- properties ------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(
    [*"ab \n.,:'\"`\u201c\u201d\u2018\u2019\u201e\u00ab\u00bbSAID6=>-", "\n\n", "''"]
)


def _check(text: str) -> None:
    previous_end = -1
    previous_start = -1
    top: Quotation | None = None
    for q in find_quotations(text):
        assert 0 <= q.outer_start <= q.start <= q.end <= q.outer_end <= len(text)
        assert q.style is MarkStyle.TRANSCRIPT or q.pieces[0].open_mark is not None
        assert q.pieces[0].start == q.start and q.pieces[-1].end == q.end
        assert previous_start <= q.outer_start
        previous_start = q.outer_start
        if top is not None and q.outer_start < previous_end:  # a double nested in `top`
            assert len(q.pieces) == 1 and (q.start, q.end) in top.nested
            assert any(p.start <= q.outer_start and q.outer_end <= p.end for p in top.pieces)
            continue
        top = q
        for piece in q.pieces:
            assert previous_end <= piece.start <= piece.end
            previous_end = piece.end
            if piece.open_mark:
                assert piece.open_mark[1] <= piece.start
            if piece.close_mark:
                assert piece.end <= piece.close_mark[0]
        for a, b in q.nested:
            assert q.start <= a <= b <= q.end
        previous_end = max(previous_end, q.outer_end)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_never_raises_and_spans_are_ordered_and_inside_the_text(text: str) -> None:
    _check(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_text(text: str) -> None:
    _check(text)


def test_linear_on_a_long_article() -> None:
    """A long article is read in one pass: the count of quotations grows with its length."""
    paragraph = '"We will win," she said. The so-called "plan" is 6\'2" of paper.\n\n'
    assert len(find_quotations(paragraph * 2000)) == 4000


def test_module_imports_without_openai() -> None:
    """The finder loads alone: no openai, no instructor (the package __init__ is bypassed)."""
    code = (
        "import sys, types\n"
        f"pkg = types.ModuleType('extractor'); pkg.__path__ = [{str(SRC)!r}]\n"
        "sys.modules['extractor'] = pkg\n"
        "import extractor.quotations\n"
        "bad = [m for m in ('openai', 'instructor', 'httpx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_backtick_of_a_double_mark_never_closes_a_single_quote() -> None:
    """Found by hypothesis: in "'a``a" the first backtick closed 'a` and overlapped ``a."""
    _check("'a``a")
    _check("He wrote 'odd`` things'' here.")
