"""The extraction pipeline, one function a step, each callable and testable alone:

    read -> find quotations -> plan chunks -> prompt -> call -> ground -> resolve dates -> merge
    -> result

`Extractor.extract` runs them in this order; the call itself is `extractor.inference`'s. Grounding
checks every verbatim value while instructor validates the reply (so a re-ask names what was not
found); `ground` then reads the report the validated reply carries and, for the built-in schema,
turns the model's numbered answers into quotes whose spans come from the quotation finder
(`extractor.answers`). Spans in a `Part` index its chunk's text; `merge` makes them offsets into
the whole article. An article longer than the budget (`budget`: the model's context, `max_tokens`
and this prompt's own size) is planned as several chunks, never cut inside a quotation; a reply
cut at `max_tokens` keeps what it grounded and its chunk's uncovered part is planned again,
smaller (`cut`). `Progress` holds what an extraction grounded and spent so far, so an error keeps
every chunk's records (`partial`). Nothing here loads openai or instructor.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json

from extractor.alignment import ArticleIndex
from extractor.answers import TOOL_NAME, ArticleAnswer, assemble, one_name_each
from extractor.articles import check_text, parse_published
from extractor.chunking import (
    COMPLETION_RATIO,
    Chunk,
    budget_from_context,
    plan_chunks,
    plan_remainder,
)
from extractor.dates import parse_date_line
from extractor.errors import ConfigurationError, ExtractorError
from extractor.merging import merge_extractions, merge_lists, mergeable, shift_spans
from extractor.models import (
    ArticleExtraction,
    Event,
    Extraction,
    QuotationCoverage,
    RuledOut,
    Usage,
)
from extractor.prompting import MARKER, build_messages, sentence_marker
from extractor.quotations import Piece, Quotation, find_quotations
from extractor.response_model import (
    GroundingContext,
    grounding_report,
    response_model_for,
    to_schema,
)
from extractor.sentences import Sentence, find_sentences
from extractor.spans import Span

__all__ = [
    "ArticleInput",
    "Cut",
    "Part",
    "Progress",
    "Prompt",
    "budget",
    "cut",
    "failed",
    "find",
    "ground",
    "merge",
    "partial",
    "plan",
    "plan_article",
    "prompt",
    "read",
    "resolve_dates",
    "result",
]

if TYPE_CHECKING:
    from extractor.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleInput:
    """An article checked and ready: its text, its date, and the schema asked for."""

    text: str
    published: dt.date | None
    schema: type[BaseModel]

    @property
    def builtin(self) -> bool:
        """Whether the schema is the built-in `ArticleExtraction` (quotations first)."""
        return self.schema is ArticleExtraction


@dataclass(frozen=True)
class Prompt:
    """One request: messages, the response model, and what validation reads (its context)."""

    chunk: Chunk
    messages: list[dict[str, str]]
    response_model: type[BaseModel]
    context: GroundingContext


@dataclass(frozen=True)
class Part:
    """One chunk's records in the caller's schema; spans index the chunk's text."""

    chunk: Chunk
    data: BaseModel
    spans: dict[str, Span]


def read(
    text: str, published: str | dt.date | None, schema: type[BaseModel], *, max_chars: int
) -> ArticleInput:
    """Check the text and schema; the date is `published`, else the text's date line."""
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        raise ConfigurationError(f"schema must be a Pydantic model class, not {schema!r}")
    check_text(text, max_chars=max_chars)
    date = parse_published(published) or parse_date_line(text)[0]
    return ArticleInput(text, date, schema)


def find(article: ArticleInput) -> tuple[Quotation, ...]:
    """The quotations the article marks, for the built-in schema (none for a caller's own)."""
    return tuple(find_quotations(article.text)) if article.builtin else ()


CHARS_PER_TOKEN = 4.0
"""Characters a token, for English news with GPT-style tokenisers (an estimate, not a count)."""

_MESSAGE_TOKENS = 4  # framing a chat message costs (role, separators)

REPLY_RATIO = COMPLETION_RATIO
"""Reply tokens expected per article token, for `budget`: chunking's 1.5.

Measured with this pipeline's prompt (quotations and sentences answered by number) against the
scripted perfect model, which makes an event of every sentence: about 1.0 (2,629 completion
tokens for the article x10's first 10,500-character chunk; benchmarks/long_article.py). 1.5
leaves room for a model that says more; a reply cut at max_tokens anyway keeps what it grounded
and its chunk's rest is asked again (`cut`).
"""

PARALLEL_CHUNK_CHARS = 5_000
"""Smallest chunk `aextract` makes to answer sooner: chunks answer side by side, so a long
article in more, smaller chunks is done in the time of one small reply instead of one long one.
Each extra chunk costs its prompt's overhead (about 600 tokens with the built-in schema) again,
so chunks stay about this long or longer. On the article x10 (21,000 characters, 0.3 s + 5 ms per
output token): 2 chunks take 27 s with `extract`, 5 balanced chunks 8 to 9 s with `aextract`, for
2,000 more prompt tokens."""


def parallel_budget(
    article: ArticleInput, quotations: Sequence[Quotation], budget_chars: int, concurrency: int
) -> int:
    """A chunk budget for chunks answered side by side: as many as `concurrency` allows, none
    much under `PARALLEL_CHUNK_CHARS`, and about equal, so that no reply keeps the rest waiting.

    The smallest budget, a few percent at a time above an equal share, that `plan` fits into
    that many chunks; never more than `budget_chars` (the context's and max_tokens' bound).
    """
    length = len(article.text)
    count = min(max(1, concurrency), -(-length // PARALLEL_CHUNK_CHARS))
    if count <= 1 or length <= budget_chars // count:
        return budget_chars
    share = -(-length // count)
    for step in range(11):
        candidate = min(budget_chars, share + _overlap(share) + share * step // 20)
        if len(plan(article, quotations, candidate)) <= count or candidate == budget_chars:
            return candidate
    return min(budget_chars, share * 3 // 2)


@cache
def _overhead_chars(schema: type[BaseModel]) -> int:
    """Characters of a request for `schema` besides the article: messages and the tool's schema."""
    builtin = schema is ArticleExtraction
    asked = ArticleAnswer if builtin else schema
    name = TOOL_NAME if builtin else None
    numbered = (Sentence(0, 0),) if builtin else ()  # the rules for answering by number
    messages = build_messages("", asked, dt.date(2025, 1, 1), sentences=numbered, name=name)
    chars = sum(len(m["content"]) for m in messages)
    model = response_model_for(ArticleAnswer, TOOL_NAME) if builtin else response_model_for(schema)
    tool = {"name": model.__name__, "description": model.__doc__ or "", "parameters": {}}
    return chars + len(json.dumps(model.model_json_schema())) + len(json.dumps(tool))


def prompt_overhead_tokens(article: ArticleInput, quotations: Sequence[Quotation] = ()) -> int:
    """Tokens of a request besides the article's text: instructions, schema, framing, markers.

    Measured on the actual prompt of an empty article (once per schema); every quotation's
    ``[Qn]`` marker and every sentence's number are counted as if all were in one chunk.
    """
    markers = sum(len(MARKER.format(n=n)) for n in range(1, len(quotations) + 1))
    if article.builtin:
        count = len(
            find_sentences(article.text, [(q.outer_start, q.outer_end) for q in quotations])
        )
        form = sentence_marker(article.text)
        markers += sum(len(form.format(n=n)) for n in range(1, count + 1))
    chars = _overhead_chars(article.schema) + markers
    return int(chars / CHARS_PER_TOKEN) + 2 * _MESSAGE_TOKENS + 8


def budget(
    article: ArticleInput,
    quotations: Sequence[Quotation] = (),
    *,
    context_tokens: int,
    max_tokens: int,
) -> int:
    """The longest chunk, in characters, whose request fits the context and reply max_tokens.

    Raises ConfigurationError (naming the settings to change) when no article text would fit.
    """
    overhead = prompt_overhead_tokens(article, quotations)
    try:
        return budget_from_context(
            context_tokens, max_tokens, overhead, CHARS_PER_TOKEN, completion_ratio=REPLY_RATIO
        )
    except ConfigurationError as error:
        raise ConfigurationError(
            f"{error.message} (settings context_tokens / EXTRACTOR_CONTEXT_TOKENS and "
            "max_tokens / EXTRACTOR_MAX_TOKENS)"
        ) from None


def _overlap(budget_chars: int) -> int:
    """Characters neighbouring chunks share: a sentence or two, at most a tenth of a chunk."""
    return min(300, budget_chars // 10)


def _protected(quotations: Sequence[Quotation]) -> list[tuple[int, int]]:
    return [(q.outer_start, q.outer_end) for q in quotations]


def plan(
    article: ArticleInput,
    quotations: Sequence[Quotation] = (),
    budget_chars: int | None = None,
    *,
    passes: int = 1,
) -> list[Chunk]:
    """The chunks to send, every pass's: the whole article when it fits `budget_chars` (or none).

    A longer article is split on paragraph and sentence boundaries, never inside a quotation (the
    quotations' outer spans are protected), neighbours overlapping by a sentence or two
    (`extractor.chunking.plan_chunks`). Each further pass asks every chunk again.
    Raises ConfigurationError when a caller's schema would be asked more than once but its
    results cannot be merged (a field that is not a list).
    """
    if budget_chars is None or len(article.text) <= budget_chars:
        chunks = [Chunk(0, len(article.text))]
    else:
        chunks = plan_chunks(
            article.text,
            budget_chars=budget_chars,
            overlap_chars=_overlap(budget_chars),
            protected=_protected(quotations),
        )
    chunks = chunks * passes
    if len(chunks) > 1 and not article.builtin and not mergeable(article.schema):
        raise ConfigurationError(
            f"{article.schema.__name__} would be extracted in {len(chunks)} requests "
            f"({len(article.text):,} characters, chunks of {budget_chars:,}, {passes} pass(es)) "
            "but its results can be merged only when every field is a list: make its fields "
            "lists, raise context_tokens / max_tokens, or set extraction_passes=1"
        )
    return chunks


def plan_article(
    article: ArticleInput,
    quotations: Sequence[Quotation],
    settings: Settings,
    *,
    concurrent: bool = False,
) -> list[Chunk]:
    """budget -> plan with `settings`: the chunks `Extractor.extract` asks (`concurrent`: those of
    `aextract`, more and smaller, answered side by side, `parallel_budget`)."""
    chars = budget(
        article, quotations, context_tokens=settings.context_tokens, max_tokens=settings.max_tokens
    )
    if concurrent:
        chars = parallel_budget(article, quotations, chars, settings.max_concurrency)
    return plan(article, quotations, chars, passes=settings.extraction_passes)


def _moved(q: Quotation, by: int) -> Quotation:
    """`q` with every offset moved by `by` (into a chunk's text: minus the chunk's start)."""

    def mark(m: tuple[int, int] | None) -> tuple[int, int] | None:
        return None if m is None else (m[0] + by, m[1] + by)

    pieces = tuple(
        Piece(p.start + by, p.end + by, mark(p.open_mark), mark(p.close_mark)) for p in q.pieces
    )
    return replace(
        q,
        start=q.start + by,
        end=q.end + by,
        outer_start=q.outer_start + by,
        outer_end=q.outer_end + by,
        pieces=pieces,
        nested=tuple((s + by, e + by) for s, e in q.nested),
    )


def prompt(article: ArticleInput, chunk: Chunk, quotations: Sequence[Quotation] = ()) -> Prompt:
    """The request for one chunk; its quotations numbered [Q1].. in the article's copy."""
    text = chunk.text_of(article.text)
    inside = tuple(
        _moved(q, -chunk.start)
        for q in quotations
        if chunk.start <= q.outer_start and q.outer_end <= chunk.end
    )
    if not article.builtin:
        context = GroundingContext(ArticleIndex(text))
        messages = build_messages(text, article.schema, article.published)
        return Prompt(chunk, messages, response_model_for(article.schema), context)
    sentences = find_sentences(
        text, [(q.outer_start, q.outer_end) for q in inside], start=_date_line_end(text, chunk)
    )
    context = GroundingContext(ArticleIndex(text), inside, sentences)
    model = response_model_for(ArticleAnswer, TOOL_NAME)
    messages = build_messages(
        text, ArticleAnswer, article.published, inside, sentences, name=TOOL_NAME
    )
    return Prompt(chunk, messages, model, context)


def _date_line_end(text: str, chunk: Chunk) -> int:
    """Where the article proper starts in the first chunk's text: after its date line, if any."""
    return len(text) - len(parse_date_line(text)[1]) if chunk.start == 0 else 0


def _records(
    article: ArticleInput, request: Prompt, reply: BaseModel, *, unanswered: bool = True
) -> BaseModel:
    """A validated (or partly grounded) reply as the caller's schema."""
    if isinstance(reply, ArticleAnswer):
        text = request.chunk.text_of(article.text)
        context = request.context
        return assemble(reply, text, context.quotations, context.sentences, unanswered=unanswered)
    return to_schema(reply, article.schema)


def ground(article: ArticleInput, request: Prompt, reply: BaseModel) -> Part:
    """The validated reply's records with their spans (grounded while validating)."""
    spans = grounding_report(reply).spans
    data = _records(article, request, reply)
    if isinstance(data, ArticleExtraction):
        spans = data.spans
    return Part(request.chunk, data, spans)


def _events(obj: Any) -> Iterator[Event]:
    """Every `Event` inside `obj`, through models, lists, tuples and dicts."""
    if isinstance(obj, Event):
        yield obj
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _events(getattr(obj, name))
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _events(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _events(item)


def resolve_dates(part: Part, published: dt.date | None) -> Part:
    """Date every event from its `date_text` against the date line (in place); the part."""
    data = part.data
    events = data.events if isinstance(data, ArticleExtraction) else _events(data)
    for event in events:
        event.date_from_text(published)
    return part


def _coverage(
    merged: ArticleExtraction, parts: Sequence[ArticleExtraction], quotations: Sequence[Quotation]
) -> QuotationCoverage:
    """Coverage computed again on the whole article (chunks overlap: summing would count twice).

    A quotation is attributed when its merged quote was confirmed by the model, unattributed when
    its speaker came from the rules, ruled out when a part ruled it out and no model speaker was
    given for it anywhere (the model's "not speech" beats a rule's speaker: that quote is dropped).
    """
    ruled: dict[tuple[int, int], RuledOut] = {}
    for part in parts:
        for item in part.coverage.ruled_out if part.coverage else ():
            key = (item.span.start, item.span.end)
            if key not in ruled or item.by == "model":
                ruled[key] = item
    quotes = {(q.span.start, q.span.end): q for q in merged.quotes if q.span is not None}
    coverage = QuotationCoverage(found=len(quotations))
    dropped = set()
    for q in quotations:
        key = (q.start, q.end)
        quote = quotes.get(key)
        if quote is not None and quote.confirmed:
            coverage.attributed += 1
        elif key in ruled and (quote is None or ruled[key].by == "model"):
            coverage.ruled_out.append(ruled[key])
            if quote is not None:
                dropped.add(id(quote))
        elif quote is not None:
            coverage.unattributed.append(quote.span)  # type: ignore[arg-type]
    if dropped:
        merged.quotes = [q for q in merged.quotes if id(q) not in dropped]
    return coverage


def merge(article: ArticleInput, parts: Sequence[Part], quotations: Sequence[Quotation]) -> Part:
    """One part for the whole article: spans as article offsets, records found twice kept once,
    one name per person, coverage counted on the whole article.

    A caller's schema split into chunks is merged when each of its fields is a list
    (`extractor.merging.merge_lists`); else ConfigurationError.
    """
    whole = Chunk(0, len(article.text))
    if len(parts) == 1 and parts[0].chunk == whole:
        merged = parts[0]
    elif all(isinstance(p.data, ArticleExtraction) for p in parts):
        shifted = [shift_spans(p.data, p.chunk.start, article.text) for p in parts]
        data = merge_extractions(shifted)  # type: ignore[arg-type]
        data.coverage = _coverage(data, shifted, quotations)  # type: ignore[arg-type]
        merged = Part(whole, data, data.spans)
    else:
        own, spans = merge_lists(
            [(p.data, p.spans, p.chunk.start) for p in parts], article.text, article.schema
        )
        merged = Part(whole, own, spans)
    if isinstance(merged.data, ArticleExtraction):
        one_name_each(merged.data, article.text)
    return merged


def result(
    article: ArticleInput, merged: Part, usage: Usage
) -> ArticleExtraction | Extraction[Any]:
    """What `extract` returns: the records with their spans, date, coverage and cost."""
    data = merged.data
    if isinstance(data, ArticleExtraction):
        data.published, data.usage = article.published, usage
        return data
    return Extraction[article.schema](  # type: ignore[name-defined]
        data=data, spans=merged.spans, published=article.published, usage=usage
    )


# --- progress, failures and cut replies ------------------------------------------------------


@dataclass
class Progress:
    """What one extraction has grounded and spent so far, over every chunk, pass and re-ask."""

    parts: list[Part] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    failed: list[Part] = field(default_factory=list)  # failed calls' grounded records

    def add(self, part: Part | None, usage: Usage | None) -> None:
        """Count a call's usage and keep its part (None: nothing grounded)."""
        if part is not None:
            self.parts.append(part)
        if usage is not None:
            self.usage = self.usage.add(usage)


def failed(
    article: ArticleInput, progress: Progress, request: Prompt, error: ExtractorError
) -> None:
    """Count a failed call's usage and keep the records its last attempt did ground."""
    last = request.context.partial
    if last is not None:
        # Only what the model's answer grounded: it was not accepted, so no coverage is claimed.
        data = _records(article, request, last, unanswered=False)
        spans = data.spans if isinstance(data, ArticleExtraction) else grounding_report(last).spans
        progress.failed.append(resolve_dates(Part(request.chunk, data, spans), article.published))
    progress.add(None, error.usage)


def partial(
    article: ArticleInput, progress: Progress, quotations: Sequence[Quotation]
) -> ArticleExtraction | Extraction[Any] | None:
    """Everything grounded before an error, as one result (spans article-wide); None if nothing."""
    parts = progress.parts + progress.failed
    if not parts:
        return None
    merged = merge(article, parts, quotations)
    if progress.failed and isinstance(merged.data, ArticleExtraction) and not progress.parts:
        merged.data.coverage = None
    data = result(article, merged, progress.usage)
    return data.data if isinstance(data, Extraction) else data


@dataclass(frozen=True)
class Cut:
    """After a reply cut at max_tokens: what it grounded, and the chunks to ask again."""

    kept: Part | None
    again: list[Chunk]
    stuck: bool  # nothing grounded, or the chunk cannot be made smaller: give up


MIN_CHUNK_CHARS = 200
"""A chunk is not cut smaller than this to ask again: a sentence or two."""


def _cut_reply(error: ExtractorError) -> str | None:
    """The text of the reply cut at max_tokens: tool-call arguments, or the message's content."""
    completion = getattr(error.__cause__, "last_completion", None)
    try:
        message = completion.choices[0].message  # type: ignore[union-attr]
    except (AttributeError, IndexError, TypeError):
        return None
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        arguments = getattr(getattr(calls[0], "function", None), "arguments", None)
        return arguments if isinstance(arguments, str) else None
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else None


def _complete_prefix(raw: str) -> tuple[dict[str, Any], str | None]:
    """The records a cut JSON reply holds whole, and the key it was cut in (None: unknown)."""
    at = raw.find("{")
    if at < 0:
        return {}, None
    try:
        value = from_json(raw[at:], allow_partial=True)
    except ValueError:
        return {}, None
    if not isinstance(value, dict) or not value:
        return {}, None
    last = list(value)[-1]
    if isinstance(value[last], list):
        value[last] = value[last][:-1]  # the record being written when the reply was cut
    else:
        del value[last]
    return value, last


def _looping(candidate: dict[str, Any], text: str) -> bool:
    """Whether a list repeats a record more often than the text repeats its words (a model
    looping); if so each list is left with one of each (in place).

    A record may rightly come twice when the article says the same thing twice: its longest
    string value then occurs as often in the text.
    """
    lowered = text.lower()
    looping = False
    for items in candidate.values():
        if not isinstance(items, list):
            continue
        counts = Counter(json.dumps(item, sort_keys=True) for item in items)
        for dumped, count in counts.items():
            if count < 2:
                continue
            words = max(_strings(json.loads(dumped)), key=len, default="").lower()
            if not words or count > max(1, lowered.count(words)):
                looping = True
    if looping:
        for key, items in candidate.items():
            if isinstance(items, list):
                unique = {json.dumps(item, sort_keys=True): item for item in items}
                candidate[key] = list(unique.values())
    return looping


def _strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _validated(request: Prompt, candidate: dict[str, Any]) -> BaseModel | None:
    """`candidate` validated and grounded, records that fail dropped; None if nothing is left."""
    context = replace(request.context, partials=[])
    for _ in range(4):
        try:
            return request.response_model.model_validate(
                candidate, context=context.as_validation_context()
            )
        except ValidationError as error:
            if context.partial is not None:
                return context.partial  # grounded, but some records were not: those dropped
            bad = {(e["loc"][0], e["loc"][1]) for e in error.errors() if len(e["loc"]) > 1}
            if not bad:
                return None
            candidate = {
                key: [v for i, v in enumerate(items) if (key, i) not in bad]
                if isinstance(items, list)
                else items
                for key, items in candidate.items()
            }
    return None


def _reach(value: Any, context: GroundingContext) -> int:
    """How far into the chunk a record reaches: its spans' ends, a quotation's or sentence's end."""
    ends = [0]
    quotations, sentences = context.quotations, context.sentences
    number = getattr(value, "n", None)
    if isinstance(number, int) and 1 <= number <= len(quotations):
        ends.append(quotations[number - 1].outer_end)
    sentence = getattr(value, "s", None)
    if isinstance(sentence, int) and 1 <= sentence <= len(sentences):
        ends.append(sentences[sentence - 1].end)
    if isinstance(value, Span):
        ends.append(value.end)
    elif isinstance(value, BaseModel):
        ends.extend(_reach(getattr(value, name), context) for name in type(value).model_fields)
    elif isinstance(value, (list, tuple)):
        ends.extend(_reach(item, context) for item in value)
    return max(ends)


_QUOTATION_ANSWERS = ("speakers", "not_speech", "reported", "quotes")
"""The built-in answer's fields that `ArticleAnswer` gathers into its `quotes`."""


def _covered(reply: BaseModel, candidate: dict[str, Any], cut_in: str | None, context: Any) -> int:
    """How far into the chunk a cut reply is complete (0: nowhere).

    Collections are written in the order the schema shows them: one before the one the reply
    was cut in and missing from it was left out (nothing to say); one after it was not begun, so
    nothing is complete. The collection it was cut in is complete as far as its last whole
    record reaches.
    """
    fields = [n for n in type(reply).model_fields if isinstance(getattr(reply, n), (list, dict))]
    if cut_in not in fields:
        return 0
    shown = type(reply).model_json_schema().get("properties", {})  # not those read, not asked
    later = [n for n in fields[fields.index(cut_in) + 1 :] if n in shown]
    if not all(n in candidate for n in later):
        return 0
    if isinstance(reply, ArticleAnswer) and cut_in in _QUOTATION_ANSWERS:
        return _reach(reply.quotes, context)
    return _reach(getattr(reply, cut_in), context)


def cut(
    article: ArticleInput, request: Prompt, error: ExtractorError, quotations: Sequence[Quotation]
) -> Cut:
    """What a reply cut at max_tokens grounded, and its chunk's uncovered part, planned smaller.

    The cut reply's records written whole are validated and grounded (those that fail dropped).
    The chunk is covered as far as the collection it was cut in reaches, when no collection comes
    after that one (`_covered`); else not at all. The uncovered part starts
    at the last sentence boundary before that point and is planned with half the chunk's length
    as budget (`extractor.chunking.plan_remainder`). Stuck (give up) when nothing was grounded,
    the chunk cannot be made smaller, or the reply repeats a record (a model looping: asking
    again, smaller, would loop too).
    """
    chunk = request.chunk
    raw = _cut_reply(error)
    candidate, cut_in = _complete_prefix(raw) if raw else ({}, None)
    looping = _looping(candidate, chunk.text_of(article.text))
    reply = _validated(request, candidate) if candidate else None
    if reply is None:
        return Cut(None, [], stuck=True)
    kept = resolve_dates(ground(article, request, reply), article.published)
    if looping:  # a model looping, not a long reply: a smaller chunk would loop too
        return Cut(kept, [], stuck=True)
    covered = chunk.start + _covered(reply, candidate, cut_in, request.context)
    size = chunk.end - chunk.start
    half = size // 2
    if half < MIN_CHUNK_CHARS:
        return Cut(kept, [], stuck=True)
    again = plan_remainder(
        article.text,
        chunk,
        max(covered, chunk.start),
        budget_chars=half,
        overlap_chars=_overlap(half),
        protected=_protected(quotations),
    )
    if any(c.end - c.start >= size for c in again):
        return Cut(kept, [], stuck=True)
    return Cut(kept, again, stuck=False)
