"""The review page (`extractor view`): spans highlighted exactly, text escaped, bad input refused.

Results here are built by hand (HAND-BUILT records standing in for an extraction, written where
they are used) or come from `extractor extract` offline or replaying the recorded exchange
tests/cassettes/test_extractor/test_clean_extraction_of_shared_article.yaml, whose reply was
written by hand (tests/handwritten/).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import subprocess
import sys
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from extractor import (
    Actor,
    ArticleExtraction,
    Commitment,
    Event,
    Quote,
    QuoteKind,
    SourceText,
    Span,
)
from extractor.cli import app
from extractor.errors import InputError
from extractor.models import (
    CommitmentKind,
    EventKind,
    EventStatus,
    NotAQuotation,
    Polarity,
    QuotationCoverage,
    RuledOut,
)
from extractor.render import to_json
from extractor.view import ViewArticle, build_page, load_articles

from conftest import ARTICLE_PATH, RECORDED, ROOT

runner = CliRunner()
ARTICLE = ARTICLE_PATH
BASE_URL = ["--base-url", "http://127.0.0.1:8799/v1"]

HOSTILE = (
    "</script><script>alert(1)</script> <img src=x onerror=alert(2)> \"q\" 'a' & &amp; "
    "<!-- --> ]]> \x1b[2J \u2028 \u0085"
)


pytestmark = pytest.mark.usefixtures("no_live_credentials")


# --- reading a page back ---------------------------------------------------------------------

ALLOWED_TAGS = set(
    [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "h3",
        "span",
        "div",
        "label",
        "input",
        "datalist",
        "option",
        "nav",
        "ol",
        "li",
        "a",
        "main",
        "section",
        "p",
        "aside",
        "mark",
        "b",
        "q",
        "script",
    ]
)


class Page(HTMLParser):
    """A review page read back: its tags, highlights with their offsets in the text, scripts."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.text_depth: int | None = None  # depth of the open <div class="text">
        self.texts: list[str] = []  # each article's text as the page shows it
        self.pieces: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.declared: dict[str, list[tuple[int, int]]] = defaultdict(list)  # data-piece-*
        self.starts: dict[str, tuple[int, int, int]] = {}  # rid -> (offset, data-start, data-end)
        self.types: dict[str, str] = {}
        self.open_marks: list[tuple[str, int]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.script: tuple[dict[str, str | None], list[str]] | None = None
        self.style = ""
        self.in_style = False
        self.feed(page)
        self.close()
        assert self.stack == [], self.stack  # every element closed
        assert self.open_marks == []

    @property
    def at(self) -> int:
        return len(self.texts[-1])

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in {"meta", "input"}:
            return
        self.stack.append(tag)
        if tag == "div" and attributes.get("class") == "text":
            self.text_depth = len(self.stack)
            self.texts.append("")
        if tag == "mark":
            assert self.text_depth is not None
            rid = attributes["data-rec"]
            assert rid is not None
            self.open_marks.append((rid, self.at))
            piece = (
                int(attributes["data-piece-start"] or ""),
                int(attributes["data-piece-end"] or ""),
            )
            self.declared[rid].append(piece)
            self.types[rid] = (attributes["class"] or "").split()[1]
            if "data-start" in attributes:
                assert rid not in self.starts, f"{rid} has two elements with data-start"
                start, end = int(attributes["data-start"] or ""), int(attributes["data-end"] or "")
                self.starts[rid] = (self.at, start, end)
        if tag == "script":
            self.script = (attributes, [])
        if tag == "style":
            self.in_style = True

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (self.stack, tag)
        if tag == "mark":
            rid, begun = self.open_marks.pop()
            self.pieces[rid].append((begun, self.at))
        if tag == "div" and self.text_depth == len(self.stack):
            self.text_depth = None
        if tag == "script" and self.script is not None:
            self.scripts.append((self.script[0], "".join(self.script[1])))
            self.script = None
        if tag == "style":
            self.in_style = False
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.script is not None:
            self.script[1].append(data)
        elif self.in_style:
            self.style += data
        elif self.text_depth is not None:
            self.texts[-1] += data

    def data(self) -> dict[str, Any]:
        blocks = [body for attrs, body in self.scripts if attrs.get("type") == "application/json"]
        assert len(blocks) == 1
        loaded: dict[str, Any] = json.loads(blocks[0])
        return loaded


def assert_highlights_exact(page: Page, records: list[tuple[str, int, int]]) -> None:
    """Each (type, start, end) record has one element with data-start/data-end at its offset,
    and its pieces cover exactly its span of the text (the text shown unchanged), each piece's
    data-piece-start/data-piece-end being the offsets of the text it holds."""
    assert len(page.starts) == len(records)
    found = sorted((page.types[rid], s, e) for rid, (_, s, e) in page.starts.items())
    assert found == sorted(records)
    for rid, (offset, start, end) in page.starts.items():
        assert offset == start  # the element sits where its span starts in the text
        covered = sorted(page.pieces[rid])
        assert sorted(page.declared[rid]) == covered
        assert covered[0][0] == start and covered[-1][1] == end
        for (_, first_end), (second_start, _) in itertools.pairwise(covered):
            assert first_end == second_start  # pieces meet: no gap, no overlap


def write_result(tmp_path: Path, text: str, result: ArticleExtraction, name: str = "a") -> Path:
    """The article as a file and its result as `extract --format json` would write them."""
    (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
    placed = result.model_copy(update={"source": SourceText(path=f"{name}.txt", length=len(text))})
    out = tmp_path / f"{name}.json"
    out.write_text(to_json(placed), encoding="utf-8")
    return out


def span(text: str, start: int, end: int) -> Span:
    return Span(start=start, end=end, text=text[start:end])


def quote(text: str, start: int, end: int, speaker: str = "Ann Lee") -> Quote:
    return Quote(
        text=text[start:end],
        speaker=Actor(name=speaker),
        kind=QuoteKind.DIRECT,
        span=span(text, start, end),
    )


def commitment(text: str, start: int, end: int, actor: str = "Bob Roy") -> Commitment:
    return Commitment(
        actor=Actor(name=actor),
        polarity=Polarity.WILL_NOT,
        kind=CommitmentKind.REFUSAL,
        action="send troops",
        evidence=text[start:end],
        span=span(text, start, end),
    )


def event(text: str, start: int, end: int) -> Event:
    return Event(
        kind=EventKind.MEETING,
        summary="They met.",
        actors=[Actor(name="Ann Lee"), Actor(name="Bob Roy")],
        status=EventStatus.OCCURRED,
        evidence=text[start:end],
        span=span(text, start, end),
    )


def view(*args: str) -> Any:
    return runner.invoke(app, ["view", *args])


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return str(lines[0])


# --- the page --------------------------------------------------------------------------------


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_every_record_of_a_real_extraction_is_highlighted_at_its_span(tmp_path: Path) -> None:
    extracted = runner.invoke(app, ["extract", str(ARTICLE), "--format", "json", *BASE_URL])
    assert extracted.exit_code == 0, extracted.output
    (tmp_path / "result.json").write_text(extracted.stdout, encoding="utf-8")
    result = ArticleExtraction.model_validate_json(extracted.stdout)
    assert result.quotes and result.commitments and result.events

    done = view(str(tmp_path / "result.json"), "--out", str(tmp_path / "page.html"))
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith(f"wrote {tmp_path / 'page.html'}: 1 article (8 quotes")

    page = Page((tmp_path / "page.html").read_text(encoding="utf-8"))
    text = ARTICLE.read_text(encoding="utf-8")
    assert page.texts == [text]  # the whole file, date line included: what the offsets index
    records = [
        (kind, r.span.start, r.span.end)
        for kind, group in (
            ("quote", result.quotes),
            ("commitment", result.commitments),
            ("event", result.events),
        )
        for r in group
        if r.span
    ]
    assert_highlights_exact(page, records)
    data = page.data()
    assert len(data) == len(records)
    for rid, (_, start, end) in page.starts.items():
        assert (data[rid]["start"], data[rid]["end"]) == (start, end)
        assert data[rid]["text"] == text[start:end]


def test_overlapping_and_nested_spans_keep_the_markup_well_formed(tmp_path: Path) -> None:
    text = "Ann Lee said the talks would go on, but Bob Roy refused to send troops today."
    # HAND-BUILT: a quote crossing a commitment, an event around both, two on one span.
    result = ArticleExtraction(
        quotes=[quote(text, 13, 40), quote(text, 40, 60, "Bob Roy")],
        commitments=[commitment(text, 30, 70), commitment(text, 40, 60)],
        events=[event(text, 0, len(text)), event(text, 13, 40)],
    )
    path = write_result(tmp_path, text, result)
    page = Page(build_page(load_articles([path])))
    assert page.texts == [text]
    assert_highlights_exact(
        page,
        [
            ("quote", 13, 40),
            ("quote", 40, 60),
            ("commitment", 30, 70),
            ("commitment", 40, 60),
            ("event", 0, len(text)),
            ("event", 13, 40),
        ],
    )
    split = [rid for rid, pieces in page.pieces.items() if len(pieces) > 1]
    assert split  # the crossing spans were cut into segments, not left to break the markup


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)).map(sorted), min_size=1, max_size=12)
)
def test_any_set_of_spans_is_highlighted_exactly(bounds: list[list[int]]) -> None:
    text = "abcdefghij klmnopqrst uvwxyz ABCDEFGHIJ KL"  # 42 characters
    # HAND-BUILT: quotes at arbitrary, possibly empty, equal, nested or crossing spans.
    result = ArticleExtraction(quotes=[quote(text, s, e) for s, e in bounds])
    page = Page(build_page([ViewArticle("x", text, result)]))
    assert page.texts == [text]
    assert len(page.starts) == len(bounds)
    assert sorted((s, e) for _, s, e in page.starts.values()) == sorted(map(tuple, bounds))
    for rid, (offset, start, end) in page.starts.items():
        assert offset == start
        covered = sorted(page.pieces[rid])
        assert covered[0][0] == start and covered[-1][1] == end


def test_hostile_article_and_fields_are_shown_never_obeyed(tmp_path: Path) -> None:
    text = f"Intro. {HOSTILE} said <b>Ann</b>. Then {HOSTILE} again."
    start = text.index(HOSTILE)
    # HAND-BUILT: a quote of the hostile text, its speaker and verb hostile too.
    hostile_quote = quote(text, start, start + len(HOSTILE), speaker=HOSTILE).model_copy(
        update={"verb": '" onmouseover="alert(3)'}
    )
    result = ArticleExtraction(quotes=[hostile_quote])
    path = write_result(tmp_path, text, result, name="x<img src=y onerror=alert(4)>")
    html_page = build_page(load_articles([path]), title=HOSTILE)
    page = Page(html_page)

    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS  # no <img>, no <b> from the text
    for _, attributes in page.tags:
        assert not any(name.startswith("on") for name in attributes)
    assert len(page.scripts) == 2  # the records' JSON and the page's own code, nothing else
    assert "</script" not in page.scripts[0][1].lower()
    shown = page.texts[0]
    assert HOSTILE.replace("\x1b", "\\x1b").replace("\x85", "\\x85") in shown  # escapes visible
    assert "\x1b" not in html_page and "\x85" not in html_page
    fields = next(iter(page.data().values()))["fields"]
    assert fields["speaker"]["name"] == HOSTILE  # the JSON block carries the value exactly
    assert fields["verb"] == '" onmouseover="alert(3)'


def test_the_page_loads_nothing_and_runs_only_its_own_script_and_style(tmp_path: Path) -> None:
    text = 'Ann Lee said: "We will meet."'
    path = write_result(tmp_path, text, ArticleExtraction(quotes=[quote(text, 14, 28)]))
    page = Page(build_page(load_articles([path])))
    policy = "Content-Security-Policy"
    csp = next(a["content"] for _, a in page.tags if a.get("http-equiv") == policy)
    assert csp is not None and "default-src 'none'" in csp

    def digest(body: str) -> str:
        return base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()

    code = next(body for attrs, body in page.scripts if "type" not in attrs)
    assert f"script-src 'sha256-{digest(code)}'" in csp
    assert f"style-src 'sha256-{digest(page.style)}'" in csp
    for _, attributes in page.tags:  # no resource is fetched from anywhere
        assert "src" not in attributes
        assert not (attributes.get("href") or "#").startswith(("http", "//", "file"))
        assert attributes.get("rel") is None


def test_several_articles_from_json_and_batch_lines(tmp_path: Path) -> None:
    one = 'Ann Lee said "yes" on Monday.'
    first = write_result(tmp_path, one, ArticleExtraction(quotes=[quote(one, 14, 17)]), "one")
    two = "Bob Roy refused to send troops."
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "two.txt").write_text(two, encoding="utf-8")
    dump = "Ann Lee and Bob Roy met in Oslo."
    (tmp_path / "dump.jsonl").write_text(
        json.dumps({"id": "d1", "text": "other"}) + "\n" + json.dumps({"id": "d2", "text": dump}),
        encoding="utf-8",
    )

    def line(ident: str, source: str, text: str, result: ArticleExtraction) -> str:
        placed = result.model_copy(update={"source": SourceText(path=source, length=len(text))})
        # HAND-BUILT: lines in the shape `extractor batch` writes (extractor.batch_lines).
        return json.dumps(
            {
                "id": ident,
                "source": source,
                "url": None,
                "title": "Troops" if ident == "2" else None,
                "result": placed.model_dump(mode="json"),
                "usage": {"requests": 1},
                "timing": {"started": "2026-11-29T21:40:00Z", "seconds": 1.0},
            }
        )

    batch = tmp_path / "results.jsonl"
    batch.write_text(
        line("2", "news/two.txt", two, ArticleExtraction(commitments=[commitment(two, 0, 30)]))
        + "\n"
        + line("d2", "dump.jsonl:2", dump, ArticleExtraction(events=[event(dump, 0, 31)]))
        + "\n",
        encoding="utf-8",
    )
    done = view(str(first), str(batch), "--out", str(tmp_path / "page.html"))
    assert done.exit_code == 0, done.output
    assert "3 articles (1 quote, 1 commitment, 1 event)" in done.stdout
    html_page = (tmp_path / "page.html").read_text(encoding="utf-8")
    page = Page(html_page)
    assert page.texts == [one, two, dump]
    assert_highlights_exact(page, [("quote", 14, 17), ("commitment", 0, 30), ("event", 0, 31)])
    nav = [a for tag, a in page.tags if tag == "a" and a.get("data-article")]
    assert [a["href"] for a in nav] == ["#a0", "#a1", "#a2"]
    assert [a["title"] for a in nav] == ["one.txt", "2", "d2"]  # a path, then batch ids
    assert "Troops (2)" in html_page  # a batch line's title heads its article
    speakers = {a["value"] for tag, a in page.tags if tag == "option"}
    assert speakers == {"Ann Lee", "Bob Roy"}  # the speaker filter's choices
    boxes = {a["data-filter-type"] for tag, a in page.tags if "data-filter-type" in a}
    assert boxes == {"quote", "commitment", "event"}


def test_ruled_out_quotations_are_listed_apart(tmp_path: Path) -> None:
    text = 'Ann Lee said "we will go" about the "Peace Plan" and her "friends".'
    # HAND-BUILT: one quote; two marked passages the model ruled out.
    coverage = QuotationCoverage(
        found=3,
        attributed=1,
        ruled_out=[
            RuledOut(span=span(text, 37, 47), reason=NotAQuotation.TITLE, by="model"),
            RuledOut(span=span(text, 58, 65), reason=NotAQuotation.SCARE, by="finder"),
        ],
    )
    result = ArticleExtraction(quotes=[quote(text, 14, 24)], coverage=coverage)
    html_page = build_page(load_articles([write_result(tmp_path, text, result)]))
    page = Page(html_page)
    assert_highlights_exact(page, [("quote", 14, 24)])  # ruled out: not highlighted as records
    ruled = [a for tag, a in page.tags if tag == "li" and "data-ruled-start" in a]
    assert [(a["data-ruled-start"], a["data-ruled-end"]) for a in ruled] == [
        ("37", "47"),
        ("58", "65"),
    ]
    assert "Ruled out: marked, but not speech (2)" in html_page
    assert "<q>Peace Plan</q>" in html_page and ">title<" in html_page and "by finder" in html_page


def test_a_failed_batch_line_shows_what_it_kept_and_why(tmp_path: Path) -> None:
    text = 'Ann Lee said "yes" and more.'
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    partial = ArticleExtraction(
        quotes=[quote(text, 14, 17)], source=SourceText(path="a.txt", length=len(text))
    )
    # HAND-BUILT: errors-file lines as `extractor batch` writes them, with and without partial.
    errors = tmp_path / "results.errors.jsonl"
    common = {"source": "a.txt", "usage": {}, "timing": {"started": "2026-11-29T00:00:00Z"}}
    errors.write_text(
        json.dumps(
            {
                "id": "a",
                "error": "ExtractionError",
                "message": "no reply validated",
                "partial": partial.model_dump(mode="json"),
                **common,
            }
        )
        + "\n"
        + json.dumps({"id": "b", "error": "InputError", "message": "binary", **common})
        + "\n",
        encoding="utf-8",
    )
    articles = load_articles([errors])
    assert [(a.name, a.failure) for a in articles] == [
        ("a", "ExtractionError: no reply validated"),
        ("b", "InputError: binary"),
    ]
    html_page = build_page(articles)
    assert "failed: ExtractionError: no reply validated" in html_page
    assert_highlights_exact(Page(html_page), [("quote", 14, 17)])


def test_offsets_index_the_file_as_python_reads_it(tmp_path: Path) -> None:
    """A CRLF file with a BOM: offsets are into read_text's string (U+FEFF kept, \\n)."""
    raw = '\ufeffdate 2025-08-27\r\nAnn Lee said "We will go."\r\nBob Roy said "No."\r\n'
    (tmp_path / "crlf.txt").write_bytes(raw.encode("utf-8"))
    extracted = runner.invoke(app, ["extract", str(tmp_path / "crlf.txt"), "--format", "json"])
    assert extracted.exit_code == 0, extracted.output
    (tmp_path / "r.json").write_text(extracted.stdout, encoding="utf-8")
    result = ArticleExtraction.model_validate_json(extracted.stdout)
    page = Page(build_page(load_articles([tmp_path / "r.json"])))
    text = (tmp_path / "crlf.txt").read_text(encoding="utf-8")
    assert page.texts == [text] and len(result.quotes) == 2
    spans = [("quote", q.span.start, q.span.end) for q in result.quotes if q.span]
    assert_highlights_exact(page, spans)


def test_the_text_file_is_found_beside_the_result_or_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = 'Ann Lee said "yes".'
    result = write_result(tmp_path, text, ArticleExtraction(quotes=[quote(text, 14, 17)]))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_articles([result])[0].text == text  # beside the result file
    moved = elsewhere / "results"
    moved.mkdir()
    (moved / "r.json").write_bytes(result.read_bytes())
    (elsewhere / "a.txt").write_text(text, encoding="utf-8")
    assert load_articles([moved / "r.json"])[0].text == text  # in the current folder


# --- bad input: one line, exit 2 ------------------------------------------------------------


def test_bad_inputs_give_one_line_each(tmp_path: Path) -> None:
    text = 'Ann Lee said "yes".'
    good = write_result(tmp_path, text, ArticleExtraction(quotes=[quote(text, 14, 17)]))
    out = str(tmp_path / "page.html")

    def error_for(content: str | bytes) -> str:
        bad = tmp_path / "bad.json"
        bad.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return one_line_error(view(str(bad), "--out", out))

    assert "not JSON" in error_for("this is not json")
    assert "bad.json:2: not JSON" in error_for(good.read_text().replace("\n", "") + "\n{oops\n")
    assert "not UTF-8" in error_for(b"\xff\xfe\x00")
    assert "empty" in error_for("  \n")
    assert "a JSON int, not a result object" in error_for("[1, 2]")
    assert "no events, quotes or commitments" in error_for('{"name": "x"}')
    assert "use --format json" in error_for('{"type": "source", "path": "a.txt", "length": 3}')
    assert "quotes.0.span" in error_for(
        '{"quotes": [{"text": "x", "speaker": {"name": "A"}, "kind": "direct", "span": 5}]}'
    )
    stdin_result = json.loads(good.read_text())
    stdin_result["source"]["path"] = "<stdin>"
    assert "standard input" in error_for(json.dumps(stdin_result))
    no_source = {**stdin_result, "source": None}
    assert "names no source file" in error_for(json.dumps(no_source))

    missing = one_line_error(view(str(tmp_path / "nope.json"), "--out", out))
    assert "nope.json: no such file" in missing
    assert not (tmp_path / "page.html").exists()


def test_a_missing_or_changed_article_file_is_named(tmp_path: Path) -> None:
    text = 'Ann Lee said "yes".'
    result = write_result(tmp_path, text, ArticleExtraction(quotes=[quote(text, 14, 17)]))
    out = str(tmp_path / "page.html")
    (tmp_path / "a.txt").write_text(text + " More.", encoding="utf-8")
    changed = one_line_error(view(str(result), "--out", out))
    assert "a.txt has changed since the extraction" in changed and "19 characters" in changed
    (tmp_path / "a.txt").write_text(text.replace("yes", "yep"), encoding="utf-8")  # same length
    assert "the span 14-17 is not 'yes'" in one_line_error(view(str(result), "--out", out))
    (tmp_path / "a.txt").unlink()
    assert "article file a.txt not found" in one_line_error(view(str(result), "--out", out))
    assert "is one of the result files" in one_line_error(view(str(result), "--out", str(result)))
    with pytest.raises(InputError, match=r"a\.txt not found"):
        load_articles([result])


def test_the_page_fits_200_articles_in_one_file(tmp_path: Path) -> None:
    text = 'Ann Lee said "we will go" and Bob Roy refused to send troops. ' * 20
    # HAND-BUILT: the same result for 200 articles, each in its own file.
    result = ArticleExtraction(quotes=[quote(text, 14, 24)], commitments=[commitment(text, 30, 60)])
    paths = [write_result(tmp_path, text, result, name=f"n{i}") for i in range(200)]
    page = Page(build_page(load_articles(paths)))
    assert len(page.texts) == 200 and len(page.starts) == 400
    assert len(set(page.starts)) == 400  # record ids unique across the page
    assert re.fullmatch(r"r\d+", next(iter(page.starts)))


def test_a_real_batch_output_and_its_inputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`extractor batch` (no model: the rules' quotes) over a folder and a JSONL dump, then view."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "news").mkdir()
    (tmp_path / "news" / "a.txt").write_bytes(ARTICLE.read_bytes())
    crlf = '\ufeffdate 2025-08-01\r\nAnn Lee said "we will go" today.\r\n'
    (tmp_path / "news" / "b.txt").write_bytes(crlf.encode("utf-8"))
    dump = [
        {"id": "x1", "text": 'Bob Roy said "no way" to them.', "title": "Roy says no"},
        {"id": 7, "text": 'He said "fine" and left, the "Plan" dead.'},
    ]
    (tmp_path / "dump.jsonl").write_text("\n".join(json.dumps(d) for d in dump) + "\n")
    ran = runner.invoke(app, ["batch", "news", "dump.jsonl", "--out", "out.jsonl", "--no-cache"])
    assert ran.exit_code == 0, ran.output

    made = view("out.jsonl", "--out", "page.html")
    assert made.exit_code == 0, made.output
    articles = load_articles([tmp_path / "out.jsonl"])
    texts = {a.name: a.text for a in articles}
    assert texts == {
        "a.txt": ARTICLE.read_text(encoding="utf-8"),
        "b.txt": (tmp_path / "news" / "b.txt").read_text(encoding="utf-8"),
        "x1": dump[0]["text"],
        "7": dump[1]["text"],
    }
    page = Page((tmp_path / "page.html").read_text(encoding="utf-8"))
    assert page.texts == [a.text for a in articles]
    quotes = [
        ("quote", q.span.start, q.span.end) for a in articles for q in a.result.quotes if q.span
    ]
    assert len(quotes) == 10
    assert_highlights_exact(page, quotes)


def test_usage_errors_are_one_line(tmp_path: Path) -> None:
    assert "missing option '--out'" in one_line_error(view(str(tmp_path / "r.json")))
    assert "missing argument 'RESULT'" in one_line_error(view("--out", "x.html"))


def test_the_page_and_rows_load_without_openai() -> None:
    code = (
        "import sys, extractor.view, extractor.records, extractor.cli_view; "
        "assert not {'openai', 'instructor', 'httpx2'} & set(sys.modules), sys.modules.keys()"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_result_whose_only_marks_are_ruled_out_is_shown(tmp_path: Path) -> None:
    """A scare quote and nothing else: no record, but its ruled-out span is shown (offline)."""
    text = 'date 2025-08-27\nThe so-called "peace plan" was never published by anyone.\n'
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    extracted = runner.invoke(
        app, ["extract", str(tmp_path / "a.txt"), "--offline", "--format", "json"]
    )
    assert extracted.exit_code == 0, extracted.output
    result = ArticleExtraction.model_validate_json(extracted.stdout)
    assert not (result.quotes or result.commitments or result.events)
    assert result.coverage is not None and result.coverage.ruled_out
    (tmp_path / "r.json").write_text(extracted.stdout, encoding="utf-8")
    made = view(str(tmp_path / "r.json"), "--out", str(tmp_path / "page.html"))
    assert made.exit_code == 0, made.output
    page = Page((tmp_path / "page.html").read_text(encoding="utf-8"))
    assert page.texts == [text]
    ruled = [a for tag, a in page.tags if tag == "li" and "data-ruled-start" in a]
    start, end = text.index("peace plan"), text.index("peace plan") + len("peace plan")
    assert [(a["data-ruled-start"], a["data-ruled-end"]) for a in ruled] == [(str(start), str(end))]


def test_the_style_and_script_are_package_data_inlined_with_their_hashes(tmp_path: Path) -> None:
    from importlib import resources

    assets = resources.files("extractor") / "view_assets"
    css = (assets / "page.css").read_text(encoding="utf-8")
    script = (assets / "page.js").read_text(encoding="utf-8")
    text = 'Ann Lee said "yes".'
    page = build_page(load_articles([write_result(tmp_path, text, ArticleExtraction())]))
    assert f"<style>{css}</style>" in page and f"<script>{script}</script>" in page

    def digest(body: str) -> str:
        return base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()

    assert f"style-src 'sha256-{digest(css)}'" in page
    assert f"script-src 'sha256-{digest(script)}'" in page
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"view_assets/*"' in pyproject  # so an installed wheel has them
