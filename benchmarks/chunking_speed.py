"""Print how long chunking, grounding and merging take on a long article: everything but the model.

    python benchmarks/chunking_speed.py [WORDS]

The shared example article repeated to WORDS words (default 50,000), then twice and four times
that, to show the cost grows linearly with length. For each length, best of three runs:

- protect: the article's quotations, by `extractor.quotations.find_quotations` (each from its
  first opening mark to its last closing mark), or by a regex for double-quoted passages where
  that module is absent;
- plan: `plan_chunks` with the budget `budget_from_context` gives for a context of 8,192 tokens,
  max_tokens 2,048 and a prompt overhead of 1,500 tokens, overlap 300 characters;
- ground: per chunk, as the pipeline does, an `ArticleIndex` of the chunk's text and `find` for
  every quoted passage in it (what a perfect model would attribute), spans then shifted to the
  whole article with `shift_spans`;
- merge: `merge_extractions` of the chunks' results (duplicates from the overlaps once, "Trump"
  and "Donald Trump" one name).

It checks the merged quotes are exactly the article's quoted passages at their places.
"""

from __future__ import annotations

import gc
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from extractor.alignment import ArticleIndex
from extractor.chunking import Chunk, budget_from_context, plan_chunks
from extractor.merging import merge_extractions, shift_spans
from extractor.models import Actor, ArticleExtraction, Quote, QuoteKind

try:
    from extractor.quotations import find_quotations
except ImportError:  # the finder is built in parallel; a regex stands in without it
    find_quotations = None

ARTICLE = (
    Path(__file__).resolve().parents[1] / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
).read_text(encoding="utf-8")
QUOTED = re.compile(r'"([^"]*)"')
SPEAKERS = ("Trump", "Donald Trump", "Dmitry Peskov", "Peskov")
BUDGET = budget_from_context(8192, 2048, 1500)
OVERLAP = 300

T = TypeVar("T")


def article_of(words: int) -> str:
    """The example article repeated until it has at least `words` words."""
    per_copy = len(ARTICLE.split())
    return ARTICLE * -(-words // per_copy)


def timed(step: Callable[[], T]) -> tuple[T, float]:
    """The step's result and its duration in seconds (collected first: less noise)."""
    gc.collect()
    began = time.perf_counter()
    result = step()
    return result, time.perf_counter() - began


def ground(text: str, chunks: list[Chunk]) -> list[ArticleExtraction]:
    """Each chunk's quoted passages grounded in the chunk, spans shifted to the whole text."""
    parts = []
    for n, chunk in enumerate(chunks):
        chunk_text = chunk.text_of(text)
        index = ArticleIndex(chunk_text)
        quotes = []
        for i, m in enumerate(QUOTED.finditer(chunk_text)):
            span = next(s for s in index.find(m.group(1)) if s.start == m.start(1))
            speaker = Actor(name=SPEAKERS[(n + i) % len(SPEAKERS)])
            quotes.append(Quote(text=span.text, speaker=speaker, kind=QuoteKind.DIRECT, span=span))
        parts.append(shift_spans(ArticleExtraction(quotes=quotes), chunk.start, text))
    return parts


def quotations(text: str) -> list[tuple[int, int]]:
    """Where the article's quotations are, marks included."""
    if find_quotations is not None:
        return [(q.outer_start, q.outer_end) for q in find_quotations(text)]
    return [(m.start(), m.end()) for m in QUOTED.finditer(text)]


def run(text: str) -> dict[str, float]:
    """One run of every step on `text`; the seconds each took."""
    protected, protect = timed(lambda: quotations(text))
    chunks, plan = timed(
        lambda: plan_chunks(text, budget_chars=BUDGET, overlap_chars=OVERLAP, protected=protected)
    )
    parts, grounding = timed(lambda: ground(text, chunks))
    merged, merge = timed(lambda: merge_extractions(parts))
    expected = [(m.start(1), m.end(1)) for m in QUOTED.finditer(text)]
    found = [(q.span.start, q.span.end) for q in merged.quotes if q.span is not None]
    if found != expected:
        raise SystemExit("merged quotes differ from the article's quoted passages")
    return {"protect": protect, "plan": plan, "ground": grounding, "merge": merge}


def main() -> None:
    """Print the figures for 1x, 2x and 4x the given length."""
    words = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    print(f"budget {BUDGET:,} characters (context 8,192, max_tokens 2,048, overhead 1,500)")
    finder = "extractor.quotations" if find_quotations is not None else "a regex (no finder)"
    print(f"quotations found by {finder}")
    header = "length   words    characters chunks quotes  protect   plan   ground   merge   total"
    print(f"{header}   per 100k chars")
    for factor in (1, 2, 4):
        text = article_of(words * factor)
        chunks = plan_chunks(
            text,
            budget_chars=BUDGET,
            overlap_chars=OVERLAP,
            protected=quotations(text),
        )
        runs = [run(text) for _ in range(3)]
        best = {step: min(r[step] for r in runs) for step in runs[0]}
        total = min(sum(r.values()) for r in runs)
        quotes = len(QUOTED.findall(text))
        print(
            f"{factor}x     {len(text.split()):>7,} {len(text):>12,} {len(chunks):>6} {quotes:>6}"
            f"  {best['protect']:6.3f} {best['plan']:6.3f} {best['ground']:8.3f}"
            f" {best['merge']:7.3f} {total:7.3f}s   {total / len(text) * 100_000:6.3f}s"
        )


if __name__ == "__main__":
    main()
