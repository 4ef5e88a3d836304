"""Extract one article and print a readable report of its quotes, commitments and events.

    python examples/extract_article.py [ARTICLE]

With OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) set, it asks the model; without, it
replays the recorded exchange in examples/recordings/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from extractor import Extractor, read_article
from extractor.render import OutputFormat, render

from _replay import live_or_recorded

DEFAULT = Path(__file__).resolve().parent / "articles" / "peacekeepers-2025-08-27.txt"


def main() -> None:
    """Run the example."""
    article = read_article(sys.argv[1] if len(sys.argv) > 1 else DEFAULT, max_chars=200_000)
    with live_or_recorded("peacekeepers-2025-08-27.yaml") as options:
        result = Extractor(**options).extract(article.text, published=article.published)
    render(result, OutputFormat.TABLE, Console(width=max(120, Console().width)))
    first = result.quotes[0]
    assert first.span is not None
    print(
        f'\nFirst quote: {first.speaker.name}: "{first.text}" at {first.span.start}-'
        f"{first.span.end}; article[start:end] == text: "
        f"{article.text[first.span.start : first.span.end] == first.text}"
    )


if __name__ == "__main__":
    main()
