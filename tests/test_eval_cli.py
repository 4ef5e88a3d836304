"""`extractor eval`: tables, JSON, errors listed escaped, and one-line failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_brat import write_corpus
from typer.testing import CliRunner

from extractor.cli import app
from extractor.gold import GoldArticle, GoldQuote, GoldSpan, write_gold

from conftest import ARTICLE_PATH, ROOT

runner = CliRunner()
GOLD = ROOT / "gold" / "gold.jsonl"
ARTICLE = ARTICLE_PATH


pytestmark = pytest.mark.usefixtures("no_live_credentials")


def eval_json(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["eval", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def counts(data: dict[str, Any], name: str) -> tuple[int, int, int]:
    row = data["types"][name] if name != "overall" else data["overall"]
    return row["gold"], row["predicted"], row["matched"]


def test_offline_path_scored_against_the_shipped_gold() -> None:
    data = eval_json("--gold", str(GOLD), "--offline")
    assert data["articles"] == 5
    assert counts(data, "quotes") == (23, 13, 9)
    assert counts(data, "commitments") == (13, 0, 0) and counts(data, "events") == (18, 0, 0)
    assert data["grounding"]["exact_share"] == 1.0 and data["errors"] == []


def test_an_extract_json_file_pairs_with_its_gold_article(tmp_path: Path) -> None:
    extracted = runner.invoke(app, ["extract", str(ARTICLE), "--offline", "--format", "json"])
    assert extracted.exit_code == 0
    pred = tmp_path / "result.json"
    pred.write_text(extracted.stdout, encoding="utf-8")
    data = eval_json("--gold", str(GOLD), "--pred", str(pred), "--show-errors", "2")
    assert counts(data, "quotes") == (23, 7, 7)  # the 7 offline quotes of the example, right
    assert len(data["missing_predictions"]) == 4  # the other gold articles, all missed
    assert [e["error"] for e in data["errors"]] == ["miss", "miss"]  # no false hit
    alone = eval_json("--gold", str(GOLD), "--pred", str(pred), "--paired-only")
    assert alone["articles"] == 1 and alone["missing_predictions"] == []
    assert counts(alone, "quotes") == (13, 7, 7)


def test_batch_lines_pair_by_id_and_a_failed_line_is_named(tmp_path: Path) -> None:
    extracted = runner.invoke(app, ["extract", str(ARTICLE), "--offline", "--format", "json"])
    result = json.loads(extracted.stdout)
    lines = [
        {"id": "peacekeepers-2025-08-27.txt", "source": "x", "result": result},
        {"id": "hagel-afghanistan-2014-05-27.txt", "source": "y", "error": "ExtractionError",
         "message": "never grounded", "partial": None},
    ]  # fmt: skip
    pred = tmp_path / "results.jsonl"
    pred.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    data = eval_json("--gold", str(GOLD), "--pred", str(pred))
    assert counts(data, "quotes") == (23, 7, 7)
    assert data["failed_predictions"] == {
        "hagel-afghanistan-2014-05-27": "ExtractionError: never grounded"
    }
    assert len(data["missing_predictions"]) == 3


def test_the_table_lists_errors_with_control_characters_escaped(tmp_path: Path) -> None:
    text = 'Ann Lee said: "Stop \x1b[2J now." Bo Diaz said: "No."'
    start = text.index("Stop")
    passage = "Stop \x1b[2J now."
    article = GoldArticle(
        id="hostile",
        text=text,
        annotated=["quotes"],
        quotes=[
            GoldQuote(
                span=GoldSpan(start=start, end=start + len(passage), text=passage),
                speaker="Someone Else",
            )
        ],
    )
    write_gold([article], tmp_path / "gold.jsonl")
    result = runner.invoke(
        app, ["eval", "--gold", str(tmp_path / "gold.jsonl"), "--offline", "--show-errors", "5"]
    )
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout and "\\x1b[2J" in result.stdout
    assert "quotes" in result.stdout and "precision" in result.stdout
    assert "misses (1, showing 1):" in result.stdout
    assert "false hits (2, showing 2):" in result.stdout
    assert "gold 'Someone Else'" in result.stdout


def test_brat_gold_scores_the_offline_path(tmp_path: Path) -> None:
    write_corpus(tmp_path)
    data = eval_json("--gold", str(tmp_path), "--gold-format", "brat", "--offline")
    assert counts(data, "quotes") == (3, 3, 3)
    assert list(data["types"]) == ["quotes"]
    table = runner.invoke(
        app, ["eval", "--gold", str(tmp_path), "--gold-format", "brat", "--offline"]
    )
    assert "quote speakers checked on 2 of 3 gold quotes" in table.stdout
    assert "the other 1 match on span alone" in table.stdout
    all_kinds = eval_json(
        "--gold", str(tmp_path), "--gold-format", "brat", "--brat-quotes", "all", "--offline"
    )
    assert counts(all_kinds, "quotes") == (4, 3, 3)  # 'the harbour stays open' is reported


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gold", str(GOLD)], "give --pred PRED"),
        (["--gold", str(GOLD), "--offline", "--pred", str(GOLD)], "give --pred PRED"),
        (["--gold", str(ROOT / "gold"), "--offline"], "for brat standoff add --gold-format brat"),
        (["--gold", "missing.jsonl", "--offline"], "no such gold file"),
        (["--gold", str(GOLD), "--pred", "missing.json"], "missing.json: no such file"),
        (["--gold", str(GOLD), "--pred", str(GOLD)], "not an extraction result"),
    ],
)
def test_failures_are_one_error_line_with_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["eval", *args])
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_extractor_batch_output_scores_like_the_offline_path(tmp_path: Path, crlf: bool) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, crlf=crlf)
    out = tmp_path / "results.jsonl"
    batch = runner.invoke(app, ["batch", str(corpus / "text"), "--offline", "-o", str(out)])
    assert batch.exit_code == 0, batch.output
    gold = ["--gold", str(corpus), "--gold-format", "brat"]
    from_batch = eval_json(*gold, "--pred", str(out))
    direct = eval_json(*gold, "--offline")
    assert counts(from_batch, "quotes") == counts(direct, "quotes") == (3, 3, 3)
    # 'nearly done' has an unnamed source (Officials): its speaker is not checked
    assert direct["speaker_checked"] == {"gold": 2, "matched": 2, "recall": 1.0}
    assert from_batch["speakers"] == direct["speakers"]
    assert from_batch["grounding"]["misplaced"] == direct["grounding"]["misplaced"] == 0


def test_evaluate_files_scores_from_code_as_the_command_does(tmp_path: Path) -> None:
    from extractor.evaluation import evaluate_files

    extracted = runner.invoke(app, ["extract", str(ARTICLE), "--offline", "--format", "json"])
    pred = tmp_path / "result.json"
    pred.write_text(extracted.stdout, encoding="utf-8")
    report = evaluate_files(GOLD, pred, paired_only=True)
    command = eval_json("--gold", str(GOLD), "--pred", str(pred), "--paired-only")
    assert report.to_json_dict() | {"errors": []} == command
    assert evaluate_files(GOLD, offline=True).to_json_dict() | {"errors": []} == eval_json(
        "--gold", str(GOLD), "--offline"
    )
    corpus = tmp_path / "corpus"
    write_corpus(corpus)
    brat = evaluate_files(corpus, gold_format="brat", brat_quotes="all", offline=True)
    assert (brat.types["quotes"].gold, brat.types["quotes"].matched) == (4, 3)


def test_the_example_script_json_scores_against_the_shipped_gold(tmp_path: Path) -> None:
    """docs/eval.md's first steps: the example (replaying its recording, a reply written by
    hand) printed as JSON, then scored against its gold article alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "extract_article.py"), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "replaying the recorded exchange" in done.stderr  # the notice kept off stdout
    (tmp_path / "example.json").write_text(done.stdout, encoding="utf-8")
    data = eval_json("--gold", str(GOLD), "--pred", str(tmp_path / "example.json"), "--paired-only")
    assert data["articles"] == 1 and counts(data, "overall") == (27, 18, 18)
