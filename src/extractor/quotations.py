"""Find the quotations an article marks itself: deterministic, model-free, linear in the text.

`find_quotations` returns every span between quotation marks (straight and curly double quotes,
``''`` and ````...''```` written for double quotes, guillemets either way round, low-9 marks), a
quotation that runs over paragraphs as one `Quotation` with its pieces, transcript turns
(``SPEAKER: ...``), and top-level single-quoted spans. Marks that are not quotations are left
out: inch marks (``6'2"``, ``12"``), apostrophes, and a lone mark with no partner. Single quotes
inside a double quotation are nested quotations, listed on the outer one. A double quotation
inside another (an excerpt that quotes others) is listed on the outer one and is also a
quotation of its own, right after it: quotations come in the order of their opening marks, and
only these nested ones lie inside another (chunking merges overlapping protected spans, and the
prompt's ``[Qn]`` markers follow that order).

Each quotation carries a cheap hint (`QuotationHint`): speech, or likely a title, a name, a scare
quote or a term. The finder favours recall of speech; the hint only flags what a model (or a
reader) should confirm. Nothing here loads openai or instructor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

__all__ = [
    "MarkStyle",
    "Piece",
    "Quotation",
    "QuotationHint",
    "find_quotations",
]


class QuotationHint(str, Enum):
    """What the quoted words most likely are, from cheap surface cues."""

    SPEECH = "speech"  # words someone said or wrote
    TITLE = "title"  # a book, film, show, article, law...
    NAME = "name"  # a nickname or a name something is called by
    SCARE = "scare"  # scare quotes: the writer distances itself from a word
    TERM = "term"  # a word mentioned as a word: the term "deplorables"


class MarkStyle(str, Enum):
    """Which marks delimit the quotation."""

    DOUBLE = "double"  # any double mark: " “ ” „ « » '' ``
    SINGLE = "single"  # straight or curly single marks at top level (headlines, some publishers)
    TRANSCRIPT = "transcript"  # a SPEAKER: turn, no marks


@dataclass(frozen=True)
class Piece:
    """One paragraph's part of a quotation: content offsets and the marks around it."""

    start: int  # first character of the quoted words
    end: int  # one past the last quoted character (marks excluded)
    open_mark: tuple[int, int] | None  # (start, end) of the opening mark, None for a transcript
    close_mark: tuple[int, int] | None  # None when the paragraph ends without closing it


@dataclass(frozen=True)
class Quotation:
    """A quoted passage: ``text[start:end]`` is the quoted words without the outer marks."""

    start: int
    end: int
    outer_start: int  # first opening mark (or a transcript turn's label)
    outer_end: int  # one past the last closing mark (or the content's end when unclosed)
    pieces: tuple[Piece, ...]
    style: MarkStyle = MarkStyle.DOUBLE
    closed: bool = True  # False: the last piece ends its paragraph with no closing mark
    partial: bool = False  # a fragment inside the writer's own sentence, not a whole sentence
    hint: QuotationHint = QuotationHint.SPEECH
    reason: str = ""  # why the hint, for people and for the model
    speaker_label: str | None = None  # a transcript turn's label, e.g. "TRUMP"
    nested: tuple[tuple[int, int], ...] = field(default=())  # quoted spans inside (see module)

    @property
    def multi_paragraph(self) -> bool:
        """Whether the quotation runs over more than one paragraph."""
        return len(self.pieces) > 1

    @property
    def likely_speech(self) -> bool:
        """Whether the hint is speech."""
        return self.hint is QuotationHint.SPEECH


# --- marks -----------------------------------------------------------------------------------

_DOUBLE_MARK = re.compile(r"'{2,3}|``|[\"\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033]")
_SINGLE_MARK = re.compile(r"[\u2018\u2019'`\u201a\u201b]")
_PARAGRAPH = re.compile(r"[^\n\r\u2028\u2029]+")
_OPEN_GLYPHS = frozenset("\u201c\u201e\u201f\u00ab`")
_CLOSE_GLYPHS = frozenset("\u201d\u00bb\u2033")
_OPEN_BEFORE = frozenset("([{\u2014\u2013-/\u2026")  # a mark after these opens
_CLOSE_AFTER = frozenset(".,;:!?)]}\u2014\u2013-/\u2026")  # a mark before these closes
_QUOTE_CHARS = frozenset("\"'\u201c\u201d\u201e\u201f\u00ab\u00bb\u2018\u2019\u201a\u201b`\u2033")
_INCHES = re.compile(r"\d+\s?['\u2019\u2032]\s?\d+\Z")


def _orientation(text: str, start: int, end: int, lo: int, hi: int) -> str:
    """'open', 'close' or 'amb' for a mark at text[start:end], from its neighbours in [lo, hi)."""
    if start == lo:
        return "open"  # nothing closes at a paragraph's start
    prev = text[start - 1]
    nxt = text[end] if end < hi else " "
    glyph = text[start]
    if (glyph == "\u00ab" and nxt.isspace()) or (glyph == "\u00bb" and prev.isspace()):
        return "open" if glyph == "\u00ab" else "close"  # French spacing: « Bonjour »
    opens = (prev.isspace() or prev in _OPEN_BEFORE or prev in _QUOTE_CHARS) and not nxt.isspace()
    closes = not prev.isspace() and (nxt.isspace() or nxt in _CLOSE_AFTER or nxt in _QUOTE_CHARS)
    if opens and not closes:
        return "open"
    if closes and not opens:
        return "close"
    glyph = text[start]
    if glyph in _OPEN_GLYPHS:
        return "open"
    if glyph in _CLOSE_GLYPHS:
        return "close"
    return "amb"


@dataclass
class _Mark:
    start: int
    end: int
    orient: str


def _double_marks(text: str, lo: int, hi: int, open_before: bool) -> list[_Mark]:
    """Double quotation marks in the paragraph text[lo:hi], inch marks left out."""
    marks: list[_Mark] = []
    is_open = open_before
    for m in _DOUBLE_MARK.finditer(text, lo, hi):
        start, end = m.span()
        token = m.group()
        if token == "'''":  # a nested single quote next to a double one
            orient = _orientation(text, start, end, lo, hi)
            start, end = (start + 1, end) if orient == "close" else (start, end - 1)
        orient = _orientation(text, start, end, lo, hi)
        if text[start - 1 : start] == "=" or text[end : end + 1] == ">":
            continue  # an HTML attribute's quotes: tweet-date="..."
        if token in ('"', "\u201d", "\u2033", "''") and start > lo and text[start - 1].isdigit():
            head = text[max(lo, start - 8) : start]
            if not is_open or _INCHES.search(head):  # 6'2", 12" screen
                continue
        if token == "''" and orient == "amb":
            continue
        marks.append(_Mark(start, end, orient))
        is_open = (orient != "close") if not is_open else orient == "open"
    return marks


# --- paragraphs ------------------------------------------------------------------------------

_TRANSCRIPT = re.compile(r"([A-Z][A-Z.'\- ]{0,38}[A-Z.]|Q|A)(?: \([^)\n]{1,40}\))?:[ \t]+(?=\S)")
_NOT_SPEAKERS = frozenset(
    {
        "CLARIFICATION",
        "CORRECTION",
        "UPDATE",
        "UPDATED",
        "EDITOR'S NOTE",
        "NOTE",
        "WATCH",
        "READ MORE",
        "RELATED",
        "PHOTOS",
        "PHOTO",
        "VIDEO",
        "SEE ALSO",
        "ALSO",
        "MORE",
        "SOURCE",
        "SOURCES",
        "CREDIT",
        "WASHINGTON",
        "NEW YORK",
        "LIVE",
        "BREAKING",
        "EXCLUSIVE",
        "FACT CHECK",
        "ANALYSIS",
        "OPINION",
        "A",
    }
)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each line holding more than white space, trailing space trimmed."""
    spans = []
    for m in _PARAGRAPH.finditer(text):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start < end:
            spans.append((start, end))
    return spans


def _family(glyph: str) -> str:
    """Marks a writer pairs: straight, curly or guillemets."""
    if glyph[0] in "\"'`":
        return "straight"
    return "guillemet" if glyph[0] in "\u00ab\u00bb" else "curly"


def _opens_with_mark(text: str, lo: int, hi: int, family: str) -> bool:
    """Whether a paragraph starts with an opening double mark of `family` (a quote continues)."""
    m = _DOUBLE_MARK.match(text, lo, hi)
    return m is not None and _family(m.group()) == family


@dataclass
class _Builder:
    """A quotation being read: pieces so far and the open mark of the current one."""

    pieces: list[Piece] = field(default_factory=list)
    open_mark: tuple[int, int] | None = None
    inner: tuple[int, int] | None = None  # an opening mark inside the open quotation
    nested: list[tuple[int, int]] = field(default_factory=list)
    inner_quotes: list[Quotation] = field(default_factory=list)  # nested doubles, closed
    doubtful: bool = False  # the open mark had white space on both sides
    label: str | None = None  # "PENCE" when a quoted transcript turn opens: "PENCE: Well, ...
    content_from: int = 0  # where the current piece's words start (after a turn's label)

    def finish(self, closed: bool) -> Quotation:
        """The quotation read so far."""
        done = _make(self.pieces, closed)
        return _with(done, nested=tuple(self.nested), speaker_label=self.label)


def _piece(
    text: str,
    open_mark: tuple[int, int],
    close_mark: tuple[int, int] | None,
    end: int,
    content_from: int = 0,
) -> Piece:
    """The piece between an opening mark and `end`, white space inside the marks trimmed."""
    start = max(open_mark[1], min(content_from, end))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Piece(start, end, open_mark, close_mark)


def _make(pieces: list[Piece], closed: bool, style: MarkStyle = MarkStyle.DOUBLE) -> Quotation:
    first, last = pieces[0], pieces[-1]
    outer_start = first.open_mark[0] if first.open_mark else first.start
    outer_end = last.close_mark[1] if last.close_mark else last.end
    return Quotation(first.start, last.end, outer_start, outer_end, tuple(pieces), style, closed)


def _find_raw(text: str) -> list[Quotation]:
    """Every quotation, unclassified, in text order."""
    found: list[Quotation] = []
    inner: list[Quotation] = []  # double quotations nested in another, listed on their own too
    paragraphs = _paragraphs(text)
    building = _Builder()
    for index, (lo, hi) in enumerate(paragraphs):
        para_found: list[Quotation] = []
        covered: list[tuple[int, int]] = []  # content of quotations still open at the end
        turn = _TRANSCRIPT.match(text, lo, hi) if not building.pieces else None
        if turn and turn.group(1).strip() not in _NOT_SPEAKERS:
            piece = Piece(turn.end(), hi, None, None)
            quotation = _make([piece], True, MarkStyle.TRANSCRIPT)
            found.append(_with(quotation, outer_start=lo, speaker_label=turn.group(1).strip()))
            continue
        for mark in _double_marks(text, lo, hi, building.open_mark is not None):
            span = (mark.start, mark.end)
            if building.open_mark is None:
                if mark.orient == "close":
                    continue  # a lone closing mark
                turn = _TRANSCRIPT.match(text, mark.end, hi) if mark.start == lo else None
                if turn and turn.group(1).strip() in _NOT_SPEAKERS:
                    turn = None
                if building.pieces and (mark.start != lo or turn):  # a new quotation starts
                    para_found.append(building.finish(False))
                    inner.extend(building.inner_quotes)
                    building = _Builder()
                if turn:  # "PENCE: Well, look, ...: a quoted transcript turn
                    building.label, building.content_from = turn.group(1).strip(), turn.end()
                building.open_mark = span
                building.doubtful = mark.orient == "amb"
            elif building.inner is not None:  # inside a double quotation nested in another
                if mark.orient == "open":
                    building.inner = span  # the nested one was a lone mark
                else:
                    building.nested.append((building.inner[1], mark.start))
                    piece = _piece(text, building.inner, span, mark.start)
                    if piece.end > piece.start:
                        building.inner_quotes.append(_make([piece], True))
                    building.inner = None
            elif mark.orient == "open":  # "He called it "fake" news": nested, or a lone mark
                building.inner = span
            else:
                if mark.start > building.open_mark[1] or building.pieces:
                    piece = _piece(
                        text, building.open_mark, span, mark.start, building.content_from
                    )
                    building.pieces.append(piece)
                    para_found.append(building.finish(True))
                    inner.extend(building.inner_quotes)
                building = _Builder()
        if building.open_mark is not None:  # the paragraph ends inside a quotation
            if building.inner is not None:  # the inner mark opened a new quotation after all
                building.pieces, building.nested, building.inner_quotes = [], [], []
                building.open_mark, building.inner = building.inner, None
            piece = _piece(text, building.open_mark, None, hi, building.content_from)
            family = _family(text[building.open_mark[0]])
            following = paragraphs[index + 1] if index + 1 < len(paragraphs) else None
            if piece.end > piece.start:
                building.pieces.append(piece)
            if building.doubtful and len(building.pieces) == 1:
                building.pieces = []  # a lone mark with white space on both sides
            if following and building.pieces and _opens_with_mark(text, *following, family):
                building.open_mark = None  # continues in the next paragraph
                covered.append((piece.start, piece.end))
            else:
                if building.pieces:
                    para_found.append(building.finish(False))
                    inner.extend(building.inner_quotes)
                building = _Builder()
        elif building.pieces:  # carried into this paragraph but never reopened
            para_found.append(building.finish(False))
            inner.extend(building.inner_quotes)
            building = _Builder()
        found.extend(_with_singles(text, lo, hi, para_found, covered))
    if inner:
        found.extend(inner)
        found.sort(key=lambda q: q.outer_start)
    return found


def _with(quotation: Quotation, **changes: Any) -> Quotation:
    """A copy of the quotation with some fields changed."""
    return replace(quotation, **changes)


def _single_orientation(text: str, start: int, lo: int, hi: int) -> str:
    prev = text[start - 1] if start > lo else " "
    nxt = text[start + 1] if start + 1 < hi else " "
    if prev.isalnum() and nxt.isalnum():
        return "apostrophe"  # don't, O'Brien, Clinton's (straight or curly)
    if (prev.isspace() or prev in _OPEN_BEFORE or prev in _QUOTE_CHARS) and nxt.isalpha():
        return "open"
    if not prev.isspace() and not nxt.isalnum():
        return "close"
    return "none"


def _with_singles(
    text: str, lo: int, hi: int, doubles: list[Quotation], covered: list[tuple[int, int]]
) -> list[Quotation]:
    """The paragraph's double quotations with nested singles listed, plus top-level singles."""
    regions: list[tuple[int, int, int]] = [(s, e, -1) for s, e in covered]
    for i, q in enumerate(doubles):
        regions.extend((p.start, p.end, i) for p in q.pieces if lo <= p.start <= hi)
    regions.sort()
    nested: dict[int, list[tuple[int, int]]] = {}
    singles: list[Quotation] = []
    r = 0
    opened: int | None = None
    opened_in = opened_r = -2
    for m in _SINGLE_MARK.finditer(text, lo, hi):
        pos = m.start()
        mark = text[pos]
        if mark in "'`" and mark in (text[pos - 1 : pos], text[pos + 1 : pos + 2]):
            continue  # part of a '' or `` double mark
        while r < len(regions) and regions[r][1] <= pos:
            r += 1
        inside = -2  # outside every double quotation
        if r < len(regions) and regions[r][0] <= pos:
            inside = regions[r][2]
        orient = _single_orientation(text, pos, lo, hi)
        if orient == "open" and (opened is None or opened_in != inside or r != opened_r):
            opened, opened_in, opened_r = pos, inside, r
        elif orient == "close" and opened is not None and opened_in == inside:
            if pos > opened + 1 and r == opened_r:
                if inside == -2:
                    piece = Piece(opened + 1, pos, (opened, opened + 1), (pos, pos + 1))
                    singles.append(_make([piece], True, MarkStyle.SINGLE))
                elif inside >= 0:
                    nested.setdefault(inside, []).append((opened + 1, pos))
            opened = None
    out = [
        _with(q, nested=tuple(sorted(q.nested + tuple(nested[i])))) if i in nested else q
        for i, q in enumerate(doubles)
    ]
    if singles:
        out.extend(singles)
        out.sort(key=lambda q: q.outer_start)
    return out


# --- hints -----------------------------------------------------------------------------------


def _words(spaced: str) -> frozenset[str]:
    """A set of the white-space separated words."""
    return frozenset(spaced.split())


SAID_VERBS = _words(
    """said says say saying told tells tell telling added adds adding asked asks asking wrote
    writes write writing explained explains explaining noted notes noting stated states declared
    declares declaring insisted insists insisting argued argues arguing claimed claims claiming
    continued continues recalled recalls responded responds replied replies tweeted tweets
    posted posts warned warns warning acknowledged acknowledges admitted admits agreed agrees
    announced announces boasted boasts charged charges complained complains conceded concedes
    countered counters cautioned cautions joked jokes predicted predicts promised promises
    quipped quips remarked remarks repeated repeats reported reports shouted shouts suggested
    suggests urged urges vowed vows yelled yells observed observes pointed emphasized emphasizes
    stressed stresses lamented laments mused muses called calls calling describes described
    describing thundered scoffed snapped sniped fumed blasted slammed touted touts pledged
    pledges according indicated indicates demanded demands scolded likened sings sang sing
    chanted chant chanting asserted asserts asserting contended contends maintained maintains
    retorted testified wondered speculated estimated pleaded mocked accused accuses praised
    reminded assured informed texted emailed interjected marveled conceding recalling
    acknowledging explaining"""
)

_TITLE_CUES = _words(
    """book film movie show series song album article essay op-ed oped column headline
    headlined titled entitled program programme documentary memo podcast segment episode
    play novel newsletter magazine blog report hashtag slogan campaign ad ads video poem
    speech bill act initiative operation anthem broadcast interview network channel memoir"""
)
_NAME_CUES = _words("""dubbed nicknamed named aka nickname moniker""")
_TERM_CUES = _words("""word words term terms phrase phrases label labels expression""")
_SCARE_CUES = _words("""so-called supposed supposedly alleged allegedly""")
_SMALL_WORDS = _words("""a an the of and or in on at to for by with from as is vs. vs nor but up""")
_WORD = re.compile(r"[\w][\w'\u2019\-.]*")
_SENTENCE_END = re.compile(r"[.!?\u2026]['\"\u2019\u201d)\]]*\s*\Z")


def _words_before(text: str, pos: int, lo: int, count: int) -> list[str]:
    """The last `count` words before pos within the paragraph, lowercased."""
    head = text[max(lo, pos - 80) : pos]
    return [w.lower().rstrip(".,") for w in _WORD.findall(head)[-count:]]


def _words_after(text: str, pos: int, hi: int, count: int) -> list[str]:
    tail = text[pos : min(hi, pos + 80)]
    return [w.lower().rstrip(".,") for w in _WORD.findall(tail)[:count]]


def _is_title_case(words: list[str]) -> bool:
    """Whether every word but small ones starts with a capital letter (and one at least does)."""
    caps = [w for w in words if w.lower() not in _SMALL_WORDS]
    return bool(caps) and all(w[0].isupper() or w[0].isdigit() for w in caps)


def _headline_like(text: str, lo: int, hi: int) -> bool:
    """Whether the paragraph is a headline: short, and title case throughout."""
    if hi - lo > 400:
        return False
    words = [w for w in _WORD.findall(text[lo:hi]) if w.lower() not in _SMALL_WORDS]
    if not words or len(words) > 30:
        return False
    return sum(1 for w in words if w[0].isupper() or w[0].isdigit()) >= 0.9 * len(words)


_SENTENCE_STOP = re.compile(r"[.!?][\"'\u201d\u2019)]*\s+(?=[A-Z\"\u201c])")
_SENTENCE_CUES = SAID_VERBS - {"according", "reports", "reported", "posts", "posted", "states"}


def _said_in_sentence(text: str, lo: int, pos: int) -> bool:
    """Whether a said-verb comes earlier in the sentence: Smith said it was "a disgrace"."""
    window = text[max(lo, pos - 200) : pos]
    stops = list(_SENTENCE_STOP.finditer(window))
    sentence = window[stops[-1].end() :] if stops else window
    return any(w in _SENTENCE_CUES for w in re.findall(r"[a-z]+", sentence))


def _classify(text: str, q: Quotation, lo: int, hi: int) -> Quotation:
    """Set partial, hint and reason from the words in and around the quotation."""
    if q.style is MarkStyle.TRANSCRIPT:
        return _with(q, reason="transcript turn")
    content = text[q.start : q.end]
    words = _WORD.findall(content)
    before = _words_before(text, q.outer_start, lo, 3)
    after = _words_after(text, q.outer_end, hi, 4)
    head = text[max(lo, q.outer_start - 4) : q.outer_start].rstrip()
    starts_sentence = not head or head[-1] in ".:!?\u2014\u2013-(" or head[-1] in _QUOTE_CHARS
    follows_comma = bool(head) and head[-1] == ","
    cue_near = bool(SAID_VERBS.intersection(before[-2:]) or SAID_VERBS.intersection(after))
    first_alpha = next((c for c in content if c.isalpha()), "")
    sentence_like = len(words) >= 3 and (
        _SENTENCE_END.search(content) is not None or content.rstrip().endswith(",")
    )
    partial = not (
        (starts_sentence or follows_comma or (before and before[-1] in SAID_VERBS))
        and (first_alpha.isupper() or not first_alpha or q.multi_paragraph)
    )
    in_headline = _headline_like(text, lo, hi)
    title_case = bool(words) and _is_title_case(words) and not in_headline
    said_right_before = bool(before) and before[-1] in SAID_VERBS and head[-1:] in (",", ":")
    said_right_after = bool(SAID_VERBS.intersection(after[:2])) or (
        len(after) >= 3 and after[2] in SAID_VERBS
    )
    possessive = head.endswith(("'s", "\u2019s"))
    whole_paragraph = q.outer_start <= lo + 1 and q.outer_end >= hi - 1
    if whole_paragraph and words and _is_title_case(words) and len(words) <= 8 and lo > 0:
        return _with(q, partial=True, hint=QuotationHint.TITLE, reason="subheading")
    if title_case and len(words) <= 8 and not said_right_before:
        cued = set(before[-3:]) & _TITLE_CUES or set(after[:2]) & _TITLE_CUES
        if possessive or cued or before[-1:] == ["on"]:
            return _with(q, partial=True, hint=QuotationHint.TITLE, reason="titled work")
        word_before = text[max(lo, q.outer_start - 40) : q.outer_start]  # bounded: linear
        in_name = _NAME_BEFORE.search(word_before) and _NAME_AFTER.match(text, q.outer_end, hi)
        if len(words) <= 2 and in_name:  # Marcia "Cia" Price
            return _with(q, partial=True, hint=QuotationHint.NAME, reason="nickname in a name")
        if partial and not cue_near and not said_right_after:
            hint = QuotationHint.NAME if len(words) <= 2 else QuotationHint.TITLE
            return _with(q, partial=True, hint=hint, reason="capitalised, inside a sentence")
    if q.multi_paragraph or len(words) >= 6 or (sentence_like and len(words) >= 3):
        return _with(q, partial=partial, reason="sentence-like")
    if (before and before[-1] in _SCARE_CUES) or before[-2:] == ["so", "called"]:
        return _with(q, partial=True, hint=QuotationHint.SCARE, reason="after 'so-called'")
    if set(before[-2:]) & _TERM_CUES:
        return _with(q, partial=True, hint=QuotationHint.TERM, reason="after 'word/term/phrase'")
    if set(before[-2:]) & _NAME_CUES or before[-2:] == ["known", "as"]:
        return _with(q, partial=True, hint=QuotationHint.NAME, reason="after 'dubbed/known as'")
    if cue_near:
        return _with(q, partial=partial, reason="said-verb nearby")
    if (title_case and not sentence_like) or (title_case and len(words) <= 8 and not partial):
        hint = QuotationHint.NAME if len(words) <= 2 else QuotationHint.TITLE
        return _with(q, partial=True, hint=hint, reason="short, capitalised, no sentence")
    if not in_headline and len(words) <= 2 and partial:
        if _said_in_sentence(text, lo, q.outer_start):
            return _with(q, partial=True, reason="said-verb earlier in the sentence")
        return _with(
            q, partial=True, hint=QuotationHint.SCARE, reason="one or two words, mid-sentence"
        )
    return _with(q, partial=partial, reason="quoted words")


_NAME_BEFORE = re.compile(r"(?:\A|(?<=\s))[A-Z][\w.\-]* \Z")  # a capitalised word, the mark
_NAME_AFTER = re.compile(r" [A-Z]")


def find_quotations(text: str) -> list[Quotation]:
    """Every quotation the article marks, in text order, each with a speech/non-speech hint."""
    raw = _find_raw(text)
    if not raw:
        return []
    paragraphs = _paragraphs(text)
    out: list[Quotation] = []
    p = 0
    for q in raw:
        while p + 1 < len(paragraphs) and paragraphs[p][1] < q.outer_start:
            p += 1
        lo = paragraphs[p][0]
        last = p
        while last + 1 < len(paragraphs) and paragraphs[last][1] < q.outer_end:
            last += 1
        out.append(_classify(text, q, lo, paragraphs[last][1]))
    return out
