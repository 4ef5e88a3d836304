"""The ``extractor`` command: bad input gets one clear line and a documented exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from extractor import Actor, ArticleExtraction, Quote, QuoteKind, read_article
from extractor.cli import app
from extractor.render import OutputFormat, render

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
RECORDED = ROOT / "tests" / "cassettes" / "test_extractor"


@pytest.fixture(autouse=True)
def _no_live_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "EXTRACTOR_API_KEY", "OPENAI_BASE_URL", "EXTRACTOR_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def one_line_error(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the article is empty"),
        (b"   \n\t \n", "the article is empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00binary", "looks binary"),
        (b"caf\xe9 au lait", "not UTF-8"),
    ],
)
def test_bad_files_exit_2_with_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(content)
    result = runner.invoke(app, ["extract", str(path)])
    assert result.exit_code == 2
    line = one_line_error(result.output)
    assert line.startswith("error: ") and expected in line and str(path) in line


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2
    assert "no such file" in one_line_error(result.output)


def test_bad_published_date_exits_2() -> None:
    result = runner.invoke(app, ["extract", str(ARTICLE), "--published", "yesterday"])
    assert result.exit_code == 2
    assert "not an ISO date" in one_line_error(result.output)


def test_no_key_and_no_server_exits_2() -> None:
    result = runner.invoke(app, ["extract", str(ARTICLE)])
    assert result.exit_code == 2
    assert "OPENAI_API_KEY" in one_line_error(result.output)


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_extract_json_from_recording() -> None:
    result = runner.invoke(
        app, ["extract", str(ARTICLE), "--format", "json", "--base-url", "http://127.0.0.1:8799/v1"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    text = read_article(ARTICLE, max_chars=100_000).text
    assert data["published"] == "2025-08-27"
    for quote in data["quotes"]:
        assert text[quote["span"]["start"] : quote["span"]["end"]] == quote["text"]


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_extract_jsonl_from_recording() -> None:
    result = runner.invoke(
        app,
        ["extract", str(ARTICLE), "--format", "jsonl", "--base-url", "http://127.0.0.1:8799/v1"],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {row["type"] for row in rows} == {"event", "quote", "commitment", "usage"}


@pytest.mark.vcr(str(RECORDED / "test_reply_that_never_grounds_raises_extraction_error.yaml"))
def test_extraction_error_prints_partial_and_exits_1() -> None:
    result = runner.invoke(
        app,
        ["extract", str(ARTICLE), "--format", "jsonl", "--base-url", "http://127.0.0.1:8799/v1"],
    )
    assert result.exit_code == 1
    assert "negative attitude" in result.stdout  # the grounded quote is still printed
    assert "error: no reply from gpt-4o-mini validated and grounded" in result.stderr


def test_schema_check_passes_on_the_repository() -> None:
    result = runner.invoke(app, ["schema", "--check", "--dir", str(ROOT / "schemas")])
    assert result.exit_code == 0, result.output


def test_schema_check_fails_on_stale_dir(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "--check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "stale schema files" in result.output


def test_ten_megabyte_file_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_text("Peskov said nothing new today. " * 350_000)  # about 10 MB
    result = runner.invoke(app, ["extract", str(path)])
    assert result.exit_code == 2
    line = one_line_error(result.output)
    assert "max_chars=200,000" in line and "EXTRACTOR_MAX_CHARS" in line


def test_directory_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a directory" in one_line_error(result.output)


@pytest.mark.parametrize(
    "args",
    [["extract", "a.txt", "--bogus"], ["extract"], ["extract", "a.txt", "--mode", "xml"], ["nope"]],
)
def test_usage_errors_exit_2_without_traceback(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and "Error:" in result.output


def test_table_prints_article_text_with_brackets_as_written() -> None:
    quote = Quote(text="[the plan] is dead, we [/] go", speaker=Actor(name="A"), kind="direct")
    console = Console(record=True, width=200)
    render(ArticleExtraction(quotes=[quote]), OutputFormat.TABLE, console)
    assert "[the plan] is dead, we [/] go" in console.export_text()
    assert quote.kind is QuoteKind.DIRECT


def test_schema_dir_that_cannot_be_written_exits_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = runner.invoke(app, ["schema", "--dir", str(blocker / "schemas")])
    assert result.exit_code == 2
    assert one_line_error(result.output).startswith("error: ")


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("extractor ")


def test_empty_stdin_exits_2() -> None:
    result = runner.invoke(app, ["extract", "-"], input="")
    assert result.exit_code == 2
    assert "<stdin>: the article is empty" in one_line_error(result.output)


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_extract_reads_stdin() -> None:
    result = runner.invoke(
        app,
        ["extract", "-", "--format", "jsonl", "--base-url", "http://127.0.0.1:8799/v1"],
        input=ARTICLE.read_text(),
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    quotes = [row for row in rows if row["type"] == "quote"]
    text = read_article(ARTICLE, max_chars=100_000).text  # stdin gets the same date-line handling
    assert quotes and all(text[q["span"]["start"] : q["span"]["end"]] == q["text"] for q in quotes)
