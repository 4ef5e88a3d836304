"""Offline quotes: with no model, the article's direct quotes with speakers from the rules.

`extract_offline` from Python, and ``extractor extract`` with no key and no base URL, or with
``--offline``: same result shape as a model's, one ``note:`` line on stderr, exit 0, no request,
and neither openai nor instructor loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from extractor import (
    Actor,
    ArticleExtraction,
    ConfigurationError,
    Extractor,
    InputError,
    NotAQuotation,
    QuotationCoverage,
    Quote,
    Span,
    extract_offline,
)
from extractor.cli import app
from extractor.render import OutputFormat, render

from scripted_server import ScriptedServer

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
# A cassette of HAND-WRITTEN replies (tests/handwritten/replies.py), replayed as a model result.
RECORDING = ROOT / "tests" / "cassettes" / "test_extractor"
RECORDING = RECORDING / "test_clean_extraction_of_shared_article.yaml"
UNREACHABLE = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there
MODEL_MODULES = ("openai", "instructor", "httpx", "httpx2", "extractor.extractor")

# Sentences written for these tests: a title, a quote over two sentences, a partial quote.
STORY = (
    "date 2024-03-05\n"
    'The mayor spoke after a screening of "The Long Winter" at the town hall.\n\n'
    '"We will rebuild the bridge by June," Mayor Ana Ruiz said on Monday. '
    '"Nobody will be left behind."\n\n'
    'She added that the plan was "fully funded."\n'
)


@pytest.fixture(autouse=True)
def _no_model_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "EXTRACTOR_API_KEY", "OPENAI_BASE_URL", "EXTRACTOR_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any model configuration, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    return {**env, **extra}


def spans_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["span"] for kind in ("quotes", "commitments", "events") for r in data[kind]]


def keys(value: Any) -> Any:
    """The shape of a JSON value: its keys, recursively (first item of each list)."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


# From Python


def test_shipped_article_has_its_quotes_and_speakers() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    result = extract_offline(text)
    speakers = {q.speaker.name for q in result.quotes}
    assert {"Dmitry Peskov", "Donald Trump", "Sergei Lavrov"} <= speakers
    first = result.quotes[0]
    assert (first.text, first.speaker.role, first.verb) == (
        "negative attitude",
        "spokesman",
        "said",
    )
    trump = [q for q in result.quotes if q.speaker.name == "Donald Trump"]
    assert any(q.text.startswith("We're willing to help them") for q in trump)
    assert result.published is not None and result.published.isoformat() == "2025-08-27"


def test_offline_result_is_quotes_only_unconfirmed_and_free() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    result = extract_offline(text)
    assert result.quotes and not result.events and not result.commitments
    assert all(
        q.span is not None and text[q.span.start : q.span.end] == q.text for q in result.quotes
    )
    assert all(not q.confirmed for q in result.quotes)
    assert result.usage.requests == result.usage.total_tokens == 0
    assert result.source is None  # spans index the string passed, as Extractor.extract's do


def test_coverage_counts_what_the_finder_found() -> None:
    result = extract_offline(STORY)
    coverage = result.coverage
    assert coverage is not None
    assert coverage.found == 4 and coverage.attributed == 0
    assert [(r.span.text, r.reason, r.by) for r in coverage.ruled_out] == [
        ("The Long Winter", NotAQuotation.TITLE, "finder")
    ]
    assert [s.text for s in coverage.unattributed] == [q.text for q in result.quotes]
    assert coverage.found == len(result.quotes) + len(coverage.ruled_out)


def test_story_speakers_carry_and_pronouns_resolve() -> None:
    result = extract_offline(STORY)
    assert [(q.text, q.speaker.name, q.kind.value) for q in result.quotes] == [
        ("We will rebuild the bridge by June,", "Ana Ruiz", "direct"),
        ("Nobody will be left behind.", "Ana Ruiz", "direct"),
        ("fully funded.", "Ana Ruiz", "partial"),
    ]
    assert all(
        q.span is not None and STORY[q.span.start : q.span.end] == q.text for q in result.quotes
    )


def test_published_argument_wins_over_the_date_line() -> None:
    assert str(extract_offline(STORY, published="2024-03-06").published) == "2024-03-06"
    assert extract_offline('No date line. "Fine," Bo said.').published is None


@pytest.mark.parametrize("text", ["", "   \n", "a\x00b"])
def test_text_that_cannot_be_read_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError):
        extract_offline(text)


def test_max_chars_is_honoured() -> None:
    with pytest.raises(InputError, match="max_chars=10"):
        extract_offline(STORY, max_chars=10)


# Import without openai


def test_model_free_imports_load_no_model_client() -> None:
    code = (
        "import sys\n"
        "from extractor import extract_offline, find_quotations, read_article\n"
        "import extractor.cli, extractor.offline, extractor.render\n"
        f"print([m for m in {MODEL_MODULES!r} if m in sys.modules])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_extractor_and_everything_exported_still_import() -> None:
    code = (
        "import sys, extractor\n"
        "from extractor import *\n"
        "from extractor import Extractor\n"
        "assert Extractor.__module__ == 'extractor.extractor'\n"
        "missing = [n for n in extractor.__all__ if not hasattr(extractor, n)]\n"
        "print(missing, 'openai' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[] True", done.stdout


def run_cli(args: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], Any]:
    """Run the command in a fresh interpreter; (the process, the model modules it loaded)."""
    code = (
        "import json, sys\n"
        "from extractor.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as stop:\n"
        "    code = stop.code\n"
        f"loaded = [m for m in {MODEL_MODULES!r} if m in sys.modules]\n"
        "print('LOADED', json.dumps(loaded), file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=False,
    )
    *lines, last = done.stderr.strip().splitlines()
    assert last.startswith("LOADED "), done.stderr
    done.stderr = "\n".join(lines)
    return done, json.loads(last.removeprefix("LOADED "))


def test_cli_with_no_model_loads_no_model_client() -> None:
    done, loaded = run_cli(["extract", str(ARTICLE), "--format", "json"], clean_env())
    assert done.returncode == 0, done.stderr
    assert loaded == []
    assert json.loads(done.stdout)["quotes"]
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("note: ")


def test_cli_offline_with_a_key_and_unreachable_server_makes_no_request() -> None:
    env = clean_env(OPENAI_API_KEY="sk-test-not-a-real-key-0123456789")
    args = ["extract", str(ARTICLE), "--offline", "--format", "json", "--base-url", UNREACHABLE]
    done, loaded = run_cli(args, env)
    assert done.returncode == 0, done.stderr
    assert loaded == []  # no client was even built
    data = json.loads(done.stdout)
    assert data["usage"]["requests"] == 0 and data["quotes"]
    assert done.stderr.startswith("note: --offline") and "\n" not in done.stderr


# The command, in process


def test_no_model_prints_quotes_one_note_and_exits_0() -> None:
    result = runner.invoke(app, ["extract", str(ARTICLE), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    text = ARTICLE.read_text(encoding="utf-8")
    assert data["source"] == {"path": str(ARTICLE), "length": len(text)}
    assert data["published"] == "2025-08-27"
    assert data["events"] == [] and data["commitments"] == []
    assert spans_of(data) and all(text[s["start"] : s["end"]] == s["text"] for s in spans_of(data))
    assert {q["speaker"]["name"] for q in data["quotes"]} >= {"Dmitry Peskov", "Donald Trump"}
    (line,) = result.stderr.splitlines()
    assert line.startswith("note: no model configured")
    assert "events, commitments and reported speech need a model" in line
    assert "OPENAI_API_KEY" in line and "--base-url" in line


def test_offline_flag_is_used_even_with_a_live_server(server: ScriptedServer) -> None:
    args = ["extract", str(ARTICLE), "--offline", "--format", "json", "--base-url"]
    result = runner.invoke(app, [*args, server.base_url], env={"OPENAI_API_KEY": "sk-test-x"})
    assert result.exit_code == 0, result.output
    assert server.requests == []
    assert json.loads(result.stdout)["quotes"]
    (line,) = result.stderr.splitlines()
    assert line.startswith("note: --offline") and "need a model" in line


@pytest.mark.vcr(str(RECORDING))
def test_json_has_the_same_shape_as_a_model_result() -> None:
    model = runner.invoke(
        app, ["extract", str(ARTICLE), "--format", "json", "--base-url", "http://127.0.0.1:8799/v1"]
    )
    assert model.exit_code == 0, model.output
    offline = runner.invoke(app, ["extract", str(ARTICLE), "--format", "json"])
    assert offline.exit_code == 0, offline.output
    with_model, without = json.loads(model.stdout), json.loads(offline.stdout)
    assert without.keys() == with_model.keys()
    assert keys(without["quotes"]) == keys(with_model["quotes"])
    assert keys(without["source"]) == keys(with_model["source"])
    assert keys(without["usage"]) == keys(with_model["usage"])
    assert without["coverage"].keys() == with_model["coverage"].keys()
    ArticleExtraction.model_validate(without)


def test_jsonl_rows_and_offsets_index_the_file() -> None:
    result = runner.invoke(app, ["extract", str(ARTICLE), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    text = ARTICLE.read_text(encoding="utf-8")
    assert rows[0] == {"type": "source", "path": str(ARTICLE), "length": len(text)}
    assert rows[-1]["type"] == "usage" and rows[-1]["requests"] == 0
    quotes = [row for row in rows if row["type"] == "quote"]
    assert quotes and {row["type"] for row in rows} == {"source", "quote", "usage"}
    assert all(text[q["span"]["start"] : q["span"]["end"]] == q["text"] for q in quotes)
    assert len(result.stderr.splitlines()) == 1


def test_table_shows_rule_speakers_spans_and_coverage() -> None:
    result = runner.invoke(app, ["extract", str(ARTICLE), "--format", "json"])
    spans = [q["span"] for q in json.loads(result.stdout)["quotes"]]
    table = runner.invoke(app, ["extract", str(ARTICLE)])
    assert table.exit_code == 0, table.output
    assert "Dmitry Peskov" in table.stdout and "rules" in table.stdout
    assert all(f"{s['start']}-{s['end']}" in table.stdout for s in spans)
    assert "0 attributed by the model" in table.stdout
    assert len(table.stderr.splitlines()) == 1


def test_stdin_offsets_index_stdin_as_read(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", "-", "--format", "json"], input=STORY)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["source"] == {"path": "<stdin>", "length": len(STORY)}
    assert [q["speaker"]["name"] for q in data["quotes"]] == ["Ana Ruiz"] * 3
    assert all(STORY[s["start"] : s["end"]] == s["text"] for s in spans_of(data))


def test_file_with_bom_and_crlf_offsets_index_the_file(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_bytes(("\ufeff" + STORY.replace("\n", "\r\n")).encode())
    result = runner.invoke(app, ["extract", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    text = path.read_text(encoding="utf-8")
    assert data["published"] == "2024-03-05"
    assert all(text[s["start"] : s["end"]] == s["text"] for s in spans_of(data))


def test_article_without_quotes_is_an_empty_result_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("The council met on Tuesday and adjourned.\n", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["quotes"] == [] and data["coverage"]["found"] == 0


def test_bad_input_still_exits_2_without_a_model(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "missing.txt")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "no such file" in result.stderr


def test_extractor_without_a_key_still_raises_configuration_error() -> None:
    """The library never falls back on its own: `Extractor` with no model is an error to fix."""
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        Extractor().extract(STORY)


def test_table_tells_model_speakers_from_rule_speakers() -> None:
    def quote(text: str, confirmed: bool) -> Quote:
        span = Span(start=0, end=len(text), text=text)
        made = Quote(text=text, speaker=Actor(name="Bo"), kind="direct", span=span)
        return made.model_copy(update={"confirmed": confirmed})

    coverage = QuotationCoverage(
        found=2, attributed=1, unattributed=[Span(start=0, end=2, text="no")]
    )
    result = ArticleExtraction(quotes=[quote("yes", True), quote("no", False)], coverage=coverage)
    console = Console(record=True, width=200)
    render(result, OutputFormat.TABLE, console)
    printed = console.export_text(styles=False)
    rows = [line for line in printed.splitlines() if "Bo" in line]
    assert [("model" in row, "rules" in row) for row in rows] == [(True, False), (False, True)]
    assert "2 passage(s) found, 1 attributed by the model, 1 by the rules only" in printed
