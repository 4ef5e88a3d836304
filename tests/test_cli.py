"""The ``extractor`` command: bad input gets one clear line and a documented exit code.

Replies served or replayed here are HAND-WRITTEN stand-ins for a model (tests/scripted_server.py,
tests/handwritten/replies.py and the cassettes it records).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from extractor import (
    Actor,
    Article,
    ArticleExtraction,
    Commitment,
    Event,
    Quote,
    QuoteKind,
    SourceText,
    Span,
)
from extractor.cli import app
from extractor.render import OutputFormat, against_source, render

from conftest import ARTICLE_PATH, RECORDED, ROOT
from scripted_server import Reply, ScriptedServer, completion, error_body

runner = CliRunner()
ARTICLE = ARTICLE_PATH


pytestmark = pytest.mark.usefixtures("no_live_credentials")


def assert_offsets_index(text: str, data: dict[str, Any]) -> None:
    """Every span in a JSON result is a slice of `text`; there is at least one."""
    spans = [r["span"] for kind in ("quotes", "commitments", "events") for r in data[kind]]
    assert spans
    for span in spans:
        assert text[span["start"] : span["end"]] == span["text"]


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


def test_no_key_and_no_server_prints_offline_quotes_and_exits_0() -> None:
    """No model configured: the rules' quotes, and one line saying how to configure one."""
    result = runner.invoke(app, ["extract", str(ARTICLE)])
    assert result.exit_code == 0, result.output
    assert "Dmitry Peskov" in result.stdout
    line = one_line_error(result.stderr)
    assert line.startswith("note: ") and "OPENAI_API_KEY" in line


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_extract_json_from_recording() -> None:
    result = runner.invoke(
        app, ["extract", str(ARTICLE), "--format", "json", "--base-url", "http://127.0.0.1:8799/v1"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    text = ARTICLE.read_text(encoding="utf-8")  # the file as given, date line included
    assert data["published"] == "2025-08-27"
    assert data["source"] == {"path": str(ARTICLE), "length": len(text)}
    assert_offsets_index(text, data)


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_extract_jsonl_from_recording() -> None:
    result = runner.invoke(
        app,
        ["extract", str(ARTICLE), "--format", "jsonl", "--base-url", "http://127.0.0.1:8799/v1"],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {row["type"] for row in rows} == {"source", "event", "quote", "commitment", "usage"}


@pytest.mark.vcr(str(RECORDED / "test_reply_that_never_grounds_raises_extraction_error.yaml"))
def test_extraction_error_prints_partial_and_exits_1() -> None:
    result = runner.invoke(
        app,
        ["extract", str(ARTICLE), "--format", "jsonl", "--base-url", "http://127.0.0.1:8799/v1"],
    )
    assert result.exit_code == 1
    assert "negative attitude" in result.stdout  # the grounded quote is still printed
    line = one_line_error(result.stderr)
    assert line.startswith("error: no reply from gpt-4o-mini validated and grounded")
    assert "printed only the records an earlier reply grounded" in line


def test_schema_check_passes_on_the_repository() -> None:
    result = runner.invoke(app, ["schema", "--check", "--dir", str(ROOT / "schemas")])
    assert result.exit_code == 0, result.output


def test_schema_check_fails_on_stale_dir(tmp_path: Path) -> None:
    (tmp_path / "Actor.json").write_text("{}\n")
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
    line = one_line_error(result.output)
    assert line.startswith("error: ") and "--help" in line


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
    text = ARTICLE.read_text(encoding="utf-8")  # offsets index stdin as read, date line included
    assert rows[0] == {"type": "source", "path": "<stdin>", "length": len(text)}
    assert quotes and all(text[q["span"]["start"] : q["span"]["end"]] == q["text"] for q in quotes)


# Offsets printed by the command index the file as given (issue 7)

RECORDING = RECORDED / "test_clean_extraction_of_shared_article.yaml"
SCRIPTED = ["--base-url", "http://127.0.0.1:8799/v1"]


@pytest.mark.vcr(str(RECORDING))
@pytest.mark.parametrize(
    ("prefix", "newline"),
    [("", "\n"), ("\ufeff", "\n"), ("", "\r\n"), ("\ufeff", "\r\n"), ("", "\r")],
    ids=["lf", "bom", "crlf", "bom-crlf", "cr"],
)
def test_json_offsets_index_the_file_with_bom_and_line_ends(
    tmp_path: Path, prefix: str, newline: str
) -> None:
    """Offsets index ``Path(FILE).read_text(encoding="utf-8")``: a BOM is kept as \\ufeff and
    line ends read as \\n, as Python reads them."""
    body = ARTICLE.read_text(encoding="utf-8").strip().replace("date 2025-08-27 ", "")
    path = tmp_path / "article.txt"
    path.write_bytes(
        (prefix + "date 2025-08-27" + newline + newline + body.replace("\n", newline)).encode()
    )
    result = runner.invoke(app, ["extract", str(path), "--format", "json", *SCRIPTED])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    text = path.read_text(encoding="utf-8")
    assert data["source"] == {"path": str(path), "length": len(text)}
    assert_offsets_index(text, data)
    assert min(r["span"]["start"] for r in data["quotes"]) > len("date 2025-08-27")


@pytest.mark.vcr(str(RECORDING), allow_playback_repeats=True)
def test_jsonl_and_table_offsets_index_the_file() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    jsonl = runner.invoke(app, ["extract", str(ARTICLE), "--format", "jsonl", *SCRIPTED])
    assert jsonl.exit_code == 0, jsonl.output
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert rows[0] == {"type": "source", "path": str(ARTICLE), "length": len(text)}
    spans = [row["span"] for row in rows if "span" in row]
    assert spans and all(text[s["start"] : s["end"]] == s["text"] for s in spans)
    table = runner.invoke(app, ["extract", str(ARTICLE), *SCRIPTED])
    assert table.exit_code == 0, table.output
    for span in spans:
        assert f"{span['start']}-{span['end']}" in table.stdout


def test_shifting_spans_makes_new_ones_and_leaves_the_result_alone() -> None:
    span = Span(start=1, end=2, text="b")
    quote = Quote(text="b", speaker=Actor(name="A"), kind="direct", span=span)
    result = ArticleExtraction(quotes=[quote])
    article = Article(text="ab", published=None, source="a.txt", offset=5, source_length=7)
    moved = against_source(result, article)
    assert quote.span is span and result.source is None  # from Python: the string passed
    assert moved.quotes[0].span == Span(start=6, end=7, text="b")
    assert moved.source == SourceText(path="a.txt", length=7)


# The terminal: what the model or a server writes is shown, never obeyed (issue 7)

ESCAPES = "\x1b[2J\x1b[8m\x9b31m\x07\r"
FORGED = "boom\nerror: forged line\nnote: forged too\x1b[2J"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The command configures logging for its process; put it back after each test."""
    root, instructor = logging.getLogger(), logging.getLogger("instructor")
    levels = root.level, instructor.level
    yield
    root.setLevel(levels[0])
    instructor.setLevel(levels[1])


def test_table_shows_control_characters_escaped() -> None:
    quote = Quote(text="we\x1b[8m talk", speaker=Actor(name="Peskov" + ESCAPES), kind="direct")
    event = Event(kind="statement", summary="He spoke" + ESCAPES, status="occurred", evidence="x")
    commitment = Commitment(
        actor=Actor(name="A\x1b]0;title\x07"),
        polarity="will",
        kind="promise",
        action="act\x1b[31m",
        evidence="e",
    )
    console = Console(record=True, width=300)
    render(
        ArticleExtraction(quotes=[quote], events=[event], commitments=[commitment]),
        OutputFormat.TABLE,
        console,
    )
    text = console.export_text(styles=False)
    assert not any(ch in text for ch in "\x1b\x9b\x07\r")
    assert "Peskov\\x1b[2J\\x1b[8m\\x9b31m\\x07\\r" in text
    assert "He spoke\\x1b[2J" in text and "A\\x1b]0;title\\x07" in text and "act\\x1b[31m" in text


@pytest.mark.parametrize("fmt", [OutputFormat.JSON, OutputFormat.JSONL])
def test_json_escapes_c1_and_del_but_writes_other_text_raw(fmt: OutputFormat) -> None:
    quote = Quote(
        text="it\u2019s \u00e9t\u00e9 \x9b31m\x7f\x1b", speaker=Actor(name="A"), kind="direct"
    )
    console = Console(record=True, width=80)
    render(ArticleExtraction(quotes=[quote]), fmt, console)
    out = console.export_text(styles=False)
    assert "it\u2019s \u00e9t\u00e9" in out and "\\u2019" not in out
    assert not any(ch in out for ch in "\x1b\x9b\x7f")
    line = next(x for x in out.splitlines() if "\u2019" in x)
    assert "\\u009b31m\\u007f\\u001b" in line


def test_table_has_a_legend_under_each_table() -> None:
    quote = Quote(
        text="b", speaker=Actor(name="A"), kind="partial", span=Span(start=1, end=2, text="b")
    )
    console = Console(record=True, width=200)
    result = against_source(
        ArticleExtraction(quotes=[quote]),
        Article(text="ab", published=None, source="a.txt", offset=0, source_length=2),
    )
    render(result, OutputFormat.TABLE, console)
    lines = console.export_text(styles=False).splitlines()
    legends = [i for i, line in enumerate(lines) if line.startswith("span: ")]
    assert len(legends) == 3  # one under each of the three tables
    assert all(lines[i - 1].startswith("└") for i in legends)
    assert "character offsets into a.txt" in lines[legends[0]]
    assert "partial" in lines[legends[0]] and "will_not" in lines[legends[1]]
    assert "planned" in lines[legends[2]]


def test_model_text_with_escapes_is_printed_escaped(server: ScriptedServer, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text('Peskov said "we will talk soon" on Monday.\n', encoding="utf-8")
    reply = {
        "quotes": [
            {
                "text": "we will talk soon",
                "speaker": {"name": "Peskov" + ESCAPES},
                "kind": "partial",
            }
        ]
    }
    server.replies.append(Reply(completion(reply)))
    result = runner.invoke(app, ["extract", str(path), "--base-url", server.base_url])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "Peskov\\x1b[2J" in result.stdout


def test_server_error_with_newlines_and_escapes_is_one_escaped_line(server: ScriptedServer) -> None:
    server.replies.append(Reply(error_body(FORGED, "invalid_request_error"), status=400))
    result = runner.invoke(app, ["extract", str(ARTICLE), "--base-url", server.base_url])
    assert result.exit_code == 3
    line = one_line_error(result.stderr)
    assert line.startswith("error: ") and "boom\\nerror: forged line\\nnote: forged" in line
    assert "\x1b" not in result.stderr


def _traceback_500() -> Reply:
    message = (
        'Traceback (most recent call last):\n  File "server.py", line 9, in handle\n'
        '    validate(request)\n  File "schema.py", line 3, in validate\n'
        "    raise ValueError(detail)\nValueError: response_format: json_schema is not "
        "supported\nerror: forged\n\x1b[2J"
    )
    return Reply(error_body(message), status=500)


def test_a_500_with_a_traceback_is_one_line_without_retry_warnings(
    server: ScriptedServer,
) -> None:
    server.replies.extend(_traceback_500() for _ in range(5))
    args = ["extract", str(ARTICLE), "--base-url", server.base_url, "--mode", "json_schema"]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert "error: forged" in result.stderr and "\x1b" not in result.stderr  # shown, escaped


def test_retry_warnings_show_at_verbose_and_cannot_forge_lines(server: ScriptedServer) -> None:
    server.replies.extend(_traceback_500() for _ in range(5))
    args = ["extract", str(ARTICLE), "--base-url", server.base_url, "--mode", "json_schema", "-v"]
    result = runner.invoke(app, args)
    assert result.exit_code == 3
    lines = result.stderr.splitlines()
    assert [line for line in lines if line.startswith("error: ")] == [lines[-1]]
    assert all(line.startswith(("INFO ", "WARNING ", "DEBUG ")) for line in lines[:-1]), lines
    assert "\x1b" not in result.stderr


def test_unreadable_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.txt"
    path.write_text("text")

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    result = runner.invoke(app, ["extract", str(path)])
    assert result.exit_code == 2
    assert "Permission denied" in one_line_error(result.output)


def test_help_names_the_argument_plainly() -> None:
    result = runner.invoke(app, ["extract", "--help"])
    assert result.exit_code == 0
    assert "{ARTICLE}" not in result.output
    assert "extract [OPTIONS] ARTICLE\n" in result.output


def test_no_arguments_still_prints_the_help() -> None:
    result = runner.invoke(app, [])
    assert "Commands" in result.output and "extract" in result.output


# Schema files outside the repository


def test_schema_check_of_a_missing_folder_names_it(tmp_path: Path) -> None:
    missing = tmp_path / "schemas"
    result = runner.invoke(app, ["schema", "--check", "--dir", str(missing)])
    assert result.exit_code == 2
    line = one_line_error(result.output)
    assert str(missing) in line and "no such folder" in line and "stale" not in line


def test_schema_does_not_create_a_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 2
    assert "no such folder" in one_line_error(result.output)
    assert not (tmp_path / "schemas").exists()


def test_schema_writes_into_an_existing_folder(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schema", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ArticleExtraction.json").exists()


# The example script


def test_example_refuses_another_article_without_a_key(tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("date 2025-09-01\nSomething else happened.\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "extract_article.py"), str(other)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "recording" in done.stderr and "example article" in done.stderr
    assert "OPENAI_API_KEY" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_empty_path_is_named_as_such() -> None:
    result = runner.invoke(app, ["extract", ""])
    assert result.exit_code == 2
    assert "an empty path" in one_line_error(result.output)


def test_output_a_terminal_cannot_encode_is_escaped_not_a_traceback(
    server: ScriptedServer, tmp_path: Path
) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Peskov said it\u2019s over.", encoding="utf-8")
    reply = {
        "quotes": [{"text": "it\u2019s over", "speaker": {"name": "Peskov"}, "kind": "partial"}]
    }
    server.replies.append(Reply(completion(reply)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    env["PYTHONIOENCODING"] = "ascii"
    command = "from extractor.cli import main; main()"
    args = ["extract", str(path), "--format", "json", "--base-url", server.base_url]
    done = subprocess.run(
        [sys.executable, "-c", command, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["quotes"][0]["text"] == "it\u2019s over"
