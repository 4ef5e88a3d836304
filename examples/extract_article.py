"""Extract one article and print a readable report of its quotes, commitments and events.

    python examples/extract_article.py [ARTICLE]

With OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) set, it asks the model; without, it
replays the recorded exchange in examples/recordings/, which is for the example article only.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from extractor import Extractor, ExtractorError, read_article
from extractor.render import OutputFormat, render

from _replay import live_or_recorded

DEFAULT = Path(__file__).resolve().parent / "articles" / "peacekeepers-2025-08-27.txt"


def main() -> None:
    """Run the example."""
    try:
        path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
        article = read_article(path)
        recording = "peacekeepers-2025-08-27.yaml"
        with live_or_recorded(recording, article=path, recorded=DEFAULT) as options:
            result = Extractor(**options).extract(article.text, published=article.published)
    except ExtractorError as error:
        sys.exit(f"error: {error}")
    render(result, OutputFormat.TABLE, Console(width=max(120, Console().width)))
    for quote in result.quotes[:1]:
        assert quote.span is not None  # every record the library returns is grounded
        exact = article.text[quote.span.start : quote.span.end] == quote.text
        print(
            f'\nFirst quote: {quote.speaker.name}: "{quote.text}" at characters '
            f"{quote.span.start}-{quote.span.end}; article[start:end] == text: {exact}"
        )


if __name__ == "__main__":
    main()
