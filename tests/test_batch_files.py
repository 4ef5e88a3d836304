"""The batch's files: torn lines cut, lines split on \\n only, errors compacted, a full disk."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from extractor.batch_files import LineWriter, compact_errors, recover, recover_lines
from extractor.errors import InputError


def row(key: str, **extra: object) -> bytes:
    return json.dumps({"id": key, **extra}, ensure_ascii=False).encode() + b"\n"


def test_a_torn_last_line_is_cut_off_and_complete_lines_are_kept(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_bytes(row("a", text="x\u2028y\x85z") + row("b") + b'{"id": "c", "res')
    lines, torn = recover_lines(out)
    assert torn and len(lines) == 2  # U+2028 and NEL inside a line do not split it
    assert out.read_bytes() == row("a", text="x\u2028y\x85z") + row("b")
    assert recover_lines(out) == (lines, False)
    assert recover_lines(tmp_path / "missing.jsonl") == ([], False)


def test_recover_reads_done_and_failed_ids(tmp_path: Path) -> None:
    out, errors = tmp_path / "r.jsonl", tmp_path / "r.errors.jsonl"
    out.write_bytes(row("a") + row("b") + b"not json\n")
    errors.write_bytes(row("b") + row("c") + row("c") + b'{"id": "d"')
    state = recover(out, errors)
    assert set(state.done) == {"a", "b"}
    assert set(state.failed) == {"c"}  # b succeeded later; d was torn
    assert state.torn == 1


def test_compacting_keeps_the_last_failure_of_each_article_still_failing(tmp_path: Path) -> None:
    errors = tmp_path / "e.jsonl"
    errors.write_bytes(row("x", n=1) + row("y") + row("x", n=2))
    assert compact_errors(errors, done={"y"}) == {"x"}
    assert errors.read_bytes() == row("x", n=2)
    assert compact_errors(errors, done={"x"}) == set()
    assert not errors.exists()


def test_the_writer_appends_whole_lines(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    out.write_bytes(row("old"))
    writer = LineWriter(out)
    for i in range(100):
        writer.put(row(str(i)).decode())
    writer.close()
    assert writer.written == 100
    assert set(recover(out, tmp_path / "none").done) == {"old", *map(str, range(100))}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
def test_a_full_disk_stops_the_run_with_an_input_error() -> None:
    writer = LineWriter(Path("/dev/full"))
    writer.put(row("a").decode())
    for _ in range(500):  # the writer thread meets the full disk
        if writer.failure is not None:
            break
        time.sleep(0.01)
    with pytest.raises(InputError, match="cannot be written"):
        writer.put(row("b").decode())
    with pytest.raises(InputError, match="/dev/full: cannot be written"):
        writer.close()
