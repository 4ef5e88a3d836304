"""Sentences, numbered: what the model names by number instead of copying the words back.

An event's or a commitment's evidence, and speech reported without quotation marks, is one of the
article's sentences in the common case. The prompt writes a marker before each sentence
(`extractor.prompting`); the model answers with the sentence's number and the library takes the
sentence's text and offsets from here, exact by construction.

A sentence ends at ``.``, ``!`` or ``?`` followed by space and a capital or an opening mark
(abbreviations, initials and "U.S." are not ends: `extractor.alignment.sentence_ends`), and at
every line break. It never ends inside a quotation: ``"We will. We must," he said.`` is one
sentence. Nothing here loads openai or instructor.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from extractor.alignment import sentence_ends

__all__ = ["Sentence", "find_sentences", "sentence_breaks"]

_END_PUNCTUATION = frozenset(".!?")
_CLOSERS = frozenset("\"'\u201d\u2019\u00bb)]")


@dataclass(frozen=True)
class Sentence:
    """One sentence: ``text[start:end]``, without the space around it."""

    start: int
    end: int


def sentence_breaks(text: str) -> list[int]:
    """Offsets just past each sentence's end marks and closing quotes ('." ' -> after '"')."""
    length = len(text)
    out = []
    for at in sentence_ends(text):
        while at < length and text[at] in _END_PUNCTUATION:
            at += 1
        while at < length and text[at] in _CLOSERS:
            at += 1
        out.append(at)
    return out


def _breaks(text: str) -> list[int]:
    """Offsets just past each sentence's end marks and closing quotes, and every line break."""
    out = sentence_breaks(text)
    at = text.find("\n")
    while at != -1:
        out.append(at)
        at = text.find("\n", at + 1)
    return sorted(set(out))


def _inside(at: int, starts: list[int], ends: list[int]) -> bool:
    """Whether offset `at` falls strictly inside one of the sorted, disjoint spans."""
    i = bisect.bisect_right(starts, at) - 1
    return i >= 0 and starts[i] < at < ends[i]


def _disjoint(spans: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """The spans sorted and merged where they overlap, as parallel start and end lists."""
    starts: list[int] = []
    ends: list[int] = []
    for start, end in sorted(spans):
        if ends and start < ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def find_sentences(
    text: str, quotations: Sequence[tuple[int, int]] = (), *, start: int = 0
) -> tuple[Sentence, ...]:
    """The sentences of `text` from `start` on; none ends inside one of the `quotations`.

    `quotations` are (start, end) offsets. Line breaks end a sentence even inside a quotation (a
    quote running over paragraphs is a sentence a paragraph). Linear in the text's length, apart
    from sorting the quotations.
    """
    starts, ends = _disjoint([(s, e) for s, e in quotations if e - s >= 2])
    out: list[Sentence] = []
    begin = start
    for at in [*_breaks(text), len(text)]:
        if at <= start:
            continue
        if at < len(text) and text[at] != "\n" and _inside(at, starts, ends):
            continue
        first, last = begin, at
        while first < last and text[first].isspace():
            first += 1
        while last > first and text[last - 1].isspace():
            last -= 1
        if last > first:
            out.append(Sentence(first, last))
        begin = at
    return tuple(out)
