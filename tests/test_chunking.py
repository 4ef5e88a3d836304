"""Chunk planning: boundaries, protected quotations, overlap, and the budget arithmetic."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.chunking import Chunk, budget_from_context, plan_chunks, plan_remainder
from extractor.errors import ConfigurationError, InputError

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = (ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt").read_text(
    encoding="utf-8"
)
LONG = ARTICLE * 10  # about 21,000 characters: the article x10 of issue 8
QUOTED = re.compile(r'"[^"]*"')


def quotations(text: str) -> list[tuple[int, int]]:
    """The double-quoted passages of `text`, marks included (a stand-in for the finder)."""
    return [(m.start(), m.end()) for m in QUOTED.finditer(text)]


def inside(at: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < at < end for start, end in spans)


def check_plan(
    text: str, chunks: list[Chunk], overlap: int, protected: list[tuple[int, int]]
) -> None:
    """The invariants every plan keeps."""
    assert chunks, "at least one chunk"
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)
    for chunk in chunks:
        assert chunk.start < chunk.end or len(text) == 0
        assert not inside(chunk.start, protected)
        assert not inside(chunk.end, protected)
    for before, after in itertools.pairwise(chunks):
        assert before.start < after.start, "in order"
        assert before.end < after.end, "in order"
        assert after.start <= before.end, "no gap"
        assert before.end - after.start <= overlap, "overlap bounded"


# --- the article x10 --------------------------------------------------------------------------


def test_article_x10_is_cut_between_sentences_never_inside_a_quotation() -> None:
    protected = quotations(LONG)
    assert len(protected) == 70
    budget = budget_from_context(8192, 2048, 1500)
    chunks = plan_chunks(LONG, budget_chars=budget, overlap_chars=300, protected=protected)
    assert len(chunks) == 5
    check_plan(LONG, chunks, 300, protected)
    for chunk in chunks:
        assert chunk.end - chunk.start <= budget
        text = chunk.text_of(LONG)
        assert text == LONG[chunk.start : chunk.end]
        assert text.count('"') % 2 == 0  # whole quotations only
    for before, after in itertools.pairwise(chunks):
        # each chunk ends after a sentence's end and the next one begins a sentence
        assert LONG[before.end - 1].isspace()
        assert LONG[after.start].isupper() or LONG[after.start] == '"'
        assert LONG[after.start - 1].isspace()
        assert 0 < before.end - after.start <= 300  # an overlap of whole sentences


def test_paragraph_boundaries_are_preferred_to_sentence_boundaries() -> None:
    chunks = plan_chunks(LONG, budget_chars=3000, overlap_chars=0, protected=quotations(LONG))
    check_plan(LONG, chunks, 0, quotations(LONG))
    for chunk in chunks[:-1]:
        assert LONG[chunk.end - 2 : chunk.end] == "\n\n"


def test_abbreviations_and_initials_are_not_sentence_ends() -> None:
    for budget in (150, 300, 700):
        chunks = plan_chunks(LONG, budget_chars=budget, overlap_chars=120)
        for chunk in chunks:
            assert not LONG[: chunk.start].endswith(("Feb. ", "U.S. ", "U.S."))
            assert not LONG[: chunk.end].endswith(("Feb. ", "U.S. "))


def test_the_plan_is_deterministic() -> None:
    first = plan_chunks(LONG, budget_chars=2000, overlap_chars=200, protected=quotations(LONG))
    again = plan_chunks(LONG, budget_chars=2000, overlap_chars=200, protected=quotations(LONG))
    assert first == again


def test_a_short_article_is_one_chunk() -> None:
    assert plan_chunks(ARTICLE, budget_chars=5461, overlap_chars=300) == [Chunk(0, len(ARTICLE))]
    assert plan_chunks("", budget_chars=10, overlap_chars=0) == [Chunk(0, 0)]


def test_a_quotation_longer_than_the_budget_is_one_chunk_whole() -> None:
    speech = " ".join(f"Point number {i} stands." for i in range(40))
    text = f'The minister spoke. She said: "{speech}" Reporters left. Then it rained.'
    quote = (text.index('"'), text.rindex('"') + 1)
    chunks = plan_chunks(text, budget_chars=120, overlap_chars=40, protected=[quote])
    check_plan(text, chunks, 40, [quote])
    holding = [c for c in chunks if c.start <= quote[0] and quote[1] <= c.end]
    assert len(holding) == 1
    # the chunk holds the quotation's sentence and nothing before it
    assert holding[0].text_of(text).startswith("She said:")
    # without protection the same text is cut inside the quotation
    unprotected = plan_chunks(text, budget_chars=120, overlap_chars=40)
    assert any(inside(c.end, [quote]) for c in unprotected)


def test_text_without_sentences_is_cut_at_white_space_then_anywhere() -> None:
    words = "word " * 500
    chunks = plan_chunks(words, budget_chars=100, overlap_chars=20)
    check_plan(words, chunks, 20, [])
    assert all(c.end - c.start <= 100 for c in chunks)
    assert all(words[c.end - 1] == " " for c in chunks[:-1])
    letters = "x" * 1000
    chunks = plan_chunks(letters, budget_chars=64, overlap_chars=0)
    assert [c.end - c.start for c in chunks] == [64] * 15 + [40]


def test_a_cut_anywhere_keeps_a_letter_with_its_combining_marks() -> None:
    text = "e\u0301" * 300  # é written as e + combining acute
    chunks = plan_chunks(text, budget_chars=51, overlap_chars=0)
    check_plan(text, chunks, 0, [])
    assert all(text[c.start] == "e" for c in chunks)


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ConfigurationError, match="budget_chars"):
        plan_chunks(LONG, budget_chars=0, overlap_chars=0)
    with pytest.raises(ConfigurationError, match="overlap_chars"):
        plan_chunks(LONG, budget_chars=100, overlap_chars=-1)
    with pytest.raises(InputError, match="protected span"):
        plan_chunks(LONG, budget_chars=100, overlap_chars=0, protected=[(10, len(LONG) + 1)])
    with pytest.raises(InputError, match="protected span"):
        plan_chunks("short", budget_chars=100, overlap_chars=0, protected=[(3, 2)])


def test_a_very_long_word_is_planned_around() -> None:
    """A 200,000-character word: sentence_ends reads it in one pass (test_alignment checks it)."""
    text = "It began. X" + "x" * 199_999 + ". It ended. Then " + "Y" * 100 + " went on."
    chunks = plan_chunks(text, budget_chars=5000, overlap_chars=100)
    check_plan(text, chunks, 100, [])
    # the sentences around the long words are found as before
    assert chunks[0].end == 10
    assert [c.start for c in chunks if text[c.start - 1 : c.start + 3] == " It "] == [200_012]


# --- a reply cut at max_tokens ---------------------------------------------------------------


def test_the_uncovered_part_of_a_cut_chunk_is_planned_again_smaller() -> None:
    protected = quotations(LONG)
    chunk = plan_chunks(LONG, budget_chars=5461, overlap_chars=300, protected=protected)[1]
    # the cut reply grounded records up to the middle of the quotation "specifically asked"
    cut_at = chunk.start + LONG[chunk.start :].index("specifically") + 5
    pieces = plan_remainder(
        LONG, chunk, cut_at, budget_chars=2730, overlap_chars=150, protected=protected
    )
    begin = pieces[0].start
    assert begin <= cut_at
    assert LONG[begin:].startswith("While seated alongside")  # its sentence, asked again
    assert pieces[-1].end == chunk.end
    assert all(p.end - p.start <= 2730 for p in pieces)
    local = [Chunk(p.start - begin, p.end - begin) for p in pieces]
    check_plan(LONG[begin : chunk.end], local, 150, [(a - begin, b - begin) for a, b in protected])
    assert plan_remainder(LONG, chunk, chunk.end, budget_chars=2730, overlap_chars=0) == []
    nothing = plan_remainder(LONG, chunk, chunk.start, budget_chars=2730, overlap_chars=0)
    assert nothing[0].start == chunk.start


# --- the budget -------------------------------------------------------------------------------


def test_budget_is_the_smaller_of_the_input_and_output_room() -> None:
    # context 8,192 - max_tokens 2,048 - overhead 1,500 = 4,644; output 2,048 / 1.5 = 1,365
    assert budget_from_context(8192, 2048, 1500) == int(2048 / 1.5 * 4)
    # a large max_tokens in a small context: the input room decides
    assert budget_from_context(8192, 6000, 1500) == (8192 - 6000 - 1500) * 4
    # the ratio and the characters per token scale it
    assert budget_from_context(128_000, 4096, 1500, completion_ratio=3.5) == int(4096 / 3.5 * 4)
    assert budget_from_context(128_000, 4096, 1500, 2.5, completion_ratio=1.0) == 4096 * 5 // 2


def test_a_context_with_no_room_for_an_article_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="raise the context or max_tokens"):
        budget_from_context(4096, 2048, 2100)
    with pytest.raises(ConfigurationError, match="must be positive"):
        budget_from_context(8192, 2048, 1500, 0.0)


# --- import cost ------------------------------------------------------------------------------


def test_chunking_and_merging_import_without_openai() -> None:
    """The modules themselves load no client (extractor/__init__ is bypassed on purpose)."""
    code = (
        "import sys, types\n"
        "package = types.ModuleType('extractor')\n"
        f"package.__path__ = [{str(ROOT / 'src' / 'extractor')!r}]\n"
        "sys.modules['extractor'] = package\n"
        "import extractor.chunking, extractor.merging\n"
        "loaded = sorted(m for m in ('openai', 'instructor', 'httpx') if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""


# --- properties -------------------------------------------------------------------------------

ALPHABET = st.sampled_from([*"ab c.A B\n\n?!\"'\u201c\u201d", "e\u0301", "Mr. ", "U.S. "])


@st.composite
def texts_with_spans(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    text = "".join(draw(st.lists(ALPHABET, max_size=400)))
    points = st.integers(min_value=0, max_value=len(text))
    pairs = draw(st.lists(st.tuples(points, points), max_size=6))
    return text, [(min(a, b), max(a, b)) for a, b in pairs]


@settings(max_examples=300, deadline=None)
@given(
    texts_with_spans(),
    st.integers(min_value=1, max_value=120),
    st.integers(min_value=0, max_value=80),
)
def test_any_plan_covers_the_text_in_order_outside_protected_spans(
    case: tuple[str, list[tuple[int, int]]], budget: int, overlap: int
) -> None:
    text, protected = case
    chunks = plan_chunks(text, budget_chars=budget, overlap_chars=overlap, protected=protected)
    check_plan(text, chunks, overlap, protected)
    if not protected:
        assert all(c.end - c.start <= budget + budget // 4 for c in chunks)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=40, max_value=6000),
    st.integers(min_value=0, max_value=600),
)
def test_any_plan_of_the_repeated_article_keeps_quotations_whole(
    repeats: int, budget: int, overlap: int
) -> None:
    text = ARTICLE * repeats
    protected = quotations(text)
    chunks = plan_chunks(text, budget_chars=budget, overlap_chars=overlap, protected=protected)
    check_plan(text, chunks, overlap, protected)
