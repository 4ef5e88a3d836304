"""Print how fast grounding is, and how much memory it takes, on a long article.

    python benchmarks/grounding_speed.py [REPEATS]

The shared article repeated REPEATS times (default 100, about 210,000 characters: the
``max_chars`` default) with 300 quotes to ground: a third exact, a third with curly quotes and
line breaks (normalised matches), a third invented (closest-passage search for the re-ask hint).

Then the cases that used to grow with the product of records and occurrences, each record spoken
by one of four speakers: 300 records quoting one common word ("the", 1,400 occurrences in the
article above), and 10,000 records quoting "in" (5,031 occurrences: the article repeated 117
times); then a 5 MB invented value (longer than the article: rejected before any search) and the
closest-passage hint for an invented value as long as a page.
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


SPEAKERS = ("Donald Trump", "Vladimir Putin", "Dmitry Peskov", "An official")


def repeated(word: str, count: int) -> ArticleExtraction:
    """`count` records quoting the same word, spoken by a handful of speakers."""
    return ArticleExtraction(
        quotes=[
            Quote(text=word, speaker=Actor(name=SPEAKERS[i % 4]), kind=QuoteKind.DIRECT)
            for i in range(count)
        ]
    )


def timed_ground(extraction: ArticleExtraction, text: str) -> tuple[float, int]:
    """Seconds to ground `extraction` in `text` (index included) and the spans found."""
    began = time.perf_counter()
    report = ground(extraction, ArticleIndex(text))
    return time.perf_counter() - began, len(report.spans)


def repeated_passages(body: str) -> None:
    """Many records quoting a passage the article holds many times."""
    for word, count, repeats in (("the", 300, 100), ("in", 10_000, 117)):
        article = "\n\n".join([body] * repeats)
        seconds, found = timed_ground(repeated(word, count), article)
        print(
            f"{count:,} records quoting {word!r} ({article.count(word):,} occurrences in "
            f"{len(article):,} characters): {seconds * 1000:8.1f} ms, {found:,} grounded"
        )


def long_values(text: str) -> None:
    """Values no quote can be: longer than the article, or a page long and invented."""
    index = ArticleIndex(text)
    huge = "invented " * (5 * 10**6 // 9)  # 5 MB; the 50 MB behaves the same
    began = time.perf_counter()
    assert index.find(huge) == [] and index.closest(huge) is None
    print(f"a 5 MB value:              {(time.perf_counter() - began) * 1000:8.1f} ms to reject")
    page = " ".join(f"invented sentence number {i} of a long reply." for i in range(100))
    began = time.perf_counter()
    index.closest(page)
    print(f"closest for {len(page):,} characters: {(time.perf_counter() - began) * 1000:8.1f} ms")


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
    repeated_passages(body)
    long_values(text)


if __name__ == "__main__":
    main()
