"""The ``extractor`` command: ``extract`` an article file, or write/check the ``schema`` files.

Exit codes: 0 success; 1 the model's replies never validated, were cut off or refused; 2 bad input
or options; 3 the server failed (auth, unknown model, 429/5xx, network). On 1 and 3, the records
an earlier reply did ground are still printed.
"""

from __future__ import annotations

import logging
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from extractor.articles import (
    Article,
    byte_limit,
    parse_article,
    parse_published,
    read_article,
    read_at_most,
)
from extractor.errors import APIError, ConfigurationError, ExtractorError, InputError
from extractor.extractor import Extractor
from extractor.models import ArticleExtraction
from extractor.render import OutputFormat, render
from extractor.schema_files import stale_schemas, write_schemas
from extractor.settings import Mode, load_settings

__all__ = ["app", "main"]

app = typer.Typer(
    help="Grounded events, quotes and commitments from news articles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
stdout = Console(soft_wrap=True)
stderr = Console(stderr=True, soft_wrap=True, highlight=False)

EXIT_EXTRACTION, EXIT_INPUT, EXIT_API = 1, 2, 3


def fail(error: ExtractorError) -> NoReturn:
    """Print one line naming the problem and exit with its code."""
    code = EXIT_API if isinstance(error, APIError) else EXIT_EXTRACTION
    if isinstance(error, (InputError, ConfigurationError)):
        code = EXIT_INPUT
    stderr.print(f"error: {error}", markup=False)
    raise typer.Exit(code)


def read_stdin(max_chars: int) -> Article:
    """The article from standard input, read no further than the limit allows."""
    if sys.stdin is None:
        raise InputError("<stdin>: there is no standard input to read")
    data = read_at_most(sys.stdin.buffer, byte_limit(max_chars) + 1)
    return parse_article(data, max_chars=max_chars, source="<stdin>")


def setup_logging(verbose: int) -> None:
    """Warnings by default, ``-v`` for progress, ``-vv`` for everything (instructor's too)."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        logging.getLogger("instructor").setLevel(logging.CRITICAL)
        logging.getLogger("httpx2").setLevel(logging.WARNING)


@app.callback(invoke_without_command=True)
def main_options(
    context: typer.Context,
    show_version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.")
    ] = False,
) -> None:
    """Grounded events, quotes and commitments from news articles."""
    if show_version:
        stdout.print(f"extractor {version('extractor')}", markup=False)
        raise typer.Exit()
    if context.invoked_subcommand is None:
        stdout.print(context.get_help(), markup=False)
        raise typer.Exit(EXIT_INPUT)


@app.command()
def extract(
    article: Annotated[
        Path, typer.Argument(metavar="ARTICLE", help="Article text file (UTF-8); - reads stdin.")
    ],
    model: Annotated[str | None, typer.Option(help="Model name [env: EXTRACTOR_MODEL].")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible endpoint [env: OPENAI_BASE_URL].")
    ] = None,
    published: Annotated[
        str | None, typer.Option(help="Publication date YYYY-MM-DD; default: the date line.")
    ] = None,
    mode: Annotated[
        Mode | None, typer.Option(help="Structured-output mode [env: EXTRACTOR_MODE].")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
    max_reasks: Annotated[
        int | None, typer.Option(help="Re-asks after invalid or ungrounded replies.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Cap on each reply's tokens.")] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
) -> None:
    """Extract events, quotes and commitments from ARTICLE, each with its exact span."""
    setup_logging(verbose)
    # Piped tables get room to be read; a terminal keeps its own width.
    out = stdout if stdout.is_terminal else Console(soft_wrap=True, width=120)
    try:
        settings = load_settings(
            model=model,
            base_url=base_url,
            mode=mode,
            max_reasks=max_reasks,
            max_tokens=max_tokens,
        )
        loaded = (
            read_stdin(settings.max_chars)
            if str(article) == "-"
            else read_article(article, max_chars=settings.max_chars)
        )
        date = parse_published(published) or loaded.published
        extractor = Extractor(settings=settings)
        result = extractor.extract(loaded.text, published=date)
    except ExtractorError as error:
        partial = error.partial
        if isinstance(partial, ArticleExtraction) and (
            partial.quotes or partial.commitments or partial.events
        ):
            render(partial, output, out)
            stderr.print("note: printed only the records an earlier reply grounded", markup=False)
        fail(error)
    render(result, output, out)


@app.command()
def schema(
    directory: Annotated[Path, typer.Option("--dir", help="Where the schema files live.")] = Path(
        "schemas"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="Only check; exit 1 if a file is stale.")
    ] = False,
) -> None:
    """Write the JSON Schema of each public model into schemas/, or check they are current.

    Run it from the repository root (the default --dir is ./schemas).
    """
    try:
        _schema(directory, check)
    except OSError as exc:
        stderr.print(f"error: {directory}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(EXIT_INPUT) from None


def _schema(directory: Path, check: bool) -> None:
    if check:
        stale = stale_schemas(directory)
        if stale:
            stderr.print(
                f"stale schema files in {directory}: {', '.join(stale)}; "
                "run 'extractor schema' to regenerate"
            )
            raise typer.Exit(1)
        stdout.print(f"schema files in {directory} are current")
        return
    changed = write_schemas(directory)
    stdout.print(f"wrote {len(changed)} changed schema file(s) in {directory}")


def main() -> None:
    """Entry point of the ``extractor`` console script."""
    app()
