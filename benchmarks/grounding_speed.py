"""Print how fast grounding is, and how much memory it takes, on a long article.

    python benchmarks/grounding_speed.py [REPEATS]

The shared article repeated REPEATS times (default 100, about 210,000 characters: the
``max_chars`` default) with 300 quotes to ground: a third exact, a third with curly quotes and
line breaks (normalised matches), a third invented (closest-passage search for the re-ask hint).
"""

from __future__ import annotations

import random
import sys
import time
import tracemalloc
from pathlib import Path

from extractor import Actor, ArticleExtraction, Quote, QuoteKind, read_article
from extractor.alignment import ArticleIndex
from extractor.grounding import ground

ARTICLE = (
    Path(__file__).resolve().parents[1] / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
)


def quotes_for(text: str, count: int, rng: random.Random) -> list[Quote]:
    """Passages cut from `text`, some typographically altered, some invented."""
    quotes = []
    for i in range(count):
        start = rng.randrange(0, len(text) - 200)
        passage = text[start : start + rng.randrange(20, 160)].strip() or "x"
        if i % 3 == 1:
            passage = passage.replace('"', "\u201c").replace(" ", "\n", 1)
        elif i % 3 == 2:
            passage = f"invented words number {i} that the article never said"
        quotes.append(
            Quote(text=passage, speaker=Actor(name="Donald Trump"), kind=QuoteKind.DIRECT)
        )
    return quotes


def main() -> None:
    """Run and print the figures."""
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    body = read_article(ARTICLE, max_chars=10**6).text
    text = "\n\n".join([body] * repeats)
    extraction = ArticleExtraction(quotes=quotes_for(text, 300, random.Random(7)))

    t0 = time.perf_counter()
    index = ArticleIndex(text)
    t1 = time.perf_counter()
    report = ground(extraction, index)
    t2 = time.perf_counter()

    tracemalloc.start()  # a second pass, untimed: tracemalloc slows everything down
    ground(extraction, ArticleIndex(text))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    found = len(report.spans)
    print(
        f"article: {len(text):,} characters; 300 quotes ({found} grounded, "
        f"{len(report.issues)} not in the article)"
    )
    print(f"index build:  {(t1 - t0) * 1000:8.1f} ms")
    print(f"grounding:    {(t2 - t1) * 1000:8.1f} ms  ({(t2 - t1) / 300 * 1000:.2f} ms per quote)")
    print(f"peak memory:  {peak / 2**20:8.1f} MiB (tracemalloc, index and grounding)")


if __name__ == "__main__":
    main()
