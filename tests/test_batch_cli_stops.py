"""``extractor batch`` stopped part-way still reports what it did: the summary on stdout, then
one ``error:`` line (exit 3). The Batch API here is tests/batch_api_server.py, a scripted
stand-in whose replies are HAND-WRITTEN (see that file), not a model.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_openai_batch import inputs, invoke

from extractor.batch_inputs import BatchItem

from batch_api_server import BatchAPIServer
from conftest import FAKE_KEY

__all__ = ["inputs"]  # the fixture, imported


@pytest.fixture
def api() -> Iterator[BatchAPIServer]:
    with BatchAPIServer() as scripted:
        yield scripted


def test_an_expired_batch_prints_the_summary_then_one_error_line_and_exits_3(
    api: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    api.statuses = ["validating", "in_progress", "expired"]
    api.expire_after = 3  # two articles answered whole before the batch expired
    out = tmp_path / "odd\x1b[2Jname.jsonl"
    news = str(Path(inputs[0].source).parent)
    options = ["--out", str(out), "--base-url", api.base_url, "--max-tokens", "1024"]
    result = invoke(news, *options, "--via", "openai-batch", "--no-cache", OPENAI_API_KEY=FAKE_KEY)
    assert result.exit_code == 3, result.output
    assert "batch: 3 article(s); 2 extracted now" in result.stdout
    (line,) = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert line.startswith("error: batch batch-2 expired") and "the same command resumes" in line
    assert "\x1b" not in result.stdout + result.stderr  # the --out name escaped everywhere
