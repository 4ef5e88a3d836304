"""Results as flat rows for analysts: one dict per record (`to_records`), and CSV.

A row is a plain ``dict`` of ``str``, ``int``, ``bool``, ``datetime.date`` or ``None`` values, so
``pandas.DataFrame(result.to_records())`` reads a list of them as it is. Every row of the built-in
schema has the same keys (`ARTICLE_COLUMNS`): the record's type, its text (a quote's words, a
commitment's or event's evidence), its speaker (a quote's speaker, a commitment's actor), its span
and its main fields; a field a type does not have is ``None``.

CSV is meant to be opened in spreadsheets, which run a cell that starts with ``=``, ``+``, ``-``,
``@`` (or a tab or carriage return) as a formula: such a text cell is written with a leading
``'`` (`spreadsheet_safe`), which the spreadsheet shows as text. Control characters other than a
newline or tab are written as visible escapes (``\\x1b``), as everywhere the command prints.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import Any

from pydantic import BaseModel

from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    Event,
    Extraction,
    Quote,
)
from extractor.render import visible
from extractor.spans import Span

__all__ = [
    "ARTICLE_COLUMNS",
    "Row",
    "article_records",
    "extraction_records",
    "records_csv",
    "spreadsheet_safe",
]

Row = dict[str, Any]
"""One record as a flat row: column name to a str, int, bool, date or None."""

ARTICLE_COLUMNS: tuple[str, ...] = (
    "article",  # the source file's path (or the name the caller gives)
    "type",  # quote, commitment or event
    "text",  # a quote's words; a commitment's or event's evidence
    "speaker",  # a quote's speaker; a commitment's actor; empty for an event
    "start",
    "end",
    "alignment",
    "role",  # the speaker's (or actor's)
    "organization",
    "country",
    "kind",
    "confirmed",  # quotes: the model named the speaker (false: the library's rules did)
    "verb",
    "polarity",
    "action",
    "condition",
    "beneficiary",
    "time_frame",
    "summary",
    "actors",  # events: every actor's name, joined by '; '
    "location",
    "date_text",
    "date",
    "date_end",
    "precision",
    "status",
)
"""The columns of every row `article_records` returns, in order."""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_INDEX = re.compile(r"\[(\d+)\]")


def spreadsheet_safe(value: str) -> str:
    """`value` with a leading ``'`` if a spreadsheet would run it as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _span_columns(span: Span | None) -> Row:
    if span is None:
        return {"start": None, "end": None, "alignment": None}
    return {"start": span.start, "end": span.end, "alignment": span.alignment.value}


def _speaker_columns(actor: Actor) -> Row:
    return {
        "speaker": actor.name,
        "role": actor.role,
        "organization": actor.organization,
        "country": actor.country,
    }


def _row(article: str | None, type_: str, text: str, span: Span | None, **fields: Any) -> Row:
    row: Row = dict.fromkeys(ARTICLE_COLUMNS)
    row.update(article=article, type=type_, text=text, **_span_columns(span), **fields)
    return row


def _quote_row(article: str | None, q: Quote) -> Row:
    return _row(
        article,
        "quote",
        q.text,
        q.span,
        **_speaker_columns(q.speaker),
        kind=q.kind.value,
        confirmed=q.confirmed,
        verb=q.verb,
    )


def _commitment_row(article: str | None, c: Commitment) -> Row:
    return _row(
        article,
        "commitment",
        c.evidence,
        c.span,
        **_speaker_columns(c.actor),
        kind=c.kind.value,
        polarity=c.polarity.value,
        action=c.action,
        condition=c.condition,
        beneficiary=c.beneficiary,
        time_frame=c.time_frame,
    )


def _event_row(article: str | None, e: Event) -> Row:
    return _row(
        article,
        "event",
        e.evidence,
        e.span,
        kind=e.kind.value,
        summary=e.summary,
        actors="; ".join(a.name for a in e.actors) or None,
        location=e.location,
        date_text=e.date_text,
        date=e.date,
        date_end=e.date_end,
        precision=e.precision.value,
        status=e.status.value,
    )


def article_records(result: ArticleExtraction, article: str | None = None) -> list[Row]:
    """One row per event, quote and commitment (in that order), each with `ARTICLE_COLUMNS`.

    `article` names the article in every row; by default the result's source path, if any.
    """
    name = article if article is not None else result.source.path if result.source else None
    return [
        *(_event_row(name, e) for e in result.events),
        *(_quote_row(name, q) for q in result.quotes),
        *(_commitment_row(name, c) for c in result.commitments),
    ]


def _plain(value: Any) -> Any:
    """A field's value as one cell: scalars as they are, enums by value, the rest as JSON."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float, bool, dt.date)):
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "; ".join(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _flat_fields(record: BaseModel, prefix: str = "") -> Row:
    """A model's fields as ``name`` / ``parent.name`` cells; spans (the library's) left out."""
    row: Row = {}
    for name in type(record).model_fields:
        value = getattr(record, name)
        if isinstance(value, Span):
            continue
        if isinstance(value, BaseModel):
            row.update(_flat_fields(value, f"{prefix}{name}."))
        else:
            row[f"{prefix}{name}"] = _plain(value)
    return row


def _record_at(data: BaseModel, path: str) -> tuple[str, Any]:
    """For a span path like ``people[0].quote``: the record's type (``people``) and the record."""
    parts = _INDEX.sub(r".\1", path).split(".")[:-1]
    node: Any = data
    for part in parts:
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    kind = parts[0] if parts else ""
    return kind, node


def extraction_records(result: Extraction[Any], article: str | None = None) -> list[Row]:
    """One row per verbatim value of a caller's schema (per path in `result.spans`).

    Columns: article, type (the top-level field, e.g. ``people``), path (``people[0].quote``),
    text, start, end, alignment, then the fields of the record holding the value (nested models
    as ``speaker.name``; lists of strings joined by '; ', other lists and dicts as JSON).
    For the built-in schema, the rows of `article_records`.
    """
    if isinstance(result.data, ArticleExtraction):
        source = result.source or result.data.source
        name = article if article is not None else source.path if source else None
        return article_records(result.data, name)
    if article is None and result.source is not None:
        article = result.source.path
    name = article
    rows = []
    for path, span in result.spans.items():
        kind, record = _record_at(result.data, path)
        row: Row = {
            "article": name,
            "type": kind or path,
            "path": path,
            "text": span.text,
            **_span_columns(span),
        }
        if isinstance(record, BaseModel):
            for key, value in _flat_fields(record).items():
                row.setdefault(key, value)
        rows.append(row)
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return spreadsheet_safe(visible(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else value


def records_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """`rows` as CSV text with a header: formula-like cells prefixed by ``'``, controls escaped.

    `columns` default: every key of every row, in order of first appearance.
    """
    rows = list(rows)
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _cell(row.get(key)) for key in columns})
    return out.getvalue()
