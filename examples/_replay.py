"""Shared by the examples: replay a recorded exchange when no API key or server is configured."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import vcr

from extractor.settings import load_settings

RECORDINGS = Path(__file__).resolve().parent / "recordings"


@contextlib.contextmanager
def live_or_recorded(
    recording: str, *, article: Path | None = None, recorded: Path | None = None
) -> Iterator[dict[str, str]]:
    """Yield Extractor options: live when configured, else replaying `recording` offline.

    A recording holds the replies for one article (`recorded`): replaying it for another
    `article` could only fail, so that is refused at once.
    """
    settings = load_settings()
    if settings.api_key is not None or settings.base_url is not None:
        yield {}
        return
    path = RECORDINGS / recording
    if article is not None and recorded is not None and article.resolve() != recorded.resolve():
        raise SystemExit(
            f"error: {article}: no OPENAI_API_KEY or OPENAI_BASE_URL is set, and the offline "
            f"recording {path.name} is for the example article only ({recorded.name}); set "
            "OPENAI_API_KEY, or OPENAI_BASE_URL for a local server, to extract another article"
        )
    print(
        f"No OPENAI_API_KEY or OPENAI_BASE_URL set: replaying the recorded exchange {path.name} "
        "offline (its reply was written by hand; see the file's first lines)."
    )
    with vcr.use_cassette(str(path), record_mode="none", match_on=["method", "path"]):
        yield {"api_key": "replay-no-key"}
