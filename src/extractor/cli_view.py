"""The ``extractor view`` command: results and their article text as one HTML review page."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from extractor.errors import InputError
from extractor.render import visible

__all__ = ["view"]


def view(
    results: Annotated[
        list[Path],
        typer.Argument(
            metavar="RESULT",
            help="Result files: 'extract --format json' output or 'batch' JSON lines.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The HTML page to write.")],
    title: Annotated[str, typer.Option(help="The page's title.")] = "extractor review",
) -> None:
    """Write one self-contained HTML page showing each RESULT's records highlighted in its text.

    Each result's spans index its article file (source.path, looked for beside the result file,
    then in the current folder), which must not have changed since the extraction.
    """
    from extractor.cli import fail
    from extractor.view import TYPES, write_page

    if out.resolve() in {path.resolve() for path in results}:
        fail(InputError(f"{out}: is one of the result files; write the page elsewhere"))
    try:
        articles = write_page(results, out, title=title)
    except InputError as error:
        fail(error)
    counts = {t: 0 for t in TYPES}
    for article in articles:
        counts["quote"] += len(article.result.quotes)
        counts["commitment"] += len(article.result.commitments)
        counts["event"] += len(article.result.events)
    shown = ", ".join(f"{n} {t}{'s' if n != 1 else ''}" for t, n in counts.items())
    size = out.stat().st_size
    typer.echo(
        visible(
            f"wrote {out}: {len(articles)} article{'s' if len(articles) != 1 else ''} "
            f"({shown}), {size / 1024:,.0f} KB",
            one_line=True,
        )
    )
