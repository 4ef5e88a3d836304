"""Batch inputs (files, folders, JSONL dumps; stable ids, read lazily) and output lines."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.articles import Article
from extractor.batch_inputs import BatchItem, TextItem, as_readable, read_inputs
from extractor.batch_lines import (
    ArticleOutcome,
    Timing,
    dump_line,
    error_line,
    line_id,
    result_line,
)
from extractor.errors import ExtractionError, InputError
from extractor.models import ArticleExtraction, Usage
from extractor.offline import extract_offline
from extractor.redaction import remember


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_folder_is_searched_recursively_with_the_glob_and_ids_are_relative(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "news"
    write(folder / "b.txt", "Second.")
    write(folder / "2025" / "a.txt", "First.")
    write(folder / "notes.md", "Not an article.")
    items = read_inputs([folder])
    assert [i.id for i in items] == ["2025/a.txt", "b.txt"]
    assert items[0].source == str(folder / "2025" / "a.txt")
    assert [i.id for i in read_inputs([folder], glob="*.md")] == ["notes.md"]


def test_a_file_given_alone_is_its_own_path(tmp_path: Path) -> None:
    path = write(tmp_path / "one.txt", "date 2025-08-27\nSomething happened.")
    (item,) = read_inputs([path])
    assert item.id == str(path)
    article = item.read()
    assert article.published == dt.date(2025, 8, 27)
    assert path.read_text(encoding="utf-8")[article.offset :] == article.text


def test_jsonl_lines_are_articles_with_their_ids_and_a_bad_line_fails_alone(
    tmp_path: Path,
) -> None:
    rows = [
        json.dumps({"id": "a", "text": "First \u2028 text.", "url": "https://x/a", "title": "A"}),
        "{not json",
        json.dumps({"id": 7, "text": "Seventh.", "published": "2025-08-27"}),
        "",
        json.dumps({"text": "no id"}),
        json.dumps({"id": "b", "text": ""}),
        json.dumps({"id": "c", "text": "Bad date.", "published": "yesterday"}),
        json.dumps({"id": "d", "body": "no text"}),
    ]
    dump = write(tmp_path / "dump.jsonl", "\n".join(rows) + "\n")
    items = {i.id: i for i in read_inputs([dump])}
    assert list(items) == ["a", f"{dump}:2", "7", f"{dump}:5", "b", "c", "d"]
    first = items["a"].read()
    assert first.text == "First \u2028 text." and first.offset == 0
    assert (items["a"].url, items["a"].title) == ("https://x/a", "A")
    assert items["7"].read().published == dt.date(2025, 8, 27)
    assert items["7"].source == f"{dump}:3"
    for key, reason in [
        (f"{dump}:2", "not JSON"),
        (f"{dump}:5", "no 'id'"),
        ("b", "empty"),
        ("c", "not an ISO date"),
        ("d", "no 'text'"),
    ]:
        with pytest.raises(InputError, match=reason) as caught:
            items[key].read()
        assert items[key].source in str(caught.value)


def test_a_jsonl_file_with_a_byte_order_mark_and_crlf_lines_is_read(tmp_path: Path) -> None:
    rows = [json.dumps({"id": key, "text": f"Text {key}."}) for key in ("a", "b")]
    dump = write(tmp_path / "dump.jsonl", "\ufeff" + "\r\n".join(rows) + "\r\n")
    items = read_inputs([dump])
    assert [i.id for i in items] == ["a", "b"]
    assert [i.read().text for i in items] == ["Text a.", "Text b."]


def test_an_over_long_jsonl_line_fails_alone_and_is_never_held_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("extractor.batch_inputs.MAX_LINE_BYTES", 100)
    long = json.dumps({"id": "long", "text": "x" * 3_000_000})  # read on in 1 MiB pieces
    dump = write(tmp_path / "dump.jsonl", long + "\n" + json.dumps({"id": "ok", "text": "Ok."}))
    first, second = read_inputs([dump])
    with pytest.raises(InputError, match="line longer than 100 bytes"):
        first.read()
    assert second.id == "ok" and second.read().text == "Ok."  # its place in the file is right


def test_duplicate_ids_are_an_input_error_naming_them(tmp_path: Path) -> None:
    dump = write(
        tmp_path / "dump.jsonl",
        "\n".join(json.dumps({"id": "x", "text": f"Text {i}."}) for i in range(2)),
    )
    with pytest.raises(InputError, match=r"1 duplicate article id\(s\): 'x' .*dump.jsonl:1"):
        read_inputs([dump])
    write(tmp_path / "one" / "a.txt", "One.")
    write(tmp_path / "two" / "a.txt", "Two.")
    with pytest.raises(InputError, match=r"'a\.txt'"):
        read_inputs([tmp_path / "one", tmp_path / "two"])


def test_missing_paths_and_empty_inputs_are_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        read_inputs([tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"no articles found .*'\*\.txt'"):
        read_inputs([tmp_path / "empty"])


def test_a_binary_file_fails_when_read_not_when_listed(tmp_path: Path) -> None:
    write(tmp_path / "f" / "good.txt", "Fine.")
    write(tmp_path / "f" / "bad.txt", b"\x00\x01\x02binary")
    items = read_inputs([tmp_path / "f"])
    assert [i.id for i in items] == ["bad.txt", "good.txt"]
    with pytest.raises(InputError, match="binary"):
        items[0].read()


def test_strings_and_pairs_become_readable_items() -> None:
    assert as_readable("Text.", 3) == TextItem(id="3", text="Text.")
    assert as_readable(("k", "Text."), 0) == TextItem(id="k", text="Text.")
    item = BatchItem(id="x", source="x", path=Path("x"))
    assert as_readable(item, 0) is item
    with pytest.raises(InputError, match="not int"):
        as_readable(5, 0)


def timing() -> Timing:
    return Timing(started=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), seconds=0.5)


def test_a_result_line_indexes_the_file_and_is_one_line(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", 'date 2025-08-27\nPeskov said "it is over\u0085 now" today.\n')
    article = BatchItem(id="a.txt", source=str(path), path=path).read()
    result = extract_offline(article.text, published=article.published)
    outcome = ArticleOutcome("a.txt", result, None, Usage(), timing(), article)
    line = dump_line(result_line(outcome, source=str(path)))
    assert line.endswith("\n") and line.count("\n") == 1 and "\x85" not in line
    row = json.loads(line)
    span = row["result"]["quotes"][0]["span"]
    assert path.read_text(encoding="utf-8")[span["start"] : span["end"]] == span["text"]
    assert row["result"]["source"] == {"path": str(path), "length": len(path.read_text())}
    assert row["timing"]["seconds"] == 0.5
    assert line_id(line.encode()) == "a.txt"
    assert line_id(line.encode()[:-10]) is None


def test_an_error_line_keeps_the_partial_and_one_redacted_line() -> None:
    remember(["sk-batch-secret-0123456789"])
    error = ExtractionError(
        "never grounded\n\x1b[2J sk-batch-secret-0123456789", attempts=[], usage=Usage()
    )
    error.partial = ArticleExtraction()
    article = Article(text="Text.", published=None, source="x", source_length=5)
    outcome = ArticleOutcome("\ud800x", None, error, Usage(requests=3), timing(), article)
    line = dump_line(error_line(outcome, source="dump.jsonl:1"))
    assert line.count("\n") == 1
    row = json.loads(line)
    assert row["error"] == "ExtractionError"
    assert "\n" not in row["message"] and "\x1b" not in row["message"]
    assert "sk-batch-secret" not in line and "[redacted]" in row["message"]
    assert row["partial"]["source"] == {"path": "x", "length": 5}
    assert row["usage"]["requests"] == 3
    line.encode("utf-8")  # a lone surrogate in an id is escaped, not unwritable


def test_inputs_and_lines_load_without_openai() -> None:
    code = (
        "import sys, extractor.batch_inputs, extractor.batch_lines; "
        "assert 'openai' not in sys.modules and 'instructor' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_jsonl_file_found_in_a_folder_is_read_line_by_line(tmp_path: Path) -> None:
    folder = tmp_path / "dumps"
    rows = [{"id": "x1", "text": "One."}, {"id": "x2", "text": "Two."}]
    write(folder / "2025" / "dump.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    write(folder / "more.NDJSON", json.dumps({"id": "x3", "text": "Three."}) + "\n")
    items = read_inputs([folder], glob="*")
    assert [i.id for i in items] == ["x1", "x2", "x3"]
    assert [i.read().text for i in items] == ["One.", "Two.", "Three."]


def test_an_id_does_not_depend_on_how_the_path_was_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "a.txt", "Something happened.")
    (tmp_path / "sub").mkdir()
    ids = {read_inputs([typed])[0].id for typed in ("a.txt", "./a.txt", "sub/../a.txt")}
    assert ids == {"a.txt"}
