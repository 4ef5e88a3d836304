"""Chunk planning: split a long article into pieces a model can read and answer within its limits.

`plan_chunks` cuts an article into chunks of at most ``budget_chars`` characters:

- on a paragraph boundary (a blank line) when one falls in the second half of the budget, else on
  the last sentence boundary that fits (`extractor.alignment.sentence_ends`, which knows
  abbreviations and initials: "Feb. 24", "U.S. Army");
- never inside a protected span (a quotation found by the quotation finder): a boundary strictly
  inside one is never used;
- when no boundary fits (a sentence longer than the budget): if the budget ends inside a protected
  span, the chunk holds that span whole and ends at the first boundary after it (within another
  budget, else right after the span), so a quotation longer than the budget is one chunk with the
  rest of its sentence; otherwise it ends at the first boundary within a quarter budget more, else
  at the last white space outside every protected span, else at any character (never between a
  letter and its combining marks);
- neighbours overlap by whole sentences, at most ``overlap_chars`` characters, so a record stated
  across a boundary is seen whole by one chunk; records found twice are merged by
  `extractor.merging`.

Chunks cover the whole text in order; ``text[chunk.start:chunk.end]`` is a chunk's text, its
offsets index the whole article. Planning is deterministic and linear in the text's length (the
boundaries are found in one pass; each chunk looks them up by bisection). A text no longer than the
budget is one chunk.

`budget_from_context` turns a model's context size and ``max_tokens`` into a character budget.
`plan_remainder` plans again, smaller, what a reply cut at ``max_tokens`` did not cover.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from extractor.errors import ConfigurationError, InputError
from extractor.sentences import sentence_breaks

__all__ = [
    "COMPLETION_RATIO",
    "Chunk",
    "budget_from_context",
    "plan_chunks",
    "plan_remainder",
]

COMPLETION_RATIO = 1.5
"""Expected completion tokens per article token, for quote-heavy news (see `budget_from_context`).

Measured on the shared seed article (2,108 characters, about 527 tokens) against a perfect
scripted model: a raw instructor call answered in 715 completion tokens (1.4x the article), the
extractor that copies every quoted word back in 1,718 (3.3x; 17,072 for the article x10, 3.2x).
A quotation-first prompt (quotations numbered, not copied) targets at most 0.75x the raw call's
completion, about 1.0x the article. So the completion is not a fraction of the input for
quote-heavy news but about as long or longer; 1.5 leaves half again as much room as the
quotation-first target. A pipeline whose model copies the quotations should pass 3.5.
"""

_MIN_BUDGET_TOKENS = 64  # below this a chunk holds a sentence or two: the settings cannot work
_PARAGRAPH = re.compile(r"\n[^\S\n]*\n\s*")  # a blank line; the boundary is where the next begins


@dataclass(frozen=True)
class Chunk:
    """A piece of an article: ``text[start:end]``, offsets into the whole article."""

    start: int
    end: int

    def text_of(self, article: str) -> str:
        """The chunk's text in the article it was planned for."""
        return article[self.start : self.end]


def budget_from_context(
    context_tokens: int,
    max_tokens: int,
    prompt_overhead_tokens: int,
    chars_per_token: float = 4.0,
    *,
    completion_ratio: float = COMPLETION_RATIO,
) -> int:
    """The largest chunk, in characters, whose request fits the context and reply fits max_tokens.

    Two limits, in tokens of article text:

    - input: the context holds the prompt and the reply the server reserves room for, so
      ``context_tokens - max_tokens - prompt_overhead_tokens`` (overhead: instructions, schema,
      message framing, everything but the article);
    - output: the reply to a chunk of ``n`` article tokens is expected to be about
      ``completion_ratio * n`` tokens (see `COMPLETION_RATIO`: for quote-heavy news it is about as
      long as the article or longer, not a small fraction), and it must fit ``max_tokens``, so
      ``max_tokens / completion_ratio``.

    The budget is the smaller of the two times ``chars_per_token`` (about 4 for English news with
    GPT-style tokenisers; less for other languages), rounded down. E.g. context 8,192, max_tokens
    2,048, overhead 1,500: input 4,644, output 1,365 tokens, budget 5,461 characters.
    Raises ConfigurationError when fewer than 64 article tokens would fit.
    """
    if chars_per_token <= 0 or completion_ratio <= 0:
        raise ConfigurationError(
            f"chars_per_token ({chars_per_token}) and completion_ratio ({completion_ratio}) "
            "must be positive"
        )
    input_room = context_tokens - max_tokens - prompt_overhead_tokens
    output_room = max_tokens / completion_ratio
    tokens = min(input_room, output_room)
    if tokens < _MIN_BUDGET_TOKENS:
        raise ConfigurationError(
            f"no room for an article: context {context_tokens} tokens - max_tokens {max_tokens} - "
            f"prompt overhead {prompt_overhead_tokens} leaves {input_room}, and max_tokens / "
            f"{completion_ratio} (expected reply per article token) allows {output_room:.0f}; "
            f"at least {_MIN_BUDGET_TOKENS} are needed: raise the context or max_tokens"
        )
    return int(tokens * chars_per_token)


def _merged(protected: Sequence[tuple[int, int]], length: int) -> tuple[list[int], list[int]]:
    """Protected spans sorted and merged where they overlap, as parallel start and end lists.

    Spans shorter than two characters have no inside and are left out; spans that only touch stay
    apart (the point where they touch is outside both).
    """
    spans = []
    for start, end in protected:
        if not 0 <= start <= end <= length:
            raise InputError(
                f"protected span ({start}, {end}) is not within the text (0, {length}): "
                "pass spans of this text, start before end"
            )
        if end - start >= 2:
            spans.append((start, end))
    spans.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:
        if ends and start < ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _sentence_starts(text: str) -> list[int]:
    """Where each sentence after the first begins: past its predecessor's end marks and space."""
    starts = []
    length = len(text)
    for at in sentence_breaks(text):
        while at < length and text[at].isspace():
            at += 1
        starts.append(at)
    return starts


class _Planner:
    """The boundaries of one text, and the rules for picking a chunk's end among them."""

    def __init__(self, text: str, budget: int, protected: Sequence[tuple[int, int]]) -> None:
        self.text = text
        self.budget = budget
        self.span_starts, self.span_ends = _merged(protected, len(text))
        paragraphs = {m.end() for m in _PARAGRAPH.finditer(text)}
        candidates = sorted(paragraphs.union(_sentence_starts(text)))
        self.bounds: list[int] = []  # sentence and paragraph boundaries outside protected spans
        self.is_paragraph: list[bool] = []
        span = 0
        for at in candidates:
            if not 0 < at < len(text):
                continue
            while span < len(self.span_ends) and self.span_ends[span] <= at:
                span += 1
            if span < len(self.span_starts) and self.span_starts[span] < at:
                continue  # strictly inside a protected span
            self.bounds.append(at)
            self.is_paragraph.append(at in paragraphs)

    def inside(self, at: int) -> tuple[int, int] | None:
        """The protected span `at` is strictly inside, if any."""
        i = bisect.bisect_right(self.span_starts, at) - 1
        if i >= 0 and self.span_starts[i] < at < self.span_ends[i]:
            return self.span_starts[i], self.span_ends[i]
        return None

    def end_after(self, start: int, low: int) -> int | None:
        """The best sentence or paragraph boundary in ``(low, start + budget]``, or None."""
        first = bisect.bisect_right(self.bounds, low)
        last = bisect.bisect_right(self.bounds, start + self.budget) - 1
        if last < first:
            return None
        half = start + self.budget // 2
        for i in range(last, first - 1, -1):
            if self.bounds[i] < half:
                break
            if self.is_paragraph[i]:
                return self.bounds[i]
        return self.bounds[last]

    def first_bound_from(self, at: int) -> int | None:
        """The first sentence or paragraph boundary at or after `at`, or None."""
        i = bisect.bisect_left(self.bounds, at)
        return self.bounds[i] if i < len(self.bounds) else None

    def forced_end(self, start: int) -> int:
        """A chunk's end when no sentence fits: past a long protected span, at a space, anywhere."""
        text, limit = self.text, start + self.budget
        span = self.inside(limit)
        if span is not None:
            after = self.first_bound_from(span[1])
            if after is not None and after <= span[1] + self.budget:
                return after  # the quotation and the rest of its sentence, whole
            return span[1]
        after = self.first_bound_from(limit)  # the sentence's end, when it comes soon
        if after is not None and after <= limit + self.budget // 4:
            return after
        for at in range(limit, start, -1):  # else the last white space outside protected spans
            if text[at - 1].isspace() and not text[at].isspace() and self.inside(at) is None:
                return at
        at = limit  # else any character, not between a letter and its combining marks
        while at > start + 1 and unicodedata.combining(text[at]):
            at -= 1
        return limit if self.inside(at) is not None else at  # a quotation outranks a letter

    def overlap_start(self, start: int, end: int, overlap: int) -> int:
        """Where the next chunk begins: the earliest boundary in the last `overlap` characters."""
        i = bisect.bisect_left(self.bounds, max(start + 1, end - overlap))
        return self.bounds[i] if i < len(self.bounds) and self.bounds[i] < end else end


def plan_chunks(
    text: str,
    *,
    budget_chars: int,
    overlap_chars: int,
    protected: Sequence[tuple[int, int]] = (),
) -> list[Chunk]:
    """Split `text` into chunks of about `budget_chars`, never inside a protected span (see module).

    Consecutive chunks overlap by whole sentences, at most `overlap_chars` characters. A chunk is
    longer than the budget only when a protected span or a single sentence is.
    Raises ConfigurationError for a budget below 1 or a negative overlap, InputError for a
    protected span outside the text.
    """
    if budget_chars < 1 or overlap_chars < 0:
        raise ConfigurationError(
            f"budget_chars ({budget_chars}) must be at least 1 and overlap_chars "
            f"({overlap_chars}) at least 0"
        )
    length = len(text)
    if length <= budget_chars:
        _merged(protected, length)  # the same checks as for a long text
        return [Chunk(0, length)]
    planner = _Planner(text, budget_chars, protected)
    chunks: list[Chunk] = []
    start, previous_end = 0, 0
    while True:
        if start + budget_chars >= length:
            chunks.append(Chunk(start, length))
            return chunks
        end = planner.end_after(start, previous_end)
        if end is None and start < previous_end:  # the overlap leaves no room: drop it
            start = previous_end
            continue
        if end is None:
            end = planner.forced_end(start)
        chunks.append(Chunk(start, end))
        if end >= length:
            return chunks
        start, previous_end = planner.overlap_start(start, end, overlap_chars), end


def plan_remainder(
    text: str,
    chunk: Chunk,
    covered_until: int,
    *,
    budget_chars: int,
    overlap_chars: int,
    protected: Sequence[tuple[int, int]] = (),
) -> list[Chunk]:
    """Chunks for the part of `chunk` a cut reply did not cover, for asking again with less text.

    The part begins at the last sentence or paragraph boundary at or before `covered_until` (where
    the records the cut reply did ground end), never inside a protected span, or at the chunk's
    start when there is none; it ends where the chunk does. It is planned like an article
    (`plan_chunks`) with the budget given, which the caller makes smaller than the one that was cut
    (half of it, say). Offsets are the whole article's; an empty list when all is covered.
    """
    if covered_until >= chunk.end:
        return []
    planner = _Planner(
        text[chunk.start : chunk.end], max(budget_chars, 1), _within(protected, chunk)
    )
    i = bisect.bisect_right(planner.bounds, covered_until - chunk.start) - 1
    begin = chunk.start + (planner.bounds[i] if i >= 0 else 0)
    rest = Chunk(begin, chunk.end)
    pieces = plan_chunks(
        rest.text_of(text),
        budget_chars=budget_chars,
        overlap_chars=overlap_chars,
        protected=_within(protected, rest),
    )
    return [Chunk(begin + piece.start, begin + piece.end) for piece in pieces]


def _within(protected: Sequence[tuple[int, int]], chunk: Chunk) -> list[tuple[int, int]]:
    """The protected spans inside `chunk`, as offsets into its text (a chunk never cuts one)."""
    return [
        (start - chunk.start, end - chunk.start)
        for start, end in protected
        if chunk.start <= start and end <= chunk.end
    ]
