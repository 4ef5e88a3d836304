"""Resuming a batch: fingerprints (changed text or settings are redone), a large output read a
line at a time, and the summary counting only the articles of the current inputs.

Model replies are HAND-WRITTEN by `EventResponder` (tests/test_batch_many.py) through
tests/scripted_server.py; no model is involved.
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

from test_batch_cli import batch, folder, lines

from extractor.batch_files import recover

from scripted_server import ScriptedServer
from test_batch_many import EventResponder, article


def test_an_article_whose_text_changed_is_redone_and_its_old_line_dropped(
    server: ScriptedServer, tmp_path: Path
) -> None:
    responder = server.responder = EventResponder()
    news = folder(tmp_path / "news", 3)
    out = tmp_path / "r.jsonl"
    assert batch(tmp_path, server, str(news), "--out", str(out)).exit_code == 0
    assert all(len(row["fingerprint"]) == 16 for row in lines(out))
    (news / "a001.txt").write_text(f"date 2025-08-27\n{article('new')}", "utf-8")
    responder.seen.clear()
    done = batch(tmp_path, server, str(news), "--out", str(out))
    assert done.exit_code == 0, done.output
    assert responder.seen == ["new"]  # only the changed article was asked again
    rows = {row["id"]: row for row in lines(out)}
    assert len(lines(out)) == 3 and sorted(rows) == ["a000.txt", "a001.txt", "a002.txt"]
    assert "new" in rows["a001.txt"]["result"]["events"][0]["span"]["text"]
    assert "2 already in" in done.stdout and "redid 1 article(s) whose text" in done.stdout
    responder.seen.clear()
    again = batch(tmp_path, server, str(news), "--out", str(out))
    assert again.exit_code == 0 and responder.seen == []  # now it is done


def test_another_model_or_max_tokens_redoes_every_article(
    server: ScriptedServer, tmp_path: Path
) -> None:
    responder = server.responder = EventResponder()
    news = str(folder(tmp_path / "news", 2))
    out = tmp_path / "r.jsonl"
    assert batch(tmp_path, server, news, "--out", str(out)).exit_code == 0
    for options in (["--model", "gpt-4.1-mini"], ["--model", "gpt-4.1-mini", "--max-tokens", "99"]):
        responder.seen.clear()
        done = batch(tmp_path, server, news, "--out", str(out), *options)
        assert done.exit_code == 0, done.output
        assert sorted(responder.seen) == ["a000", "a001"]
        assert "redid 2 article(s)" in done.stdout
        assert sorted(row["id"] for row in lines(out)) == ["a000.txt", "a001.txt"]


def test_a_line_without_a_fingerprint_from_an_older_run_counts_as_done(
    server: ScriptedServer, tmp_path: Path
) -> None:
    responder = server.responder = EventResponder()
    news = str(folder(tmp_path / "news", 2))
    out = tmp_path / "r.jsonl"
    assert batch(tmp_path, server, news, "--out", str(out)).exit_code == 0
    old = [{k: v for k, v in row.items() if k != "fingerprint"} for row in lines(out)]
    out.write_text("".join(json.dumps(row) + "\n" for row in old), encoding="utf-8")
    responder.seen.clear()
    assert batch(tmp_path, server, news, "--out", str(out)).exit_code == 0
    assert responder.seen == []


def test_recover_streams_a_large_output_without_holding_it(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    filler = "x" * 20_000
    with out.open("w", encoding="utf-8") as stream:
        for i in range(1_000):  # 20 MB of lines
            row = {"id": f"a{i}", "fingerprint": f"{i:016x}", "result": {"text": filler}}
            stream.write(json.dumps(row) + "\n")
        stream.write('{"id": "torn", "result": {"te')
    tracemalloc.start()
    try:
        state = recover(out, tmp_path / "none.jsonl")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(state.done) == 1_000 and state.done["a7"] == f"{7:016x}" and state.torn == 1
    assert peak < 2_000_000  # never the whole 20 MB file (a line is 20 kB)
    assert out.read_bytes().endswith(b"}\n")


def test_the_summary_counts_failures_of_the_current_inputs_only(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = EventResponder()
    other = tmp_path / "other"
    other.mkdir()
    (other / "bad.txt").write_text(article("bad", "GARBAGE. "), encoding="utf-8")
    out = tmp_path / "r.jsonl"
    assert batch(tmp_path, server, str(other), "--out", str(out)).exit_code == 1
    news = str(folder(tmp_path / "news", 2))
    done = batch(tmp_path, server, news, "--out", str(out))  # bad.txt is not an input now
    assert done.exit_code == 0, done.output
    assert "errors:" not in done.stdout
    assert [row["id"] for row in lines(tmp_path / "r.errors.jsonl")] == ["bad.txt"]  # kept
