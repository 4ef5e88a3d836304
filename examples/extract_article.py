"""Extract one article and print a readable report of its quotes, commitments and events.

    python examples/extract_article.py [ARTICLE]                  # a table
    python examples/extract_article.py --format json > example.json
    extractor eval --gold gold/gold.jsonl --pred example.json --paired-only

With OPENAI_API_KEY (or OPENAI_BASE_URL for a local server) set, it asks the model; without, it
replays the recorded exchange in examples/recordings/, which is for the example article only.
``--format json`` prints the result as ``extractor extract --format json`` does (spans index the
file, date line included; the replay notice goes to stderr), for ``extractor eval`` or
``extractor view``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from rich.console import Console

from extractor import Extractor, ExtractorError, read_article
from extractor.render import OutputFormat, against_source, render, to_json

from _replay import live_or_recorded

DEFAULT = Path(__file__).resolve().parent / "articles" / "peacekeepers-2025-08-27.txt"


def main() -> None:
    """Run the example."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("article", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--format", choices=["table", "json"], default="table")
    args = parser.parse_args()
    as_json = args.format == "json"
    try:
        article = read_article(args.article)
        recording = "peacekeepers-2025-08-27.yaml"
        # With --format json, stdout is the result alone: the replay notice goes to stderr.
        notices = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
        with (
            notices,
            live_or_recorded(recording, article=args.article, recorded=DEFAULT) as options,
        ):
            result = Extractor(**options).extract(article.text, published=article.published)
    except ExtractorError as error:
        sys.exit(f"error: {error}")
    if as_json:
        print(to_json(against_source(result, article)))  # offsets into the file, as `extract`
        return
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
