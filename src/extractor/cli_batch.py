"""``extractor batch INPUT... --out results.jsonl``: whole archives, resumable, with a summary.

Exit codes: 0 every article is in the output; 1 some articles failed (they are in the errors
file, everything else was written; ``--retry-failed`` redoes them); 2 bad input or options (no
article was extracted: a missing path, duplicate ids, a bad setting, an output another run is
writing); 3 a server failure every article would share (wrong key, unknown model): the run
stopped; what it wrote stays, and the same command resumes it; 130 interrupted (Ctrl-C): the
same. Every failure is one ``error:`` line on stderr; the summary goes to stdout, the progress
bar to stderr (on a terminal only).
"""

from __future__ import annotations

import io
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from extractor.batch import BatchSummary, errors_path, run_batch, summary_of
from extractor.batch_inputs import read_inputs
from extractor.batch_progress import BatchProgress
from extractor.cli_options import BaseUrlOption, ModelOption, ModeOption
from extractor.errors import ConfigurationError, ExtractorError, InputError
from extractor.render import visible
from extractor.settings import load_settings

__all__ = ["EXIT_INTERRUPTED", "EXIT_SOME_FAILED", "batch"]

EXIT_SOME_FAILED = 1
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C


class Via(str, Enum):
    """Which way the requests go: the normal API, or OpenAI's Batch API (extractor.openai_batch)."""

    API = "api"
    OPENAI_BATCH = "openai-batch"


def _prices(path: Path | None) -> dict[str, tuple[float, float]] | None:
    """The ``--prices`` file: JSON, model -> [input, output] dollars per million tokens."""
    if path is None:
        return None
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(table, dict):
        raise InputError(f'{path}: expected {{"model": [input, output], ...}} per million tokens')
    return table


def batch(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT",
            help="Article files, folders (searched recursively with --glob), or JSONL files "
            "(.jsonl: one {id, text, published?, url?, title?} a line).",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output JSONL: one line per article extracted."),
    ],
    errors: Annotated[
        Path | None,
        typer.Option(help="Errors JSONL; default next to --out: results.errors.jsonl."),
    ] = None,
    glob: Annotated[str, typer.Option(help="Files to take from folders.")] = "*.txt",
    retry_failed: Annotated[
        bool,
        typer.Option("--retry-failed", help="Redo only the articles in the errors file."),
    ] = False,
    concurrency: Annotated[
        int | None,
        typer.Option(help="Articles in flight at once [env: EXTRACTOR_BATCH_CONCURRENCY]."),
    ] = None,
    cache: Annotated[
        bool | None,
        typer.Option(
            "--cache/--no-cache",
            help="Answer from and fill the response cache [env: EXTRACTOR_CACHE; "
            "default for batch: on].",
            show_default=False,
        ),
    ] = None,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Response cache folder [env: EXTRACTOR_CACHE_DIR]."),
    ] = None,
    requests_per_minute: Annotated[
        float | None,
        typer.Option(help="Most requests a minute [env: EXTRACTOR_REQUESTS_PER_MINUTE]."),
    ] = None,
    tokens_per_minute: Annotated[
        float | None,
        typer.Option(help="Most tokens a minute [env: EXTRACTOR_TOKENS_PER_MINUTE]."),
    ] = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    mode: ModeOption = None,
    max_reasks: Annotated[
        int | None, typer.Option(help="Re-asks after invalid or ungrounded replies.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Cap on each reply's tokens.")] = None,
    prices: Annotated[
        Path | None,
        typer.Option(help='JSON file of prices: {"model": [input, output]} $ per million tokens.'),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="No model, no network: direct quotes with speakers from rules only "
            "(the default when no API key or base URL is set).",
        ),
    ] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
    via: Annotated[
        Via,
        typer.Option(
            help="api: each article as it finishes; openai-batch: OpenAI's Batch API, half the "
            "price, within 24 h (the batch is kept beside --out: the same command resumes it).",
        ),
    ] = Via.API,
) -> None:
    """Extract every article of INPUT... into --out, one JSON line each, resumable.

    Run the same command again after a crash: what is in --out is skipped, the rest is done.
    Articles that fail go to the errors file; --retry-failed redoes only those. With no model
    configured, or --offline: direct quotes with rule-based speakers only.
    """
    from extractor.cli import NO_MODEL_NOTE, OFFLINE_NOTE, fail, has_model, setup_logging

    setup_logging(verbose)
    for stream in (sys.stdout, sys.stderr):  # a character the terminal cannot show is escaped
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    errors_file = errors or errors_path(out)
    try:
        settings = load_settings(
            model=model,
            base_url=base_url,
            mode=mode,
            max_reasks=max_reasks,
            max_tokens=max_tokens,
            batch_concurrency=concurrency,
            cache=cache,
            cache_dir=cache_dir,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
        )
        if "cache" not in settings.model_fields_set:  # neither option nor EXTRACTOR_CACHE
            settings = load_settings(settings, cache=True)
        extra = _prices(prices)
        if extra is not None:
            try:
                settings = load_settings(settings, prices={**settings.prices, **extra})
            except ConfigurationError as error:  # name the file, not the environment
                raise InputError(f"{prices}: {error}") from None
        items = read_inputs(inputs, glob=glob, skip=(out, errors_file))
        if via is Via.OPENAI_BATCH:  # loads openai only here
            from rich.console import Console

            from extractor.openai_batch import run_openai_batch

            summary: BatchSummary = run_openai_batch(
                items,
                out=out,
                settings=settings,
                errors_file=errors_file,
                retry_failed=retry_failed,
                offline=offline or not has_model(settings),
                console=Console(stderr=True),
            )
            _report(summary, out, errors_file)
            return
        if offline or not has_model(settings):
            typer.echo(OFFLINE_NOTE if offline else NO_MODEL_NOTE, err=True)
            offline = True
        with BatchProgress() as progress:
            summary = run_batch(
                items,
                out=out,
                errors=errors_file,
                settings=settings,
                offline=offline,
                retry_failed=retry_failed,
                on_start=progress.start,
                on_outcome=progress.update,
            )
    except KeyboardInterrupt:  # Ctrl-C: the lines written stay; the same command goes on
        typer.echo(
            visible(f"error: interrupted; what is in {out} stays, and the same command resumes"),
            err=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except ConfigurationError as error:
        fail(error)
    except InputError as error:
        fail(error)
    except ExtractorError as error:  # a STOPPING error, or a Batch API batch that did not end
        summary_stopped = summary_of(error)
        if summary_stopped is not None and (
            summary_stopped.done or summary_stopped.failed or via is Via.OPENAI_BATCH
        ):
            for line in summary_stopped.lines(out, errors_file):  # what it did before it stopped
                typer.echo(line)
        fail(
            error,
            visible(
                f"; stopped; what is in {out} stays, and the same command resumes", one_line=True
            ),
        )
    _report(summary, out, errors_file)


def _report(summary: BatchSummary, out: Path, errors: Path) -> None:
    """Print the summary (stdout) and exit 1 when articles are left failing."""
    for line in summary.lines(out, errors):
        typer.echo(line)
    if summary.still_failing:
        raise typer.Exit(EXIT_SOME_FAILED)
