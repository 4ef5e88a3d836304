"""``extractor doctor``: which structured-output modes a server honours, and the one to use.

Exit codes: 0 at least one mode works; 1 the server answered but no mode worked; 2 bad options
(no base URL and no key, a bad setting); 3 the server cannot be used at all (unreachable, key
rejected, model unknown). Failures are one ``error:`` line on stderr.
"""

from __future__ import annotations

import json
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from extractor.render import visible

if TYPE_CHECKING:
    from extractor.doctor import Check, Diagnosis

__all__ = ["doctor"]

EXIT_NO_MODE = 1
LEGEND = (
    "works: the reply validated against a two-field schema (city, year) on the first try; "
    "seconds: the probe's wall time; detail: the reply, or why not"
)


class DoctorFormat(str, Enum):
    """How `extractor doctor` prints its report."""

    TABLE = "table"
    JSON = "json"


def doctor(
    base_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible endpoint [env: OPENAI_BASE_URL].")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model name [env: EXTRACTOR_MODEL].")] = None,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds each probe may take [env: EXTRACTOR_TIMEOUT].")
    ] = None,
    output: Annotated[DoctorFormat, typer.Option("--format", help="Output format.")] = (
        DoctorFormat.TABLE
    ),
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More logs.")] = 0,
) -> None:
    """Probe a server: which structured-output modes work, max_tokens, usage; recommend a mode.

    Sends one tiny request per mode (tools, json_schema, json, md_json) and one plain request
    capped at 8 tokens. The recommendation is remembered for --mode auto.
    Exit codes: 0 a mode works; 1 none does; 2 bad options; 3 server unreachable or refusing.
    """
    from extractor.cli import fail, setup_logging
    from extractor.errors import ExtractorError
    from extractor.settings import load_settings

    setup_logging(verbose)
    try:
        settings = load_settings(model=model, base_url=base_url, timeout=timeout)
        from extractor.doctor import diagnose, memory_path, remember_mode

        found = diagnose(settings)
    except ExtractorError as error:
        fail(error)
    if found.recommended is not None:
        remember_mode(settings, found.recommended)
    if output is DoctorFormat.JSON:
        typer.echo(json.dumps(found.to_dict(), indent=2, ensure_ascii=False))
    else:
        show(found, str(memory_path(settings)))
    if found.recommended is None:
        raise typer.Exit(EXIT_NO_MODE)


def _yes_no(check: Check) -> str:
    return "yes" if check.ok else "no" if check.ok is False else "cannot tell"


def show(found: Diagnosis, memory: str) -> None:
    """Print the report as a table and a few lines, everything from the server escaped."""
    from extractor.cli import stdout
    from extractor.doctor import ORDER, WHY

    # Piped tables get room to be read; a terminal keeps its own width (as extract does).
    console = stdout if stdout.is_terminal else Console(soft_wrap=True, width=120)
    table = Table(
        "mode",
        "works",
        "seconds",
        "detail",
        title=visible(f"Modes of {found.model} at {found.server}", one_line=True),
        show_lines=True,
    )
    for result in found.modes:
        table.add_row(
            Text(result.mode.value),
            Text("yes" if result.works else "no"),
            Text(f"{result.seconds:.2f}"),
            Text(visible(result.detail, one_line=True)),
        )
    console.print(table)
    lines = [
        LEGEND,
        f"max_tokens enforced: {_yes_no(found.max_tokens)} ({found.max_tokens.detail})",
        f"usage reported: {_yes_no(found.usage)} ({found.usage.detail})",
    ]
    if found.recommended is None:
        lines.append("recommended: none; no mode worked (see detail)")
    else:
        lines.append(
            f"recommended: --mode {found.recommended.value} ({WHY[found.recommended]}); "
            f"remembered for --mode auto in {memory}"
        )
    order = ", ".join(mode.value for mode in ORDER)
    lines.append(f"order: the first that works of {order} (the most reliable first)")
    for line in lines:
        console.print(Text(visible(line, one_line=True)), soft_wrap=True)
