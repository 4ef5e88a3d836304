"""Output of an extraction for people and pipes: JSON, JSON Lines, CSV, or rich tables.

Everything printed that came from the model, the article or a server is shown, never obeyed:
control characters (escape sequences, carriage returns, bells) are written as visible escapes.
"""

from __future__ import annotations

import json
from enum import Enum

from rich.console import Console
from rich.table import Table
from rich.text import Text

from extractor.articles import Article
from extractor.models import Actor, ArticleExtraction, QuotationCoverage, SourceText
from extractor.spans import Span

__all__ = [
    "BIDI_CONTROLS",
    "JSON_ESCAPES",
    "OutputFormat",
    "against_source",
    "render",
    "to_csv",
    "to_json",
    "to_jsonl",
    "visible",
]

# C0, DEL and C1 (0x9b is CSI) are obeyed by terminals; a lone surrogate cannot be written at all.
_C1_AND_SURROGATES = [0x7F, *range(0x80, 0xA0), *range(0xD800, 0xE000)]
# Bidirectional embeddings, overrides and isolates reorder what follows them on screen, so text
# can read other than it is ("Trojan Source"): shown as escapes too.
BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPED = {
    code: chr(code).encode("unicode_escape").decode("ascii")
    for code in (*range(0x20), *_C1_AND_SURROGATES, *BIDI_CONTROLS)
}
_ESCAPED_KEEPING_LINES = {code: text for code, text in _ESCAPED.items() if chr(code) not in "\n\t"}
JSON_ESCAPES: dict[int, str] = {code: f"\\u{code:04x}" for code in _C1_AND_SURROGATES}
"""`str.translate` table for JSON text: DEL, C1 controls and lone surrogates as ``\\u`` escapes
(JSON escapes C0 itself; these are legal raw in a JSON string, but not safe to print)."""


class OutputFormat(str, Enum):
    """How `extractor extract` prints its result."""

    JSON = "json"
    JSONL = "jsonl"
    CSV = "csv"
    TABLE = "table"


def visible(text: str, *, one_line: bool = False) -> str:
    """`text` with control characters (C0, DEL, C1, lone surrogates, bidirectional overrides and
    isolates) shown as escapes (``\\x1b``, ``\\u202e``); `one_line`: newlines and tabs too."""
    return text.translate(_ESCAPED if one_line else _ESCAPED_KEEPING_LINES)


def against_source(result: ArticleExtraction, article: Article) -> ArticleExtraction:
    """A copy of `result` whose spans index the article's whole source (its file, or stdin)."""
    offset = article.offset

    def moved(span: Span | None) -> Span | None:
        if span is None:
            return None
        return Span(
            start=span.start + offset,
            end=span.end + offset,
            text=span.text,
            alignment=span.alignment,
        )

    length = article.source_length
    return result.model_copy(
        update={
            "events": [e.model_copy(update={"span": moved(e.span)}) for e in result.events],
            "quotes": [q.model_copy(update={"span": moved(q.span)}) for q in result.quotes],
            "commitments": [
                c.model_copy(update={"span": moved(c.span)}) for c in result.commitments
            ],
            "coverage": result.coverage
            and result.coverage.model_copy(
                update={
                    "unattributed": [moved(s) for s in result.coverage.unattributed],
                    "ruled_out": [
                        r.model_copy(update={"span": moved(r.span)})
                        for r in result.coverage.ruled_out
                    ],
                }
            ),
            "source": SourceText(
                path=article.source,
                length=offset + len(article.text) if length is None else length,
            ),
        }
    )


def _actor(actor: Actor) -> str:
    extra = ", ".join(x for x in (actor.role, actor.organization, actor.country) if x)
    return f"{actor.name} ({extra})" if extra else actor.name


def _span(span: Span | None) -> str:
    return f"{span.start}-{span.end}" if span else "?"


def _row(table: Table, *cells: str) -> None:
    # Article and model text is never rich markup ('[the plan]' prints as written) nor commands.
    table.add_row(*(Text(visible(cell)) for cell in cells))


def to_json(result: ArticleExtraction) -> str:
    """The result as one indented JSON document; text other than control characters is raw."""
    text = json.dumps(result.model_dump(mode="json"), indent=2, ensure_ascii=False)
    return text.translate(JSON_ESCAPES)


def to_jsonl(result: ArticleExtraction) -> str:
    """One JSON object per record, tagged with its ``type``; first the source, last the usage."""
    rows = []
    if result.source is not None:
        rows.append({"type": "source", **result.source.model_dump(mode="json")})
    for kind, records in (
        ("event", result.events),
        ("quote", result.quotes),
        ("commitment", result.commitments),
    ):
        rows += [{"type": kind, **r.model_dump(mode="json")} for r in records]
    rows.append({"type": "usage", **result.usage.model_dump(mode="json")})
    return "\n".join(json.dumps(row, ensure_ascii=False) for row in rows).translate(JSON_ESCAPES)


def to_csv(result: ArticleExtraction) -> str:
    """One CSV row per record (`extractor.records.article_records`), with a header line."""
    from extractor.records import ARTICLE_COLUMNS, article_records, records_csv  # imports render

    return records_csv(article_records(result), ARTICLE_COLUMNS)


def _legends(result: ArticleExtraction) -> tuple[str, str, str]:
    source = result.source
    where = (
        f"{source.path} ({source.length:,} characters, date line included)"
        if source
        else "the article text"
    )
    span = f"span: start-end character offsets into {where}, counted from 0, end exclusive"
    return (
        f"{span}; by: model = the model named the speaker, rules = the library's rules did "
        "(no model confirmed it); kind: direct = a whole quoted sentence, partial = a quoted "
        "fragment, reported = speech without quotation marks",
        f"{span}; will: will or will_not, whether the actor says it will act; "
        "kind: promise, refusal, offer, threat or conditional",
        f"{span}; when: date or first..last day (precision; the words it came from), ? unknown; "
        "status: occurred, planned, proposed, hypothetical or denied",
    )


def render(result: ArticleExtraction, fmt: OutputFormat, console: Console) -> None:
    """Print `result` to `console` in format `fmt`."""
    if fmt is OutputFormat.JSON:
        console.out(to_json(result), highlight=False)
        return
    if fmt is OutputFormat.JSONL:
        console.out(to_jsonl(result), highlight=False)
        return
    if fmt is OutputFormat.CSV:
        console.out(to_csv(result), highlight=False, end="")
        return
    quotes = Table("speaker", "by", "kind", "quote", "span", title="Quotes", show_lines=True)
    for q in result.quotes:
        _row(
            quotes,
            _actor(q.speaker),
            "model" if q.confirmed else "rules",
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
    for table, legend in zip((quotes, commitments, events), _legends(result), strict=True):
        console.print(table)
        console.print(Text(visible(legend, one_line=True)), soft_wrap=True)
    u = result.usage
    console.print(
        Text(
            f"published {result.published or 'unknown'}; {u.requests} request(s), "
            f"{u.prompt_tokens} prompt + {u.completion_tokens} completion tokens"
            f"{_coverage(result.coverage)}"
        )
    )


def _coverage(coverage: QuotationCoverage | None) -> str:
    """What became of the marked quotations, as the end of the summary line ('' if unknown)."""
    if coverage is None:
        return ""
    return (
        f"; quotation marks: {coverage.found} passage(s) found, {coverage.attributed} attributed "
        f"by the model, {len(coverage.unattributed)} by the rules only, "
        f"{len(coverage.ruled_out)} not speech"
    )
