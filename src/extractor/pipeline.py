"""The extraction pipeline, one function a step, each callable and testable alone:

    read -> find quotations -> plan chunks -> prompt -> call -> ground -> resolve dates -> merge
    -> result

`Extractor.extract` runs them in this order; the call itself is `extractor.inference`'s. Grounding
checks every verbatim value while instructor validates the reply (so a re-ask names what was not
found); `ground` then reads the report the validated reply carries and, for the built-in schema,
turns the model's numbered answers into quotes whose spans come from the quotation finder
(`extractor.answers`). Spans in a `Part` index its chunk's text; `merge` makes them offsets into
the whole article. Today an article is one chunk (`plan`): that is the seam for long articles.
Nothing here loads openai or instructor.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from extractor.alignment import ArticleIndex
from extractor.answers import TOOL_NAME, ArticleAnswer, assemble, one_name_each
from extractor.articles import check_text, parse_published
from extractor.chunking import Chunk
from extractor.dates import parse_date_line
from extractor.errors import ConfigurationError
from extractor.merging import merge_extractions, shift_spans
from extractor.models import ArticleExtraction, Event, Extraction, QuotationCoverage, Usage
from extractor.prompting import build_messages
from extractor.quotations import Piece, Quotation, find_quotations
from extractor.response_model import (
    GroundingContext,
    grounding_report,
    response_model_for,
    to_schema,
)
from extractor.spans import Span

__all__ = [
    "ArticleInput",
    "Part",
    "Prompt",
    "find",
    "ground",
    "merge",
    "partial",
    "plan",
    "prompt",
    "read",
    "resolve_dates",
    "result",
]

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


def plan(article: ArticleInput, quotations: Sequence[Quotation] = ()) -> list[Chunk]:
    """The chunks to send: the whole article as one, for now (the seam for long articles).

    A planner must never cut inside a quotation (`extractor.chunking.plan_chunks` with the
    quotations' outer spans as ``protected``).
    """
    return [Chunk(0, len(article.text))]


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
    context = GroundingContext(ArticleIndex(text), inside)
    if article.builtin:
        model = response_model_for(ArticleAnswer, TOOL_NAME)
        messages = build_messages(text, ArticleAnswer, article.published, inside, name=TOOL_NAME)
    else:
        model = response_model_for(article.schema)
        messages = build_messages(text, article.schema, article.published)
    return Prompt(chunk, messages, model, context)


def _records(
    article: ArticleInput, request: Prompt, reply: BaseModel, *, unanswered: bool = True
) -> BaseModel:
    """A validated (or partly grounded) reply as the caller's schema."""
    if isinstance(reply, ArticleAnswer):
        text = request.chunk.text_of(article.text)
        return assemble(reply, text, request.context.quotations, unanswered=unanswered)
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
    for event in _events(part.data):
        event.date_from_text(published)
    return part


def _coverage(parts: Sequence[ArticleExtraction]) -> QuotationCoverage | None:
    """The chunks' coverages summed (their spans already article-wide)."""
    covered = [p.coverage for p in parts if p.coverage is not None]
    if not covered:
        return None
    total = QuotationCoverage()
    for c in covered:
        total.found += c.found
        total.attributed += c.attributed
        total.ruled_out += c.ruled_out
        total.unattributed += c.unattributed
    return total


def merge(article: ArticleInput, parts: Sequence[Part]) -> Part:
    """One part for the whole article: spans as article offsets, one name per person."""
    whole = Chunk(0, len(article.text))
    if len(parts) == 1 and parts[0].chunk == whole:
        merged = parts[0]
    elif all(isinstance(p.data, ArticleExtraction) for p in parts):
        shifted = [shift_spans(p.data, p.chunk.start, article.text) for p in parts]
        data = merge_extractions(shifted)  # type: ignore[arg-type]
        data.coverage = _coverage(shifted)  # type: ignore[arg-type]
        merged = Part(whole, data, data.spans)
    else:
        raise ConfigurationError("a caller's own schema is extracted in one chunk only")
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


def partial(
    article: ArticleInput, request: Prompt, usage: Usage | None
) -> ArticleExtraction | Extraction[Any] | None:
    """The records the last failed attempt did ground, as a result; None if none were kept."""
    last = request.context.partial
    if last is None:
        return None
    # Only what the model's last answer grounded: it was not accepted, so no coverage is claimed.
    data = _records(article, request, last, unanswered=False)
    if isinstance(data, ArticleExtraction):
        data.coverage = None
    part = resolve_dates(Part(request.chunk, data, grounding_report(last).spans), article.published)
    merged = merge(article, [part])
    data = result(article, merged, usage or Usage())
    return data.data if isinstance(data, Extraction) else data
