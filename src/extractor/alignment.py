"""Alignment: find text the model copied from the article and return exact character offsets.

Matching is tried character for character first, then on a normalised form of both texts, where
- typographic quotes, apostrophes and primes are straight ones, "…" is "...", a white space run is
  one space, and every dash is "-": a run of dashes with the white space around it ("--",
  " -- ", "—", " — ") is one "-", so an article's "--" matches a model's "—" and the reverse;
- canonically equivalent text is equal (NFD: "é" precomposed or as "e" + U+0301, a Hangul syllable
  or its jamo, combining marks in any canonical order);
- default-ignorable characters (soft hyphen, zero-width space and joiners, word joiner, bidi marks
  and embeddings U+200E/F and U+202A-E, variation selectors, byte order mark) are skipped;
- compatibility forms are folded (NFKD: ligatures, full-width letters and digits, Arabic
  presentation forms, Roman numerals) except superscripts, subscripts, fractions, circled forms
  and anything that would turn into other digits: "10\u2076" is not "106", "\u00bd" is not
  "1\u20442" (U+2044 FRACTION SLASH).
Offsets always refer to the original article, so ``article[span.start:span.end] == span.text``
holds for every span, and a span never begins or ends inside a letter (a base letter and its
combining marks, a syllable's jamo), inside an expansion ("." of "…") or inside a run.

A passage's outer quotation marks are trimmed when they belong to it as a whole (a pair around it,
or a mark with no partner inside it), never when they pair with a mark inside it: in
``'Counteroffensive' is the key word`` both marks stay. A span is `Alignment.EXACT` only when
the passage, with any trimmed marks, stands in the article character for character.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Sequence

from rapidfuzz import fuzz

from extractor.spans import Alignment, Span

__all__ = [
    "ArticleIndex",
    "Placer",
    "crosses_sentence_end",
    "nearest_to",
    "normalize",
    "sentence_ends",
]

_REPLACEMENTS: dict[str, str] = {
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e", '"'),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032`", "'"),
    "\u2026": "...",
}
_DASHES = frozenset(
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d\u2e17\u301c"
)
_DOUBLE_MARKS = frozenset('"\u201c\u201d\u201e\u201f\u00ab\u00bb\u301d\u301e\uff02')
_SINGLE_MARKS = frozenset("'\u2018\u2019\u201a\u201b\u2039\u203a`\uff07")
_MARKS = _DOUBLE_MARKS | _SINGLE_MARKS
_MARK = re.compile("[" + re.escape("".join(sorted(_MARKS))) + "]")
_OPENS_AFTER = frozenset("([{<\u2014\u2013-/")  # a mark after these opens a quotation
_CLOSES_BEFORE = frozenset(".,;:!?)]}>\u2014\u2013-/\u2026")  # a mark before these closes one

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt): invisible, skipped in matching.
_IGNORABLE_RANGES = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)
# Compatibility forms that change what a text says when folded: 10⁶, H₂O, ½, ①.
_KEPT_FORMS = frozenset(["<super>", "<sub>", "<fraction>", "<circle>"])

_LONGEST = 4  # no passage is more than 4x the length of the article text it quotes (NFD, "--")
_CLOSEST_CHARS = 500  # the re-ask hint compares this much of a long value (cost grows ~ n^2)
_CACHED_PASSAGES = 4096  # results of find kept per index, for passages up to
_CACHED_LENGTH = 2000  # this many characters

# What one character is to the matcher; white space and dashes form runs, combining marks and
# Hangul vowel and final jamo join the letter before them.
_SPACE, _IGNORED, _DASH, _JOINS, _CHAR = range(5)
_kinds: dict[str, tuple[int, str]] = {}


def _ignorable(char: str) -> bool:
    """Whether Unicode calls the character default-ignorable (it shows nothing)."""
    code = ord(char)
    return any(low <= code <= high for low, high in _IGNORABLE_RANGES)


def _keeps_meaning(char: str, folded: str) -> bool:
    """Whether folding `char` to `folded` (NFKD) says the same thing (no new digits, no spaces)."""
    tag = unicodedata.decomposition(char).split(" ", 1)[0]
    if tag in _KEPT_FORMS or any(c.isspace() for c in folded):
        return False
    if any(c.isdigit() for c in folded):  # full-width 1 is 1; "1." in one character is not
        return unicodedata.decimal(char, None) is not None and len(folded) == 1
    return True


def _char_form(char: str) -> str:
    """The normalised form of one character that is neither white space, a dash nor ignorable."""
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    if char.isascii():
        return char
    form = unicodedata.normalize("NFD", char)
    folded = unicodedata.normalize("NFKD", char)
    if folded != form and _keeps_meaning(char, folded):
        form = folded
    return "".join(_REPLACEMENTS.get(c, c) for c in form) or char


def _kind(char: str) -> tuple[int, str]:
    """What the character is to the matcher, and its normalised form."""
    known = _kinds.get(char)
    if known is not None:
        return known
    if char.isspace():
        kind = (_SPACE, " ")
    elif _ignorable(char):
        kind = (_IGNORED, "")
    elif char in _DASHES:
        kind = (_DASH, "-")
    else:
        joins = (
            unicodedata.combining(char) > 0
            or unicodedata.category(char) in ("Mn", "Mc", "Me")
            or "\u1161" <= char <= "\u11ff"  # Hangul vowel and final jamo (after U+1160)
            or "\ud7b0" <= char <= "\ud7fb"
        )
        kind = (_JOINS if joins else _CHAR, _char_form(char))
    if len(_kinds) > 100_000:
        _kinds.clear()
    _kinds[char] = kind
    return kind


# Printable ASCII but "-" and "`", with single spaces between: its own normalised form, in bulk.
_PLAIN = "!-,.-_a-~"
_PLAIN_RUN = re.compile(f"[{_PLAIN}]+(?: [{_PLAIN}]+)*")


def _normalize(text: str) -> tuple[str, list[int], list[int]]:
    """Normalise text; return it with the source start and (exclusive) end of each character.

    Every normalised character of one letter (a base and its marks) carries that letter's start
    and end, so a match that begins or ends inside it is recognisable (see `_on_boundaries`).
    """
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last = -1  # kind of what was emitted last; -1 at the start
    marks = -1  # where in `out` the current letter begins, if it has marks to put in order

    def close_letter(letter: int) -> None:
        chars = "".join(out[letter:])
        ordered = unicodedata.normalize("NFD", chars)
        if ordered != chars and len(ordered) == len(chars):
            out[letter:] = ordered

    kinds = _kinds
    position = 0
    runs = [(m.start(), m.end()) for m in _PLAIN_RUN.finditer(text)]
    for run_start, run_end in [*runs, (len(text), len(text))]:
        for offset in range(position, run_start):  # one character at a time
            char = text[offset]
            kind, form = kinds.get(char) or _kind(char)
            if kind == _IGNORED:
                continue
            if marks >= 0 and kind != _JOINS:
                close_letter(marks)
                marks = -1
            if kind == _JOINS and last == _CHAR:
                letter = len(out) - 1  # back to the start of the letter these marks belong to
                while letter and starts[letter - 1] == starts[-1]:
                    letter -= 1
                out.extend(form)
                starts.extend([starts[letter]] * len(form))
                ends[letter:] = [offset + 1] * (len(ends) - letter + len(form))
                marks = letter
            elif kind in (_CHAR, _JOINS):
                out.extend(form)
                starts.extend([offset] * len(form))
                ends.extend([offset + 1] * len(form))
                last = _CHAR
            elif kind == _SPACE:
                if last == _SPACE:
                    ends[-1] = offset + 1  # extend the current white space run
                elif last != _DASH:  # white space after a dash belongs to the dash
                    out.append(" ")
                    starts.append(offset)
                    ends.append(offset + 1)
                    last = _SPACE
            else:  # a dash
                if last == _SPACE:  # white space before a dash belongs to the dash
                    out.pop()
                    starts.pop()
                    ends.pop()
                if last == _DASH:
                    ends[-1] = offset + 1  # extend the current dash run
                else:
                    out.append("-")
                    starts.append(offset)
                    ends.append(offset + 1)
                last = _DASH
        if run_start == run_end:
            break
        if marks >= 0:
            close_letter(marks)
            marks = -1
        out.extend(text[run_start:run_end])  # plain characters stand for themselves
        starts.extend(range(run_start, run_end))
        ends.extend(range(run_start + 1, run_end + 1))
        last = _CHAR
        position = run_end
    if marks >= 0:
        close_letter(marks)
    return "".join(out), starts, ends


def normalize(text: str) -> tuple[str, list[int]]:
    """Normalise text for matching and map each normalised character to its source offset."""
    normalised, starts, _ = _normalize(text)
    return normalised, starts


def _edge(char: str) -> bool:
    """White space or an invisible character: never part of a passage's edges."""
    return char.isspace() or _ignorable(char)


def _partners(text: str) -> dict[int, int]:
    """Which quotation marks of `text` pair with which, both ways; apostrophes are left out."""
    pairs: dict[int, int] = {}
    open_marks: list[tuple[int, bool]] = []  # (index, is a double mark)
    for match in _MARK.finditer(text):
        at = match.start()
        double = text[at] in _DOUBLE_MARKS
        before = text[at - 1] if at else ""
        after = text[at + 1 : at + 2]
        if not double and before.isalnum() and after.isalnum():
            continue  # an apostrophe: don't, it's, 90's
        opens = not before or before.isspace() or before in _OPENS_AFTER or before in _MARKS
        closes = not after or after.isspace() or after in _CLOSES_BEFORE or after in _MARKS
        if opens == closes:  # nothing tells: close what is open, else open
            closes = any(kind == double for _, kind in open_marks)
        if not closes:
            open_marks.append((at, double))
            continue
        for depth in range(len(open_marks) - 1, -1, -1):
            if open_marks[depth][1] == double:
                pairs[at], pairs[open_marks[depth][0]] = open_marks[depth][0], at
                del open_marks[depth:]
                break
    return pairs


def _trim(passage: str) -> tuple[str, str, str]:
    """Split a passage into the quotation marks before its text, the text, and those after.

    Outer white space is dropped; white space between the marks and the text goes with the marks.
    A leading or trailing quotation mark is trimmed when it pairs with the other end or with no
    mark at all; one that pairs with a mark inside the passage is part of the text.
    """
    begin, end = 0, len(passage)
    while begin < end and _edge(passage[begin]):
        begin += 1
    while end > begin and _edge(passage[end - 1]):
        end -= 1
    passage = passage[begin:end]
    begin, end = 0, len(passage)
    while True:
        while begin < end and _edge(passage[begin]):
            begin += 1
        while end > begin and _edge(passage[end - 1]):
            end -= 1
        if begin == end:
            break
        first, last = passage[begin] in _MARKS, passage[end - 1] in _MARKS
        if not (first or last):
            break
        pairs = _partners(passage[begin:end])
        size = end - begin
        if first and size > 1 and pairs.get(0) == size - 1:
            begin, end = begin + 1, end - 1
            continue
        moved = False
        if first and 0 not in pairs:
            begin, moved = begin + 1, True
        if last and end - 1 >= begin and size - 1 not in pairs:
            end, moved = end - 1, True
        if not moved:
            break
    return passage[:begin], passage[begin:end], passage[end:]


def _strip_passage(passage: str) -> str:
    """The passage without surrounding white space and the quotation marks around it."""
    return _trim(passage)[1]


class ArticleIndex:
    """An article prepared once for finding many passages in it."""

    def __init__(self, article: str) -> None:
        self._article = article
        self._normalized: tuple[str, list[int], list[int]] | None = None
        self._found: dict[str, tuple[Span, ...]] = {}
        self._sentence_ends: list[int] | None = None

    def _index(self) -> tuple[str, list[int], list[int]]:
        """The normalised article and its offsets, made on the first search (a reply that
        answers by number has nothing to search for)."""
        if self._normalized is None:
            self._normalized = _normalize(self._article)
        return self._normalized

    @property
    def _norm(self) -> str:
        return self._index()[0]

    @property
    def _starts(self) -> list[int]:
        return self._index()[1]

    @property
    def _ends(self) -> list[int]:
        return self._index()[2]

    @property
    def sentence_ends(self) -> list[int]:
        """Where the article's sentences end, for placing repeated passages."""
        if self._sentence_ends is None:
            self._sentence_ends = sentence_ends(self._article)
        return self._sentence_ends

    @property
    def article(self) -> str:
        """The original article text."""
        return self._article

    def _too_long(self, passage: str) -> bool:
        """Whether the passage is too long to be any part of the article (checked in O(1))."""
        return len(passage) > _LONGEST * len(self._article) + 64

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

    def _splits_letter(self, start: int, end: int) -> bool:
        """Whether article[start:end] begins or ends inside a letter (before its marks)."""
        article = self._article
        if not article[start].isascii() and _kind(article[start])[0] == _JOINS:
            return True
        while end < len(article) and not article[end].isascii():
            kind = _kind(article[end])[0]
            if kind != _IGNORED:
                return kind == _JOINS
            end += 1
        return False

    def find(self, passage: str) -> list[Span]:
        """Every occurrence of the passage: exact matches, else matches after normalisation."""
        if self._too_long(passage):
            return []
        found = self._found.get(passage)
        if found is None:
            found = tuple(self._find(passage))
            if len(passage) <= _CACHED_LENGTH:  # repeated passages are short ones
                if len(self._found) >= _CACHED_PASSAGES:
                    self._found.clear()
                self._found[passage] = found
        return list(found)

    def _find(self, passage: str) -> list[Span]:
        lead, needle, trail = _trim(passage)
        if not needle:
            return []
        article = self._article
        spans: list[Span] = []
        at = article.find(needle)
        while at != -1:
            end = at + len(needle)
            if not self._splits_letter(at, end):
                exact = (
                    at >= len(lead)
                    and article.startswith(lead, at - len(lead))
                    and article.startswith(trail, end)
                )
                alignment = Alignment.EXACT if exact else Alignment.NORMALIZED
                spans.append(Span(start=at, end=end, text=needle, alignment=alignment))
            at = article.find(needle, at + 1)
        if spans:
            return spans
        norm_needle, _, _ = _normalize(needle)
        if not norm_needle or len(norm_needle) > len(self._norm):
            return []
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
        """The article passage most like the given one, with its score 0..100, or None.

        A value longer than the article has none; of a long value, only the beginning is compared
        (the comparison's cost grows with the square of its length).
        """
        if self._too_long(passage):
            return None
        norm_needle, _, _ = _normalize(_strip_passage(passage))
        if not norm_needle or not self._norm or len(norm_needle) > len(self._norm):
            return None
        norm_needle = norm_needle[:_CLOSEST_CHARS]
        result = fuzz.partial_ratio_alignment(norm_needle, self._norm, score_cutoff=min_score)
        if result is None or result.score < min_score or result.dest_end <= result.dest_start:
            return None
        return self._span(result.dest_start, result.dest_end - 1), float(result.score)


# A full stop, then closing quotes, then space and a capital (or an opening quote): a sentence end,
# unless the word before it is an abbreviation or an initial ("Feb. 24", "U.S. Army", "Mr. Li").
_SENTENCE_END = re.compile(r"(?<!\w)(\w*)[.!?][\"'\u201d\u2019)]*\s+(?=[A-Z\"\u201c])")
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


def _gap(ends: list[int] | None, start: int, end: int) -> int:
    """Distance from `start` to `end`, plus a sentence's worth if a sentence ends between."""
    if ends is not None and _crosses(ends, start, end):
        return end - start + _ACROSS_SENTENCES
    return end - start


def _distance(span: Span, anchors: list[int], ends: list[int] | None) -> int:
    """How far the span is from the nearest of the (sorted) anchors; 0 when one is inside it."""
    i = bisect.bisect_left(anchors, span.start)  # first anchor at or after the start
    if i < len(anchors) and anchors[i] < span.end:
        return 0  # named inside the span itself
    gaps = [_gap(ends, span.end, anchors[i])] if i < len(anchors) else []
    gaps += [_gap(ends, anchors[i - 1], span.start)] if i else []
    return min(gaps)


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
    return min(spans, key=lambda span: _distance(span, anchors, ends))


_MANY_ANCHORS = 16  # from this many anchors on, occurrences are ranked once per anchor set


class Placer:
    """The occurrences of one passage, handed out to records one at a time.

    `take` gives the free occurrence `nearest_to` would pick among the free ones (nearest to the
    record's anchors, the first without anchors), and the nearest of all once none is free. With
    a few anchors it looks only at the free occurrences next to each anchor; with many, it ranks
    the occurrences once per set of anchors and walks down that ranking. Placing many records
    costs about records x min(anchors, 16) x log(occurrences) plus occurrences x log(anchors)
    per set of many anchors, never records x occurrences.
    """

    def __init__(self, spans: Sequence[Span], ends: list[int] | None = None) -> None:
        if not spans:
            raise ValueError("a Placer needs at least one span")
        self._spans = list(spans)  # sorted by start; then their ends are sorted too
        self._starts = [s.start for s in self._spans]
        self._ends = [s.end for s in self._spans]
        self._sentence_ends = ends
        count = len(self._spans)
        self._after = list(range(count + 1))  # -> first index >= i not yet seen taken
        self._before = list(range(count + 1))  # at i + 1 -> (last index <= i not seen taken) + 1
        self._rankings: dict[tuple[int, ...], list[int]] = {}  # occurrences, nearest first
        self._ranked_at: dict[tuple[int, ...], int] = {}  # ranks above this are all taken

    @staticmethod
    def _root(links: list[int], i: int) -> int:
        root = i
        while links[root] != root:
            root = links[root]
        while links[i] != root:  # path compression
            links[i], i = root, links[i]
        return root

    def _taken(self, i: int, taken: set[tuple[int, int]]) -> bool:
        return (self._starts[i], self._ends[i]) in taken

    def _next_free(self, i: int, taken: set[tuple[int, int]]) -> int:
        """The first free occurrence at or after `i`; the count of occurrences if none."""
        while True:
            i = self._root(self._after, i)
            if i == len(self._spans) or not self._taken(i, taken):
                return i
            self._after[i], self._before[i + 1] = i + 1, i  # taken: skip it from now on

    def _last_free(self, i: int, taken: set[tuple[int, int]]) -> int:
        """The last free occurrence at or before `i`; -1 if none."""
        while True:
            i = self._root(self._before, i + 1) - 1
            if i < 0 or not self._taken(i, taken):
                return i
            self._after[i], self._before[i + 1] = i + 1, i

    def take(self, anchors: list[int], taken: set[tuple[int, int]]) -> Span:
        """The occurrence for a record whose actors are named at `anchors` (any order).

        `taken` holds the (start, end) of occurrences given to earlier identical records.
        """
        count = len(self._spans)
        free = self._next_free(0, taken) < count
        if not anchors:
            return self._spans[self._next_free(0, taken) if free else 0]
        anchors = sorted(anchors)
        if len(anchors) >= _MANY_ANCHORS:
            return self._spans[self._ranked(anchors, taken, free)]
        ends = self._sentence_ends
        after: Callable[[int], int] = lambda i: self._next_free(i, taken) if free else i  # noqa: E731
        before: Callable[[int], int] = lambda i: self._last_free(i, taken) if free else i  # noqa: E731
        candidates: list[tuple[int, int]] = []
        for anchor in anchors:
            right = bisect.bisect_right(self._starts, anchor)  # [right:] start after it
            left = bisect.bisect_right(self._ends, anchor)  # [:left] end at or before it
            i = after(left)
            if i < right:
                candidates.append((0, i))  # the anchor is inside this occurrence
            i = after(right)
            if i < count:
                candidates.append((_gap(ends, anchor, self._starts[i]), i))
            i = before(left - 1)
            if i >= 0:
                candidates.append((_gap(ends, self._ends[i], anchor), i))
        return self._spans[min(candidates)[1]]

    def _ranked(self, anchors: list[int], taken: set[tuple[int, int]], free: bool) -> int:
        """The nearest free occurrence (the nearest of all if none is free), by a ranking."""
        key = tuple(anchors)
        ranking = self._rankings.get(key)
        if ranking is None:
            ends = self._sentence_ends
            distances = [_distance(span, anchors, ends) for span in self._spans]
            ranking = sorted(range(len(self._spans)), key=lambda i: (distances[i], i))
            self._rankings[key] = ranking
        if not free:
            return ranking[0]
        at = self._ranked_at.get(key, 0)
        while self._taken(ranking[at], taken):
            at += 1
        self._ranked_at[key] = at
        return ranking[at]
