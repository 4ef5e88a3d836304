"""``extractor cache``: where the response cache is, how much it holds, and emptying it.

Exit codes: 0 done; 2 a bad setting or a store that cannot be used (one ``error:`` line).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from extractor.render import visible

__all__ = ["cache"]


class CacheAction(str, Enum):
    """What `extractor cache` does."""

    INFO = "info"
    CLEAR = "clear"


def cache(
    action: Annotated[
        CacheAction, typer.Argument(help="info: where it is and what it holds; clear: empty it.")
    ] = CacheAction.INFO,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="The cache folder [env: EXTRACTOR_CACHE_DIR; default ~/.cache/extractor]."
        ),
    ] = None,
) -> None:
    """Show the response cache's folder and size, or empty it (extractor cache clear)."""
    from extractor.cache import FILE_NAME, ResponseCache
    from extractor.cli import fail
    from extractor.errors import ExtractorError
    from extractor.settings import load_settings

    try:
        store = ResponseCache(load_settings(cache_dir=cache_dir).cache_dir)
        if not (store.folder / FILE_NAME).exists():
            typer.echo(
                visible(f"no response cache at {store.path} (nothing stored)", one_line=True)
            )
            return
        if action is CacheAction.CLEAR:
            removed = store.clear()
            line = f"removed {_replies(removed)} from {store.path}"
        else:
            count, size = store.stats()
            line = f"response cache at {store.path}: {_replies(count)}, {size / 1e6:.1f} MB"
        store.close()
    except ExtractorError as error:
        fail(error)
    typer.echo(visible(line, one_line=True))


def _replies(count: int) -> str:
    """``1 cached reply``, ``2 cached replies``."""
    return f"{count:,} cached repl{'y' if count == 1 else 'ies'}"
