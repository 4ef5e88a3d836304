"""``extractor eval``: score predictions (or the offline path) against gold, in a table or JSON.

    extractor eval --gold gold/gold.jsonl --pred result.json --paired-only  # its article only
    extractor eval --gold gold/gold.jsonl --offline               # the rules-only path itself
    extractor eval --gold DIR --gold-format brat --offline        # brat standoff (PolNeAR)
    extractor eval --gold DIR --gold-format brat --pred results.jsonl --format json

Exit codes: 0 scored; 2 bad input or options (one ``error:`` line). Model-free.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from extractor.errors import ExtractorError, InputError
from extractor.evaluation import Counts, EvalReport, Miss, evaluate_files, offline_predictions
from extractor.render import JSON_ESCAPES, visible

__all__ = ["eval_command", "offline_predictions", "render_report"]


class GoldFormat(str, Enum):
    """How the gold is stored."""

    JSONL = "jsonl"
    BRAT = "brat"


class BratQuotes(str, Enum):
    """Which brat attributions count as gold quotes (see `extractor.brat`)."""

    MARKED = "marked"
    ALL = "all"


class ReportFormat(str, Enum):
    """How `extractor eval` prints its report."""

    TABLE = "table"
    JSON = "json"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _ratio(part: int, whole: int) -> str:
    return f"{part}/{whole} = {part / whole:.1%}" if whole else f"{part}/0"


def render_report(report: EvalReport, console: Console, show_errors: int) -> None:
    """Print the report as tables and lines, text escaped; `show_errors` errors of each kind."""
    table = Table(
        "records",
        "gold",
        "predicted",
        "matched",
        "precision",
        "recall",
        "F1",
        title=f"extractor eval: {report.articles} article(s)",
    )

    def row(name: str, counts: Counts) -> None:
        table.add_row(
            name,
            str(counts.gold),
            str(counts.predicted),
            str(counts.matched),
            _pct(counts.precision),
            _pct(counts.recall),
            _pct(counts.f1),
        )

    for name, counts in report.types.items():
        row(name, counts)
    row("overall", report.overall)
    if "quotes" in report.types:
        row("quotes, span only", report.quote_spans)
    console.print(table)
    s = report.speakers
    checked = report.speaker_checked
    if "quotes" in report.types:
        quotes = report.types["quotes"]
        console.print(
            f"quote speakers checked on {checked.gold} of {quotes.gold} gold quotes (those the "
            f"gold names; the other {quotes.gold - checked.gold} match on span alone); recall "
            f"where checked: {_ratio(checked.matched, checked.gold)}",
            markup=False,
            highlight=False,
        )
    if report.quote_kinds:
        kinds = "; ".join(
            f"{kind} {_ratio(c.matched, c.gold)}" for kind, c in sorted(report.quote_kinds.items())
        )
        console.print(f"quote recall by gold kind: {kinds}", markup=False, highlight=False)
    if "quotes" in report.types:
        console.print(
            f"speakers (quotes paired on span): named {_ratio(s.named_right, s.named)}; "
            f"pronoun sources {s.pronoun} (resolved by the gold: "
            f"{_ratio(s.pronoun_right, s.pronoun_resolved)}; given a speaker {s.pronoun_given}); "
            f"unnamed sources {s.unnamed} (given a speaker {s.unnamed_given})",
            markup=False,
            highlight=False,
        )
    d = report.dates
    if "events" in report.types:
        console.print(
            f"dates (events paired on span and kind): {d.pairs} pair(s); exact range "
            f"{_ratio(d.exact, d.gold_dated)}, overlapping {d.overlapping}; undated gold left "
            f"undated {d.undated_right}/{d.pairs - d.gold_dated}",
            markup=False,
            highlight=False,
        )
    g = report.grounding
    console.print(
        f"grounded exactly: {_ratio(g.exact, g.spans)} predicted record(s); without a span: "
        f"{g.no_span}; not the gold text at their offsets: {g.misplaced}",
        markup=False,
        highlight=False,
    )
    if report.missing_predictions:
        names = ", ".join(report.missing_predictions[:10])
        more = len(report.missing_predictions) - 10
        console.print(
            visible(
                f"no prediction for {len(report.missing_predictions)} gold article(s), scored as "
                f"all missed: {names}{f' and {more} more' if more > 0 else ''}",
                one_line=True,
            ),
            markup=False,
            highlight=False,
        )
    for ident, why in list(report.failed_predictions.items())[:10]:
        console.print(
            visible(f"prediction failed for {ident}: {why}", one_line=True),
            markup=False,
            highlight=False,
        )
    if show_errors > 0:
        for kind in ("miss", "false hit"):
            items = [e for e in report.errors if e.error == kind]
            console.print(
                f"\n{kind}es ({len(items)}, showing {min(len(items), show_errors)}):"
                if kind == "miss"
                else f"\nfalse hits ({len(items)}, showing {min(len(items), show_errors)}):",
                markup=False,
                highlight=False,
            )
            for item in items[:show_errors]:
                console.print(_error_line(item), markup=False, highlight=False, soft_wrap=True)


def _error_line(item: Miss) -> str:
    text = item.text if len(item.text) <= 90 else item.text[:87] + "..."
    where = "no span" if item.start is None else f"{item.start}-{item.end}"
    return visible(
        f"  {item.article} {item.type} {where} [{item.label}] {text!r}: {item.why}",
        one_line=True,
    )


def eval_command(
    gold: Annotated[
        Path,
        typer.Option("--gold", help="Gold: a JSONL file, or a brat folder.", show_default=False),
    ],
    pred: Annotated[
        Path | None,
        typer.Option(
            "--pred",
            help="Predictions: `extract --format json` output, `batch` lines, or a folder.",
        ),
    ] = None,
    gold_format: Annotated[
        GoldFormat, typer.Option("--gold-format", help="jsonl (the library's) or brat standoff.")
    ] = GoldFormat.JSONL,
    brat_quotes: Annotated[
        BratQuotes,
        typer.Option(
            "--brat-quotes",
            help="brat gold: quotes between marks only (marked), or also reported speech (all).",
        ),
    ] = BratQuotes.MARKED,
    offline: Annotated[
        bool, typer.Option("--offline", help="Score the offline path (rules, no model) itself.")
    ] = False,
    paired_only: Annotated[
        bool,
        typer.Option("--paired-only", help="Score only the gold articles that have a prediction."),
    ] = False,
    output: Annotated[ReportFormat, typer.Option("--format", help="table or json.")] = (
        ReportFormat.TABLE
    ),
    show_errors: Annotated[
        int, typer.Option("--show-errors", min=0, help="List up to N misses and N false hits.")
    ] = 0,
) -> None:
    """Score predictions against gold: precision, recall and F1 per record type (docs/eval.md)."""
    from extractor.cli import fail, stdout

    try:
        report = evaluate_files(
            gold,
            pred,
            gold_format=gold_format.value,
            brat_quotes=brat_quotes.value,
            offline=offline,
            paired_only=paired_only,
        )
    except ExtractorError as error:
        fail(error)
    except OSError as exc:
        fail(InputError(f"{exc.filename or gold}: {exc.strerror or exc}"))
    if output is ReportFormat.JSON:
        data = report.to_json_dict()
        errors = report.errors
        data["errors"] = [
            e.model_dump()
            for e in [x for x in errors if x.error == "miss"][:show_errors]
            + [x for x in errors if x.error == "false hit"][:show_errors]
        ]
        text = json.dumps(data, ensure_ascii=False, indent=2)
        stdout.out(text.translate(JSON_ESCAPES), highlight=False)  # as `extract --format json`
        return
    out = stdout if stdout.is_terminal else Console(soft_wrap=True, width=120)
    render_report(report, out, show_errors)
