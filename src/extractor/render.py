"""Output of an extraction for people and pipes: JSON, JSON Lines, or rich tables."""

from __future__ import annotations

import json
from enum import Enum

from rich.console import Console
from rich.table import Table
from rich.text import Text

from extractor.models import Actor, ArticleExtraction
from extractor.spans import Span

__all__ = ["OutputFormat", "render"]


class OutputFormat(str, Enum):
    """How `extractor extract` prints its result."""

    JSON = "json"
    JSONL = "jsonl"
    TABLE = "table"


def _actor(actor: Actor) -> str:
    extra = ", ".join(x for x in (actor.role, actor.organization, actor.country) if x)
    return f"{actor.name} ({extra})" if extra else actor.name


def _span(span: Span | None) -> str:
    return f"{span.start}-{span.end}" if span else "?"


def _row(table: Table, *cells: str) -> None:
    table.add_row(*(Text(cell) for cell in cells))


def to_jsonl(result: ArticleExtraction) -> str:
    """One JSON object per record, tagged with its ``type``, then one for usage."""
    lines = []
    for kind, records in (
        ("event", result.events),
        ("quote", result.quotes),
        ("commitment", result.commitments),
    ):
        lines += [json.dumps({"type": kind, **r.model_dump(mode="json")}) for r in records]
    lines.append(json.dumps({"type": "usage", **result.usage.model_dump(mode="json")}))
    return "\n".join(lines)


def render(result: ArticleExtraction, fmt: OutputFormat, console: Console) -> None:
    """Print `result` to `console` in format `fmt`."""
    if fmt is OutputFormat.JSON:
        console.print_json(result.model_dump_json(), indent=2)
        return
    if fmt is OutputFormat.JSONL:
        console.out(to_jsonl(result), highlight=False)
        return
    # Article text is never rich markup: '[the plan]' must print as written.
    quotes = Table("speaker", "kind", "quote", "span", title="Quotes", show_lines=True)
    for q in result.quotes:
        _row(
            quotes,
            _actor(q.speaker),
            q.kind.value,
            q.text,
            _span(q.span),
        )
    commitments = Table(
        "actor",
        "kind",
        "will",
        "action",
        "condition",
        "evidence",
        "span",
        title="Commitments",
        show_lines=True,
    )
    for c in result.commitments:
        _row(
            commitments,
            _actor(c.actor),
            c.kind.value,
            c.polarity.value,
            c.action,
            c.condition or "",
            c.evidence,
            _span(c.span),
        )
    events = Table(
        "when", "kind", "status", "summary", "where", "span", title="Events", show_lines=True
    )
    for e in result.events:
        when = e.date.isoformat() if e.date else "?"
        if e.date_end and e.date_end != e.date:
            when += f"..{e.date_end.isoformat()}"
        when += f" ({e.precision.value}; '{e.date_text}')" if e.date_text else ""
        _row(
            events,
            when,
            e.kind.value,
            e.status.value,
            e.summary,
            e.location or "",
            _span(e.span),
        )
    for table in (quotes, commitments, events):
        console.print(table)
    u = result.usage
    console.print(
        f"published {result.published or 'unknown'}; {u.requests} request(s), "
        f"{u.prompt_tokens} prompt + {u.completion_tokens} completion tokens",
        markup=False,
    )
