"""How fast `extractor view` builds the review page of 200 articles, and how big the page is.

    python benchmarks/view_speed.py [ARTICLES]

Makes ARTICLES (default 200) article files in a temporary folder, each the example article with
its number in the first line, and one batch-style JSONL file of their results: the article's
quotes from the library's rules (`extract_offline`) plus, HAND-BUILT here to fill the page as a
model's result would, one event per sentence and a commitment over every second quote's
sentence (so spans nest and cross). Prints the records, the time to read the results and their
texts, to build the page, to write it, the whole `extractor view` command (start-up included),
and the page's size; then, where playwright and Debian's /usr/bin/chromium are installed, how long
Chromium takes to load the page (domComplete), to apply a type filter and to switch articles.
Figures, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from extractor import extract_offline, read_article
from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    CommitmentKind,
    Event,
    EventKind,
    EventStatus,
    Polarity,
    SourceText,
)
from extractor.spans import Span
from extractor.view import build_page, load_articles

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
SENTENCE = re.compile(r"[^.!?\n]+[.!?]")


def make_result(text: str, name: str) -> ArticleExtraction:
    """Quotes from the rules; events and commitments HAND-BUILT over the text's sentences."""
    article = read_article(ARTICLE)  # for its date line's offset
    offset = len(text) - len(article.text)
    quotes = extract_offline(text[offset:]).quotes
    quotes = [
        q.model_copy(
            update={
                "span": Span(start=q.span.start + offset, end=q.span.end + offset, text=q.span.text)
            }
        )
        for q in quotes
        if q.span
    ]
    sentences = [m for m in SENTENCE.finditer(text) if m.group().strip()]
    events = [
        Event(
            kind=EventKind.STATEMENT,
            summary=m.group().strip()[:60],
            actors=[Actor(name="Donald Trump"), Actor(name="Dmitry Peskov")],
            status=EventStatus.OCCURRED,
            evidence=m.group(),
            span=Span(start=m.start(), end=m.end(), text=m.group()),
        )
        for m in sentences
    ]
    commitments = []
    for q in quotes[::2]:
        assert q.span is not None
        start, end = max(0, q.span.start - 20), min(len(text), q.span.end + 15)
        commitments.append(
            Commitment(
                actor=q.speaker,
                polarity=Polarity.WILL,
                kind=CommitmentKind.PROMISE,
                action="act",
                evidence=text[start:end],
                span=Span(start=start, end=end, text=text[start:end]),
            )
        )
    return ArticleExtraction(
        quotes=quotes,
        events=events,
        commitments=commitments,
        source=SourceText(path=name, length=len(text)),
    )


def browser_figures(page: Path) -> None:
    """Load, filter and navigation times of the page in headless Chromium, if it can be had."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("browser:             skipped (playwright is not installed)")
        return
    if not Path("/usr/bin/chromium").exists():
        print("browser:             skipped (no /usr/bin/chromium: apt-get install chromium)")
        return
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    flags += ["--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        tab.goto(page.as_uri())
        loaded = tab.evaluate("performance.getEntriesByType('navigation')[0].domComplete")
        started = time.perf_counter()
        tab.locator('input[data-filter-type="event"]').uncheck()
        tab.evaluate("1")
        filtered = time.perf_counter() - started
        started = time.perf_counter()
        tab.locator("nav a").last.click()
        tab.evaluate("1")
        switched = time.perf_counter() - started
        browser.close()
    print(f"chromium load:       {loaded / 1000:.3f} s (domComplete)")
    print(f"chromium filter:     {filtered:.3f} s (events off, every highlight and list item)")
    print(f"chromium navigate:   {switched:.3f} s (to the last article)")


def main() -> None:
    """Build the inputs, then time each step and the command."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    base = ARTICLE.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        lines = []
        records = 0
        for i in range(count):
            text = base.replace("Russia dismissed", f"[{i}] Russia dismissed", 1)
            name = f"articles/a{i:03}.txt"
            (root / "articles").mkdir(exist_ok=True)
            (root / name).write_text(text, encoding="utf-8")
            result = make_result(text, name)
            records += len(result.quotes) + len(result.events) + len(result.commitments)
            line = {"id": f"a{i:03}", "source": name, "result": result.model_dump(mode="json")}
            lines.append(json.dumps(line, ensure_ascii=False))
        results = root / "results.jsonl"
        results.write_text("\n".join(lines) + "\n", encoding="utf-8")

        started = time.perf_counter()
        articles = load_articles([results])
        loaded = time.perf_counter()
        page = build_page(articles)
        built = time.perf_counter()
        out = root / "page.html"
        out.write_text(page, encoding="utf-8")
        written = time.perf_counter()

        command = [
            sys.executable,
            "-c",
            "import sys; from extractor.cli import main; sys.argv[0] = 'extractor'; main()",
            "view",
            str(results),
            "--out",
            str(out),
        ]
        begun = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        whole = time.perf_counter() - begun

        size = out.stat().st_size
        print(f"articles:            {count}")
        print(f"records:             {records:,} ({records / count:.0f} per article)")
        print(f"results file:        {results.stat().st_size / 1e6:.2f} MB")
        print(f"read results + text: {loaded - started:.3f} s")
        print(f"build page:          {built - loaded:.3f} s")
        print(f"write page:          {written - built:.3f} s")
        print(f"extractor view:      {whole:.3f} s (the whole command, start-up included)")
        print(f"page size:           {size / 1e6:.2f} MB ({size / count / 1024:.1f} KB an article)")
        browser_figures(out)


if __name__ == "__main__":
    main()
