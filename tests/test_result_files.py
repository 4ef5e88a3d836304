"""One reader for result files (extractor.result_files): eval's predictions and view's results
read the same files the same way. Results here are HAND-BUILT (records standing in for an
extraction) or come from `extractor extract --offline`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractor.cli import app
from extractor.errors import InputError
from extractor.gold import read_predictions
from extractor.result_files import read_result_files
from extractor.view import load_articles

runner = CliRunner()
TEXT = 'date 2025-08-27\nAnn Lee said "we will go" today.\n'


@pytest.fixture()
def extracted(tmp_path: Path) -> str:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    out = runner.invoke(app, ["extract", str(tmp_path / "a.txt"), "--offline", "--format", "json"])
    assert out.exit_code == 0, out.output
    return str(out.stdout)


def batch_lines(result: str) -> str:
    """HAND-BUILT: a batch output line and an errors-file line, as `extractor batch` writes."""
    common = {"source": "a.txt", "usage": {}, "timing": {"started": "2026-11-29T00:00:00Z"}}
    ok = {"id": "a.txt", "result": json.loads(result), **common}
    failed = {"id": "b.txt", "error": "ExtractionError", "message": "no reply", **common}
    return json.dumps(ok) + "\n" + json.dumps(failed) + "\n"


@pytest.mark.parametrize("bom", [False, True], ids=["plain", "bom"])
def test_eval_and_view_read_the_same_result_files(
    tmp_path: Path, extracted: str, bom: bool
) -> None:
    prefix = "\ufeff" if bom else ""
    (tmp_path / "r.json").write_text(prefix + extracted, encoding="utf-8")
    (tmp_path / "lines.jsonl").write_text(prefix + batch_lines(extracted), encoding="utf-8")
    [single] = read_predictions(tmp_path / "r.json")
    assert single.result is not None and len(single.result.quotes) == 1
    ok, failed = read_predictions(tmp_path / "lines.jsonl")
    assert (ok.id, ok.error, failed.id, failed.error) == (
        "a.txt",
        None,
        "b.txt",
        "ExtractionError: no reply",
    )
    articles = load_articles([tmp_path / "r.json", tmp_path / "lines.jsonl"])
    assert [(a.name, a.failure) for a in articles] == [
        (str(tmp_path / "a.txt"), None),
        ("a.txt", None),
        ("b.txt", "ExtractionError: no reply"),
    ]
    items = read_result_files(tmp_path)  # a folder: its .json and .jsonl files, by name
    assert [i.where.rsplit("/", 1)[-1] for i in items] == [
        "lines.jsonl:1",
        "lines.jsonl:2",
        "r.json",
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty; expected"),
        ("{not json\n{\n", r"p\.json:1: not JSON"),
        ('{"type": "quote", "text": "x"}\n{"type": "usage"}\n', "use --format json"),
        ('{"name": "x"}', "no events, quotes or commitments"),
        ("[1]", r"p\.json\[0\]: a JSON int, not a result object"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_both_refuse_the_same_files_with_the_same_words(
    tmp_path: Path, content: str | bytes, message: str
) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(InputError, match=message) as from_eval:
        read_predictions(path)
    with pytest.raises(InputError, match=message) as from_view:
        load_articles([path])
    assert str(from_eval.value) == str(from_view.value)
