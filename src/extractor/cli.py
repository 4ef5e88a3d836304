"""The ``extractor`` command: ``extract`` an article file, or write/check the ``schema`` files.

Exit codes: 0 success; 1 the model's replies never validated, were cut off or refused; 2 bad input
or options; 3 the server failed (auth, unknown model, 429/5xx, network). On 1 and 3, the records
an earlier reply did ground are still printed.

With no model configured (no API key and no base URL), or with ``--offline``, ``extract`` prints
the article's direct quotes with speakers from the library's rules (`extractor.offline`), in the
same shape, writes one ``note:`` line to stderr saying what needs a model, and exits 0; it then
loads neither openai nor instructor and makes no request.

Without ``-v`` a failure writes exactly one line to stderr, ``error: ...``; text from a server or
the model is shown with its control characters escaped, so it cannot add lines or drive the
terminal. Printed offsets index the file as given (see `render.against_source`).
"""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup

try:  # typer 0.2x carries its own copy of Click; older typer uses Click itself
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover
    from click import exceptions as click_errors  # type: ignore[no-redef]

from extractor.articles import (
    Article,
    byte_limit,
    parse_article,
    parse_published,
    read_article,
    read_at_most,
)
from extractor.cli_options import BaseUrlOption, ModelOption, ModeOption
from extractor.errors import APIError, ConfigurationError, ExtractorError, InputError
from extractor.models import ArticleExtraction
from extractor.offline import NEEDS_A_MODEL, extract_offline
from extractor.render import OutputFormat, against_source, render, visible
from extractor.schema_files import stale_schemas, write_schemas
from extractor.settings import Settings, load_settings

__all__ = ["app", "main"]

EXIT_EXTRACTION, EXIT_INPUT, EXIT_API = 1, 2, 3
RULES_ONLY = "direct quotes with speakers from the library's rules only"
NO_MODEL_NOTE = (
    f"note: no model configured, so {RULES_ONLY}; {NEEDS_A_MODEL}: set OPENAI_API_KEY, or "
    "--base-url / OPENAI_BASE_URL for an OpenAI-compatible server"
)
OFFLINE_NOTE = f"note: --offline, so {RULES_ONLY}; {NEEDS_A_MODEL}: run without --offline"


def has_model(settings: Settings) -> bool:
    """Whether a model is configured: an API key, or a base URL (local servers need no key)."""
    return settings.api_key is not None or settings.base_url is not None


def _usage_line(error: click_errors.UsageError) -> str:
    """Click's three-line usage error as one line: the problem, then where help is."""
    message = visible(error.format_message(), one_line=True).replace("Value error, ", "")
    message = message.rstrip(".")
    if message[:2].istitle():  # 'No such option' -> 'no such option'; 'ARTICLE' stays
        message = message[0].lower() + message[1:]
    where = error.ctx.command_path if error.ctx else "extractor"
    return f"error: {message}; see '{where} --help'"


class _OneLineErrors(TyperGroup):
    """The command group, with every usage error on one line of stderr instead of three."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command; Click's errors become one ``error:`` line and exit 2."""
        extra["windows_expand_args"] = windows_expand_args
        run = super().main
        if not standalone_mode:
            return run(args, prog_name, complete_var, False, **extra)
        try:
            code = run(args, prog_name, complete_var, False, **extra)
        except click_errors.UsageError as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # plain 'extractor': the help
                error.show()
                sys.exit(error.exit_code)
            typer.echo(_usage_line(error), err=True)
            sys.exit(EXIT_INPUT)
        except click_errors.ClickException as error:
            typer.echo(f"error: {visible(error.format_message(), one_line=True)}", err=True)
            sys.exit(error.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


class _PlainUsage(TyperCommand):
    """A command whose usage line names its argument as ``ARTICLE``, not typer's ``{ARTICLE}``."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        """Options, then each argument's metavar."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                name = name if param.required else f"[{name}]"
                pieces.append(name if param.nargs == 1 else f"{name}...")
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


app = typer.Typer(
    cls=_OneLineErrors,
    help="Grounded events, quotes and commitments from news articles.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
)
stdout = Console(soft_wrap=True)


def fail(error: ExtractorError, note: str = "") -> NoReturn:
    """Print one line naming the problem (control characters escaped) and exit with its code."""
    code = EXIT_API if isinstance(error, APIError) else EXIT_EXTRACTION
    if isinstance(error, (InputError, ConfigurationError)):
        code = EXIT_INPUT
    typer.echo(f"error: {visible(str(error), one_line=True)}{note}", err=True)
    raise typer.Exit(code)


def read_stdin(max_chars: int) -> Article:
    """The article from standard input, read no further than the limit allows."""
    if sys.stdin is None:
        raise InputError("<stdin>: there is no standard input to read")
    data = read_at_most(sys.stdin.buffer, byte_limit(max_chars) + 1)
    return parse_article(data, max_chars=max_chars, source="<stdin>")


class _LogLines(logging.StreamHandler):  # type: ignore[type-arg]
    """Log records to stderr, one line each, with control characters escaped."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(_OneLineFormatter("%(levelname)s %(name)s: %(message)s"))


class _OneLineFormatter(logging.Formatter):
    def formatMessage(self, record: logging.LogRecord) -> str:
        return visible(super().formatMessage(record), one_line=True)


def setup_logging(verbose: int) -> None:
    """Errors only by default (the one ``error:`` line), ``-v`` adds progress and retry
    warnings, ``-vv`` everything (instructor's too)."""
    level = logging.ERROR if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _LogLines)]:
        root.removeHandler(handler)  # a second run in one process (tests) replaces the first
    root.addHandler(_LogLines())
    root.setLevel(level)
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


@app.command(cls=_PlainUsage)
def extract(
    article: Annotated[
        str, typer.Argument(metavar="ARTICLE", help="Article text file (UTF-8); - reads stdin.")
    ],
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    published: Annotated[
        str | None, typer.Option(help="Publication date YYYY-MM-DD; default: the date line.")
    ] = None,
    mode: ModeOption = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TABLE
    ),
    max_reasks: Annotated[
        int | None, typer.Option(help="Re-asks after invalid or ungrounded replies.")
    ] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Cap on each reply's tokens.")] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="No model, no network: direct quotes with speakers from rules only "
            "(the default when no API key or base URL is set).",
        ),
    ] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
) -> None:
    """Extract events, quotes and commitments from ARTICLE, each with its exact span.

    Printed spans are character offsets into ARTICLE as Python reads it, date line included.
    With no model configured, or --offline: direct quotes with rule-based speakers only.
    """
    setup_logging(verbose)
    for stream in (sys.stdout, sys.stderr):  # a character the terminal cannot show is escaped
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
    # Piped tables get room to be read; a terminal keeps its own width.
    out = stdout if stdout.is_terminal else Console(soft_wrap=True, width=120)
    loaded: Article | None = None
    try:
        settings = load_settings(
            model=model,
            base_url=base_url,
            mode=mode,
            max_reasks=max_reasks,
            max_tokens=max_tokens,
        )
        if not article:
            raise InputError("an empty path is not an article file; give a file, or - for stdin")
        loaded = (
            read_stdin(settings.max_chars)
            if article == "-"
            else read_article(article, max_chars=settings.max_chars)
        )
        date = parse_published(published) or loaded.published
        if offline or not has_model(settings):
            result = extract_offline(loaded.text, published=date, max_chars=settings.max_chars)
            render(against_source(result, loaded), output, out)
            typer.echo(OFFLINE_NOTE if offline else NO_MODEL_NOTE, err=True)
            return
        from extractor.extractor import Extractor  # openai and instructor load only for a model

        extractor = Extractor(settings=settings)
        result = extractor.extract(loaded.text, published=date)
    except ExtractorError as error:
        partial = error.partial
        if (
            loaded is not None
            and isinstance(partial, ArticleExtraction)
            and (partial.quotes or partial.commitments or partial.events)
        ):
            render(against_source(partial, loaded), output, out)
            fail(error, "; printed only the records an earlier reply grounded")
        fail(error)
    render(against_source(result, loaded), output, out)


@app.command(cls=_PlainUsage)
def schema(
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder of the schema files; it must exist.")
    ] = Path("schemas"),
    check: Annotated[
        bool, typer.Option("--check", help="Only check; exit 1 if a file is stale.")
    ] = False,
) -> None:
    """Write the JSON Schema of each public model into schemas/, or check they are current.

    Run it from the repository root (the default --dir is ./schemas), or pass --dir; the folder
    must exist: it is never created.
    """
    try:
        _schema(directory, check)
    except OSError as exc:
        fail(InputError(f"{directory}: {exc.strerror or exc}"))


def _schema(directory: Path, check: bool) -> None:
    if not directory.is_dir():
        problem = "is not a folder" if directory.exists() else "no such folder"
        fail(
            InputError(
                f"{directory}: {problem}; run 'extractor schema' from the repository root "
                "(where schemas/ is) or pass --dir with an existing folder"
            )
        )
    if check:
        stale = stale_schemas(directory)
        if stale:
            typer.echo(
                visible(
                    f"error: stale schema files in {directory}: {', '.join(stale)}; "
                    "run 'extractor schema' to regenerate",
                    one_line=True,
                ),
                err=True,
            )
            raise typer.Exit(1)
        typer.echo(visible(f"schema files in {directory} are current", one_line=True))
        return
    changed = write_schemas(directory)
    typer.echo(
        visible(f"wrote {len(changed)} changed schema file(s) in {directory}", one_line=True)
    )


from extractor.cli_view import view  # noqa: E402

app.command(cls=_PlainUsage)(view)


from extractor.cli_eval import eval_command  # noqa: E402

app.command("eval", cls=_PlainUsage)(eval_command)


from extractor.cli_batch import batch  # noqa: E402

app.command(cls=_PlainUsage)(batch)


from extractor.cli_doctor import doctor  # noqa: E402

app.command(cls=_PlainUsage)(doctor)


from extractor.cli_cache import cache  # noqa: E402

app.command(cls=_PlainUsage)(cache)


def main() -> None:
    """Entry point of the ``extractor`` console script."""
    app()
