"""The review page in a real browser: Debian's Chromium, headless, driven by Playwright.

Skipped, saying why, where the ``playwright`` package (the dev extra) or ``/usr/bin/chromium``
(Debian's ``chromium`` package, which .ci/run installs as root) is missing; Playwright never
downloads a browser here. A screenshot of the page is kept in ``test-artifacts/`` (not in git).

The full result replays tests/cassettes/test_extractor/test_clean_extraction_of_shared_article.yaml,
whose reply was written by hand (tests/handwritten/); the second article's records are HAND-BUILT.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor import Actor, ArticleExtraction, Quote, QuoteKind, SourceText, Span
from extractor.cli import app
from extractor.models import NotAQuotation, QuotationCoverage, RuledOut
from extractor.render import to_json

from conftest import ARTICLE_PATH, RECORDED, ROOT

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'"
)
expect = sync_api.expect
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium, as "
        ".ci/run does when run as root",
        allow_module_level=True,
    )

runner = CliRunner()
ARTICLE = ARTICLE_PATH
ARTIFACTS = ROOT / "test-artifacts"
# As the machine's notes say: without the background-networking flags Chromium tries the network.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


pytestmark = pytest.mark.usefixtures("no_live_credentials")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=FLAGS
        )
        yield launched
        launched.close()


def second_article(tmp_path: Path) -> Path:
    text = 'Ann Lee said "we will not send troops" and the "Peace Plan" was dropped.'
    # HAND-BUILT: two quotes on nested spans, one ruled-out title.
    start, inner_start, end = text.index("we"), text.index("not"), text.index('" and')
    words = Span(start=start, end=end, text=text[start:end])
    inner = Span(start=inner_start, end=end, text=text[inner_start:end])
    result = ArticleExtraction(
        quotes=[
            Quote(
                text=words.text, speaker=Actor(name="Ann Lee"), kind=QuoteKind.DIRECT, span=words
            ),
            Quote(
                text=inner.text, speaker=Actor(name="Bob Roy"), kind=QuoteKind.PARTIAL, span=inner
            ),
        ],
        coverage=QuotationCoverage(
            found=2,
            attributed=1,
            ruled_out=[
                RuledOut(
                    span=Span(start=48, end=58, text="Peace Plan"),
                    reason=NotAQuotation.TITLE,
                    by="model",
                )
            ],
        ),
        source=SourceText(path="second.txt", length=len(text)),
    )
    (tmp_path / "second.txt").write_text(text, encoding="utf-8")
    (tmp_path / "second.json").write_text(to_json(result), encoding="utf-8")
    return tmp_path / "second.json"


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_every_record_is_highlighted_and_a_click_shows_its_fields(
    tmp_path: Path, browser: Any
) -> None:
    extracted = runner.invoke(
        app, ["extract", str(ARTICLE), "--format", "json", "--base-url", "http://127.0.0.1:8799/v1"]
    )
    assert extracted.exit_code == 0, extracted.output
    (tmp_path / "first.json").write_text(extracted.stdout, encoding="utf-8")
    result = ArticleExtraction.model_validate_json(extracted.stdout)
    records = len(result.quotes) + len(result.commitments) + len(result.events)
    page_file = tmp_path / "page.html"
    made = runner.invoke(
        app,
        [
            "view",
            str(tmp_path / "first.json"),
            str(second_article(tmp_path)),
            "--out",
            str(page_file),
        ],
    )
    assert made.exit_code == 0, made.output
    assert ": 2 articles (" in made.stdout

    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text))  # CSP refusals land here
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_file.as_uri())

    # Every record of both articles has its one highlight with data-start/data-end.
    assert page.locator("[data-start][data-end]").count() == records + 2
    for index, count in ((0, records), (1, 2)):
        page.locator(f'nav a[href="#a{index}"]').click()
        section = page.locator(f"section#a{index}")
        expect(section).to_be_visible()  # the hash change shows it
        shown = section.evaluate(
            """s => Array.from(s.querySelectorAll("mark[data-start]")).filter(m =>
                   m.getClientRects().length > 0 &&
                   getComputedStyle(m).backgroundColor !== "rgba(0, 0, 0, 0)").length"""
        )
        assert shown == count  # each is on screen with a highlight colour
        expect(page.locator("section.article:visible")).to_have_count(1)

    # Clicking a highlight shows that record's fields.
    page.locator('nav a[href="#a0"]').click()
    expect(page.locator("section#a0")).to_be_visible()
    # (A commitment and an event can share their sentence's span; a quotation's span is its own.)
    first = result.quotes[0]
    assert first.span is not None
    mark = page.locator(f'section#a0 mark.quote[data-start="{first.span.start}"]')
    mark.click()
    details = page.locator("section#a0 .details")
    text = details.inner_text()
    assert f"characters {first.span.start}\u2013{first.span.end}" in text
    assert first.speaker.name in text and first.kind.value in text
    assert "selected" in (mark.get_attribute("class") or "")
    assert "selected" in (page.locator("section#a0 li.rec.selected").get_attribute("class") or "")

    # Clicking a record in the side list selects its highlight; nested spans stay clickable.
    page.locator('nav a[href="#a1"]').click()
    expect(page.locator("section#a1")).to_be_visible()
    page.locator("section#a1 li.rec").nth(1).click()
    assert "Bob Roy" in page.locator("section#a1 .details").inner_text()
    assert page.locator("section#a1 mark.selected").count() == 1
    page.locator('section#a1 mark[data-start="14"]').click(position={"x": 5, "y": 5})
    assert "Ann Lee" in page.locator("section#a1 .details").inner_text()
    assert page.locator("section#a1 .ruled-out").inner_text().count("Peace Plan") == 1

    # The arrow keys move between articles.
    page.keyboard.press("ArrowLeft")
    expect(page.locator("section#a0")).to_be_visible()
    page.keyboard.press("ArrowRight")
    expect(page.locator("section#a1")).to_be_visible()

    # Filters: by type, then by speaker.
    page.locator('input[data-filter-type="quote"]').uncheck()
    assert page.locator("section#a1 li.rec:visible").count() == 0
    assert page.locator("section#a1 mark.off").count() == page.locator("section#a1 mark").count()
    page.locator('input[data-filter-type="quote"]').check()
    page.locator("#speaker").fill("bob")
    assert page.locator("section#a1 li.rec:visible").count() == 1
    assert "1 of" in page.locator("#shown").inner_text()
    page.locator("#speaker").fill("")

    # A link to a record opens its article with its fields.
    page.goto(f"{page_file.as_uri()}#r{records + 1}")
    expect(page.locator("section#a1 .details")).to_contain_text("Bob Roy")

    ARTIFACTS.mkdir(exist_ok=True)
    page.locator('nav a[href="#a0"]').click()
    expect(page.locator("section#a0")).to_be_visible()
    mark.click()
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(ARTIFACTS / "view.png"))
    page.close()
    assert problems == []
    assert requests == [page_file.as_uri()]  # the page itself, nothing else
