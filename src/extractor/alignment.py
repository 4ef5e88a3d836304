"""Alignment: find text the model copied from the article and return exact character offsets.

Matching is tried character for character first, then after normalising typographic quotes,
dashes, ellipses, white space and (per character) NFKC compatibility forms. Offsets always refer
to the original article, so ``article[span.start:span.end] == span.text`` holds for every span.

Edge: one source character may normalise to several characters ("…" -> "...", "ﬁ" -> "fi"),
and a white space run normalises to one space. A normalised match that begins or ends inside such
an expansion (".." matching part of "…") is skipped, so every span returned by `ArticleIndex.find`
also satisfies ``normalize(span.text)[0] == normalize(passage)[0]`` for the stripped passage.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata

from rapidfuzz import fuzz

from extractor.spans import Alignment, Span

__all__ = ["ArticleIndex", "crosses_sentence_end", "nearest_to", "normalize", "sentence_ends"]

_REPLACEMENTS: dict[str, str] = {
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033", '"'),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032`", "'"),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    "\u2026": "...",
}

_QUOTES = frozenset("\"'\u201c\u201d\u201e\u201f\u2018\u2019\u201a\u201b\u00ab\u00bb\u2039\u203a`")


@functools.lru_cache(maxsize=8192)
def _char_form(char: str) -> str:
    """The normalised form of one non-space character."""
    if char.isascii() and char != "`":
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    folded = unicodedata.normalize("NFKC", char)
    if not folded or any(c.isspace() for c in folded):
        return char
    return "".join(_REPLACEMENTS.get(c, c) for c in folded)


def _normalize(text: str) -> tuple[str, list[int], list[int]]:
    """Normalise text; return it with the source start and (exclusive) end of each character."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for offset, char in enumerate(text):
        if char.isspace():
            if offset and text[offset - 1].isspace():
                ends[-1] = offset + 1  # extend the current white space run
                continue
            form = " "
        else:
            form = _char_form(char)
        out.extend(form)
        starts.extend([offset] * len(form))
        ends.extend([offset + 1] * len(form))
    return "".join(out), starts, ends


def normalize(text: str) -> tuple[str, list[int]]:
    """Normalise text for matching and map each normalised character to its source offset."""
    normalised, starts, _ = _normalize(text)
    return normalised, starts


def _strip_passage(passage: str) -> str:
    """Strip surrounding white space and one leading and/or trailing quotation mark."""
    passage = passage.strip()
    if passage[:1] in _QUOTES:
        passage = passage[1:].lstrip()
    if passage[-1:] in _QUOTES:
        passage = passage[:-1].rstrip()
    return passage


class ArticleIndex:
    """An article prepared once for finding many passages in it."""

    def __init__(self, article: str) -> None:
        self._article = article
        self._norm, self._starts, self._ends = _normalize(article)

    @functools.cached_property
    def sentence_ends(self) -> list[int]:
        """Where the article's sentences end, for placing repeated passages."""
        return sentence_ends(self._article)

    @property
    def article(self) -> str:
        """The original article text."""
        return self._article

    def _span(self, first: int, last: int) -> Span:
        """The source span covering normalised characters ``first..last`` (inclusive)."""
        start, end = self._starts[first], self._ends[last]
        return Span(
            start=start, end=end, text=self._article[start:end], alignment=Alignment.NORMALIZED
        )

    def _on_boundaries(self, first: int, last: int) -> bool:
        """Whether normalised characters ``first..last`` cover whole source characters."""
        starts = self._starts
        begins = first == 0 or starts[first - 1] != starts[first]
        finishes = last == len(starts) - 1 or starts[last + 1] != starts[last]
        return begins and finishes

    def find(self, passage: str) -> list[Span]:
        """Every occurrence of the passage: exact matches, else matches after normalisation."""
        needle = _strip_passage(passage)
        if not needle:
            return []
        spans: list[Span] = []
        at = self._article.find(needle)
        while at != -1:
            spans.append(Span(start=at, end=at + len(needle), text=needle))
            at = self._article.find(needle, at + 1)
        if spans:
            return spans
        norm_needle, _, _ = _normalize(needle)
        found: dict[tuple[int, int], Span] = {}
        at = self._norm.find(norm_needle)
        while at != -1:
            last = at + len(norm_needle) - 1
            if self._on_boundaries(at, last):
                span = self._span(at, last)
                found.setdefault((span.start, span.end), span)
            at = self._norm.find(norm_needle, at + 1)
        return sorted(found.values(), key=lambda s: (s.start, s.end))

    def closest(self, passage: str, min_score: float = 60.0) -> tuple[Span, float] | None:
        """The article passage most like the given one, with its score 0..100, or None."""
        norm_needle, _, _ = _normalize(_strip_passage(passage))
        if not norm_needle or not self._norm:
            return None
        result = fuzz.partial_ratio_alignment(norm_needle, self._norm, score_cutoff=min_score)
        if result is None or result.score < min_score or result.dest_end <= result.dest_start:
            return None
        return self._span(result.dest_start, result.dest_end - 1), float(result.score)


# A full stop, then closing quotes, then space and a capital (or an opening quote): a sentence end,
# unless the word before it is an abbreviation or an initial ("Feb. 24", "U.S. Army", "Mr. Li").
_SENTENCE_END = re.compile(r"(\w*)[.!?][\"'\u201d\u2019)]*\s+(?=[A-Z\"\u201c])")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "jr",
        "sr",
        "gen",
        "sen",
        "rep",
        "gov",
        "lt",
        "col",
        "capt",
        "sgt",
        "prof",
        "rev",
        "no",
        "vs",
        "etc",
        "inc",
        "ltd",
        "co",
        "corp",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
    ]
)
_ACROSS_SENTENCES = 100_000  # any anchor in the same sentence beats every anchor outside it


def sentence_ends(text: str) -> list[int]:
    """Offsets of the punctuation that ends each sentence of `text` (not abbreviations)."""
    ends = []
    for match in _SENTENCE_END.finditer(text):
        word = match.group(1).lower()
        initial = len(word) == 1 and text[match.start() - 1 : match.start()] in ("", " ", ".")
        dotted = text[max(0, match.start() - 2) : match.start()].endswith(".")  # "U.S."
        if not (initial or dotted or word in _ABBREVIATIONS):
            ends.append(match.end(1))
    return ends


def crosses_sentence_end(text: str, start: int, end: int) -> bool:
    """Whether a sentence ends between `start` and `end` in `text` (abbreviations are not ends)."""
    return _crosses(sentence_ends(text), start, end)


def _crosses(ends: list[int], start: int, end: int) -> bool:
    i = bisect.bisect_left(ends, start)
    return i < len(ends) and ends[i] < end


def nearest_to(spans: list[Span], anchor_offsets: list[int], ends: list[int] | None = None) -> Span:
    """Pick the span closest to any anchor offset (e.g. a speaker's name); the first if none.

    Given the article's `sentence_ends`, an anchor in the same sentence as a span counts as
    nearer than any anchor beyond a sentence end ("Trump said "x". Later, Putin said "x"":
    Putin's "x" is the second one, though his name stands closer to the end of the first).
    """
    if not spans:
        raise ValueError("nearest_to needs at least one span")
    if not anchor_offsets:
        return spans[0]
    anchors = sorted(anchor_offsets)

    def gap(start: int, end: int) -> int:
        if ends is not None and _crosses(ends, start, end):
            return end - start + _ACROSS_SENTENCES
        return end - start

    def distance(span: Span) -> int:
        i = bisect.bisect_left(anchors, span.start)  # first anchor at or after the start
        if i < len(anchors) and anchors[i] < span.end:
            return 0  # named inside the span itself
        gaps = [gap(span.end, anchors[i])] if i < len(anchors) else []
        gaps += [gap(anchors[i - 1], span.start)] if i else []
        return min(gaps)

    return min(spans, key=distance)
