"""extractor batch --via openai-batch: OpenAI's Batch API, against a HAND-WRITTEN stand-in for it.

The Batch API server (tests/batch_api_server.py) is a scripted stand-in for OpenAI, not OpenAI,
and its "model" is the scripted perfect model of benchmarks/perfect_model_server.py (replies built
from each request, no model called), except where a test writes a reply by hand (labelled).
Most tests run against it live, in-process on 127.0.0.1: a batch's life (upload, statuses,
crashes between steps, expiry) is driven step by step, which a fixed recording could not do.
`test_recorded_exchange_replays` replays one whole run from a vcrpy cassette of that server's
HTTP exchanges (tests/cassettes/test_openai_batch/), so the client's exact requests are pinned.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import typer
from openai.types import Batch
from rich.console import Console
from typer.testing import CliRunner

from extractor import Extractor, openai_batch, pipeline
from extractor.batch import run_batch
from extractor.batch_inputs import BatchItem, read_inputs
from extractor.chunking import Chunk
from extractor.cli import _PlainUsage
from extractor.cli_batch import batch
from extractor.errors import AuthenticationError, BadResponseError, ConfigurationError
from extractor.models import Usage
from extractor.openai_batch import BatchJobError, run_openai_batch, state_path
from extractor.openai_batch_api import progress_display
from extractor.settings import Mode, Settings, load_settings

from batch_api_server import BatchAPIServer, Failure, perfect_reply
from conftest import ARTICLE_PATH, FAKE_KEY, SCRIPTED_BASE_URL

# Written for these tests (not from any corpus): a short article with one quotation.
SHORT = (
    "date 2025-09-02\n"
    "The city council of Lindenfeld voted on Tuesday to close the old harbour bridge for repairs. "
    '"We cannot wait for it to fall," said Mayor Ana Ortiz, who promised to reopen it by spring.\n'
)


class Crash(Exception):
    """Stands in for a run killed between two steps."""


@pytest.fixture
def server() -> Iterator[BatchAPIServer]:
    with BatchAPIServer() as scripted:
        yield scripted


@pytest.fixture
def inputs(tmp_path: Path) -> list[BatchItem]:
    """Three articles: the shared one, a short one, and the shared one x3 (three chunks at
    max_tokens 1024)."""
    folder = tmp_path / "news"
    folder.mkdir()
    shared = ARTICLE_PATH.read_text(encoding="utf-8")
    (folder / "a-shared.txt").write_text(shared, encoding="utf-8")
    (folder / "b-short.txt").write_text(SHORT, encoding="utf-8")
    body = shared.split("\n", 1)[1]
    (folder / "c-long.txt").write_text(shared + ("\n" + body) * 2, encoding="utf-8")
    return read_inputs([folder])


def settings_for(server: BatchAPIServer, **more: Any) -> Settings:
    options: dict[str, Any] = {
        "base_url": server.base_url,
        "api_key": FAKE_KEY,
        "max_tokens": 1024,
        "batch_poll_interval": 5,
        "cache": False,
        **more,
    }
    return load_settings(**options)


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def by_id(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["id"]: row for row in rows}


def uploaded_ids(server: BatchAPIServer, index: int = 0) -> list[str]:
    """The custom_ids of the `index`-th request file uploaded."""
    uploads = [f for f in server.files.values() if b'"custom_id"' in f and b'"method"' in f]
    return [json.loads(line)["custom_id"] for line in uploads[index].decode().splitlines()]


def test_same_lines_as_the_normal_batch(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    settings = settings_for(server)
    out = tmp_path / "results.jsonl"
    summary = run_openai_batch(inputs, out=out, settings=settings)

    # One request per chunk: the long article is three, named "<id>#<chunk>".
    assert uploaded_ids(server) == [
        "a-shared.txt#0",
        "b-short.txt#0",
        "c-long.txt#0",
        "c-long.txt#1",
        "c-long.txt#2",
    ]
    assert server.count("POST", "/files") == 1 and server.count("POST", "/batches") == 1
    assert server.count("POST", "/chat/completions") == 0  # every reply accepted as it came
    assert summary.report.accepted == 5 and summary.report.reasked == 0
    assert summary.done == 3 and summary.failed == 0
    assert not state_path(out).exists()  # the batch is read: its state and files are gone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news", "results.jsonl"]

    # The normal batch over the same articles, the same (scripted) model answering. (Its
    # aextract plans long articles in more chunks than extract when they exceed 5,000 characters
    # a chunk; at max_tokens 1024 the budget is below that, so both plan the same chunks.)
    normal_out = tmp_path / "normal.jsonl"
    run_batch(inputs, out=normal_out, settings=settings)
    assert server.count("POST", "/chat/completions") == 5
    # The normal path sent exactly the bodies the batch's request lines carry.
    request_file = next(iter(server.files.values()))
    bodies = [json.loads(line)["body"] for line in request_file.decode().splitlines()]
    assert sorted(json.dumps(b, sort_keys=True) for b in bodies) == sorted(
        json.dumps(b, sort_keys=True) for b in server.chat_bodies
    )

    batch_rows, normal_rows = by_id(lines(out)), by_id(lines(normal_out))
    assert batch_rows.keys() == normal_rows.keys() == {"a-shared.txt", "b-short.txt", "c-long.txt"}
    for key, row in batch_rows.items():
        assert {k: v for k, v in row.items() if k != "timing"} == {
            k: v for k, v in normal_rows[key].items() if k != "timing"
        }
    long = batch_rows["c-long.txt"]["result"]
    assert long["usage"]["requests"] == 3 and long["quotes"]
    text = Path(inputs[2].source).read_text(encoding="utf-8")
    assert all(
        text[q["span"]["start"] : q["span"]["end"]] == q["span"]["text"] for q in long["quotes"]
    )


@pytest.mark.parametrize("mode", [Mode.TOOLS, Mode.JSON, Mode.JSON_SCHEMA, Mode.MD_JSON])
def test_request_line_body_is_what_the_normal_path_sends(
    server: BatchAPIServer, inputs: list[BatchItem], mode: Mode
) -> None:
    settings = settings_for(server, mode=mode)
    planned = openai_batch.plan_article(inputs[1], settings)
    line = json.loads(openai_batch.request_line(planned, 0, settings))
    assert line["custom_id"] == "b-short.txt#0"
    assert (line["method"], line["url"]) == ("POST", "/v1/chat/completions")
    article = inputs[1].read()
    with Extractor(settings=settings) as extractor:
        result = extractor.extract(article.text, published=article.published)
    assert server.chat_bodies == [line["body"]]
    # ... and the batch path reads the same reply into the same records.
    reply = perfect_reply(line["custom_id"], line["body"])
    part, usage = openai_batch.accept(planned, 0, reply, settings)
    assert usage.requests == 1
    assert len(part.data.quotes) == len(result.quotes) == 1  # type: ignore[attr-defined]


def ungrounded(custom_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """HAND-ALTERED reply: the perfect model's, with its first event naming sentence 9999 (the
    article has no such sentence: grounding rejects it). Only for request b-short.txt#0 of the
    batch; the normal API (custom_id None) gets the perfect reply."""
    reply = perfect_reply(custom_id, body)
    if custom_id == "b-short.txt#0":
        call = reply["choices"][0]["message"]["tool_calls"][0]["function"]
        arguments = json.loads(call["arguments"])
        arguments["events"][0]["s"] = 9999
        call["arguments"] = json.dumps(arguments)
    return reply


def test_a_reply_that_fails_grounding_is_asked_again_through_the_api(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    server.answer = ungrounded
    settings = settings_for(server)
    out = tmp_path / "results.jsonl"
    summary = run_openai_batch(inputs, out=out, settings=settings)
    assert summary.report.reasked == 1 and summary.report.accepted == 4
    assert server.count("POST", "/chat/completions") == 1  # that chunk only, once
    assert summary.report.api_usage.requests == 1
    assert summary.report.batch_usage.requests == 5  # the rejected reply was paid for too
    assert "re-asked via the API: 1" in "\n".join(summary.lines(out, tmp_path / "e.jsonl"))

    rows = by_id(lines(out))
    assert len(rows) == 3
    short = rows["b-short.txt"]
    assert short["result"]["usage"]["requests"] == 2  # the batch reply, then the API's
    # The records are the normal path's (the API's reply was the perfect one).
    normal = tmp_path / "normal.jsonl"
    run_batch(inputs[1:2], out=normal, settings=settings)
    expected = lines(normal)[0]["result"]
    assert {k: v for k, v in short["result"].items() if k != "usage"} == {
        k: v for k, v in expected.items() if k != "usage"
    }


def test_batch_and_extractor_plan_through_one_public_function(
    server: BatchAPIServer,
    inputs: list[BatchItem],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Planning is pipeline.plan_article for both paths, and a re-ask goes through the public
    # Extractor.extract_chunk (no private step of Extractor called from another module).
    settings = settings_for(server)
    planned = openai_batch.plan_article(inputs[2], settings)
    chunks = pipeline.plan_article(planned.input, planned.quotations, settings)
    assert [p.chunk for p in planned.prompts] == chunks and len(chunks) == 3
    with Extractor(settings=settings) as extractor:
        assert extractor._plan(planned.input, planned.quotations) == chunks
    asked: list[Chunk] = []
    public = Extractor.extract_chunk

    def counted(self: Extractor, article: Any, chunk: Chunk, *rest: Any) -> None:
        asked.append(chunk)
        public(self, article, chunk, *rest)

    monkeypatch.setattr(Extractor, "extract_chunk", counted)
    server.answer = ungrounded
    summary = run_openai_batch(inputs, out=tmp_path / "out.jsonl", settings=settings)
    assert summary.report.reasked == 1 and len(asked) == 1


def test_the_instructor_internals_used_are_still_there() -> None:
    # instructor does not export these two publicly (see openai_batch_instructor's docstring):
    # if a release moves them or drops a parameter used, this says which, plainly.
    import inspect

    import instructor.processing

    from extractor import openai_batch_instructor

    for name, used in openai_batch_instructor.REQUIRED.items():
        function = getattr(instructor.processing, name, None)
        assert function is not None, (
            f"instructor {instructor.__version__} has no instructor.processing.{name}: the "
            "Batch API path (extractor.openai_batch_instructor) must be adapted"
        )
        taken = inspect.signature(function).parameters
        missing = [p for p in used if p not in taken]
        assert not missing, (
            f"instructor {instructor.__version__}: instructor.processing.{name} no longer takes "
            f"{missing}: the Batch API path (extractor.openai_batch_instructor) must be adapted"
        )


def test_an_error_line_is_asked_again_through_the_api(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    def answer(custom_id: str | None, body: dict[str, Any]) -> dict[str, Any] | Failure:
        if custom_id == "c-long.txt#1":  # HAND-WRITTEN failure of one request
            return Failure(500, "server_error", "The server had an error")
        return perfect_reply(custom_id, body)

    server.answer = answer
    out = tmp_path / "results.jsonl"
    summary = run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert summary.report.reasked == 1 and summary.done == 3
    assert server.count("POST", "/chat/completions") == 1
    assert lines(out)[2]["result"]["usage"]["requests"] == 3  # two batch replies, one API


def test_a_crash_mid_poll_reattaches_to_the_same_batch(
    server: BatchAPIServer,
    inputs: list[BatchItem],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_sleep: list[float],
) -> None:
    settings = settings_for(server, batch_poll_interval=30)
    out = tmp_path / "results.jsonl"

    def killed(seconds: float) -> None:
        raise Crash

    monkeypatch.setattr("extractor.retry.sleep", killed)
    with pytest.raises(Crash):
        run_openai_batch(inputs, out=out, settings=settings)
    state = json.loads(state_path(out).read_text())
    assert state["batch_id"] == "batch-2" and state["input_file_id"] == "file-1"
    assert lines(out) == []

    monkeypatch.setattr("extractor.retry.sleep", no_sleep.append)
    summary = run_openai_batch(inputs, out=out, settings=settings)
    assert summary.report.batches == ["batch-2"]
    assert server.count("POST", "/files") == 1  # not uploaded again
    assert server.count("POST", "/batches") == 1  # not submitted again
    assert no_sleep == [30]  # polled again after batch_poll_interval, then it had completed
    assert [row["id"] for row in lines(out)] == ["a-shared.txt", "b-short.txt", "c-long.txt"]
    assert not state_path(out).exists()

    again = run_openai_batch(inputs, out=out, settings=settings)  # all done: nothing to send
    assert again.skipped == 3 and again.report.batches == []
    assert server.count("POST", "/files") == 1 and len(lines(out)) == 3


def test_a_crash_after_create_finds_the_batch_by_its_file(
    server: BatchAPIServer,
    inputs: list[BatchItem],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = settings_for(server)
    out = tmp_path / "results.jsonl"
    create = openai_batch.BatchService.create

    def created_then_killed(self: Any, *args: Any) -> Any:
        create(self, *args)
        raise Crash  # killed before the batch id was saved

    monkeypatch.setattr(openai_batch.BatchService, "create", created_then_killed)
    with pytest.raises(Crash):
        run_openai_batch(inputs, out=out, settings=settings)
    state = json.loads(state_path(out).read_text())
    assert state["input_file_id"] == "file-1" and state["batch_id"] is None

    monkeypatch.setattr(openai_batch.BatchService, "create", create)
    summary = run_openai_batch(inputs, out=out, settings=settings)
    assert summary.report.batches == ["batch-2"]
    assert server.count("POST", "/files") == 1 and server.count("POST", "/batches") == 1
    assert len(lines(out)) == 3


def test_changed_settings_do_not_attach_to_a_batch_made_for_others(
    server: BatchAPIServer,
    inputs: list[BatchItem],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "results.jsonl"

    def killed(seconds: float) -> None:
        raise Crash

    monkeypatch.setattr("extractor.retry.sleep", killed)
    with pytest.raises(Crash):
        run_openai_batch(inputs, out=out, settings=settings_for(server))
    with pytest.raises(ConfigurationError, match="changed since batch batch-2"):
        run_openai_batch(inputs, out=out, settings=settings_for(server, max_tokens=2048))
    assert state_path(out).exists() and server.count("POST", "/batches") == 1


def test_a_failed_batch_is_a_clear_error_and_loses_nothing(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    server.statuses = ["validating", "failed"]
    server.batch_errors = [  # HAND-WRITTEN, in OpenAI's shape
        {"code": "model_not_found", "message": "The model 'gpt-x' does not exist.", "line": 1}
    ]
    out = tmp_path / "results.jsonl"
    with pytest.raises(BatchJobError) as caught:
        run_openai_batch(inputs, out=out, settings=settings_for(server))
    error = caught.value
    assert error.batch_id == "batch-2" and error.batch_status == "failed"
    assert "batch batch-2 failed: model_not_found: The model 'gpt-x' does not exist. (line 1)" in (
        str(error)
    )
    assert lines(out) == [] and not state_path(out).exists()

    server.statuses = ["validating", "completed"]  # the cause fixed: run again, submitted anew
    summary = run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert summary.report.batches == ["batch-4"] and len(lines(out)) == 3


def test_an_expired_batch_writes_what_was_done_and_leaves_the_rest(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    server.statuses = ["validating", "in_progress", "expired"]
    server.expire_after = 3  # a-shared#0, b-short#0, c-long#0 answered; c-long#1, #2 expired
    out = tmp_path / "results.jsonl"
    with pytest.raises(BatchJobError, match=r"batch batch-2 expired with 3 of 5 requests done"):
        run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert [row["id"] for row in lines(out)] == ["a-shared.txt", "b-short.txt"]
    assert not state_path(out).exists()
    assert server.count("POST", "/chat/completions") == 0  # nothing asked at full price

    server.statuses = ["validating", "completed"]
    summary = run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert uploaded_ids(server, 1) == ["c-long.txt#0", "c-long.txt#1", "c-long.txt#2"]
    assert summary.skipped == 2 and summary.done == 1
    assert [row["id"] for row in lines(out)] == ["a-shared.txt", "b-short.txt", "c-long.txt"]


def test_an_output_file_that_is_not_json_lines_stops_before_any_spending(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    server.garbage_output = True  # HAND-WRITTEN: an HTML line before the replies
    out = tmp_path / "results.jsonl"
    with pytest.raises(BadResponseError, match=r"line 1 of the batch's file file-3 is not a JSON"):
        run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert lines(out) == [] and state_path(out).exists()  # kept: the next run downloads again
    assert server.count("POST", "/chat/completions") == 0

    server.garbage_output = False
    server.files["file-3"] = server.files["file-3"].split(b"\n", 1)[1]  # mended at the source
    summary = run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert summary.report.batches == ["batch-2"] and len(lines(out)) == 3
    assert server.count("POST", "/batches") == 1


def test_still_running_after_the_wait_stops_and_resumes(
    server: BatchAPIServer,
    inputs: list[BatchItem],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.statuses = ["validating", "in_progress", "in_progress", "completed"]
    clock = iter(range(0, 10_000, 60))  # each poll takes the interval
    monkeypatch.setattr("extractor.openai_batch_api.monotonic", lambda: next(clock))
    out = tmp_path / "results.jsonl"
    settings = settings_for(server, batch_poll_interval=60, batch_max_wait=150)
    with pytest.raises(
        BatchJobError, match="batch batch-2 is still in_progress after waiting 120 s"
    ):
        run_openai_batch(inputs, out=out, settings=settings)
    assert state_path(out).exists() and lines(out) == []
    summary = run_openai_batch(inputs, out=out, settings=settings)
    assert summary.report.batches == ["batch-2"] and len(lines(out)) == 3


def test_summary_prices_batch_tokens_at_half(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    server.answer = ungrounded
    settings = settings_for(server, prices={"gpt-4o-mini": (1.0, 2.0)})
    out = tmp_path / "results.jsonl"
    summary = run_openai_batch(inputs, out=out, settings=settings)
    batch, api = summary.report.batch_usage, summary.report.api_usage
    full = (batch.prompt_tokens + 2 * batch.completion_tokens) / 1e6
    assert summary.cost == pytest.approx(
        full / 2 + (api.prompt_tokens + 2 * api.completion_tokens) / 1e6
    )
    text = "\n".join(summary.lines(out, tmp_path / "e.jsonl"))
    assert f"${full / 2:,.4f} for {batch.total_tokens:,} tokens at half price" in text
    assert f"cost: ${summary.cost:,.4f} (Batch API: half of gpt-4o-mini at $1 in / $2 out" in text


# --- the command ---------------------------------------------------------------------------------

command = typer.Typer()
command.command(cls=_PlainUsage)(batch)
runner = CliRunner()


def invoke(*args: str, **variables: str) -> Any:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    return runner.invoke(command, list(args), env={**clean, **variables})


def test_command_via_openai_batch(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    out = tmp_path / "results.jsonl"
    news = str(Path(inputs[0].source).parent)
    options = ["--out", str(out), "--base-url", server.base_url, "--max-tokens", "1024"]
    result = invoke(news, *options, "--via", "openai-batch", "--no-cache", OPENAI_API_KEY=FAKE_KEY)
    assert result.exit_code == 0, result.output
    assert [row["id"] for row in lines(out)] == ["a-shared.txt", "b-short.txt", "c-long.txt"]
    assert "batch: 3 article(s); 3 extracted now" in result.stdout
    assert (
        "Batch API: batch batch-2; 5 request(s) read, 5 accepted as they came; "
        "re-asked via the API: 0" in result.stdout
    )
    assert "tokens at half price" in result.stdout  # gpt-4o-mini has a price

    again = invoke(news, *options, "--via", "openai-batch", "--no-cache", OPENAI_API_KEY=FAKE_KEY)
    assert again.exit_code == 0 and "3 already in" in again.stdout
    assert server.count("POST", "/files") == 1


def test_command_via_openai_batch_needs_a_model(inputs: list[BatchItem], tmp_path: Path) -> None:
    news = str(Path(inputs[0].source).parent)
    result = invoke(news, "--out", str(tmp_path / "r.jsonl"), "--via", "openai-batch")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --via openai-batch needs a model")
    assert len(result.stderr.splitlines()) == 1


def test_command_a_failed_batch_is_one_error_line(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    server.statuses = ["validating", "failed"]
    server.batch_errors = [{"code": "invalid_request", "message": "\x1b[2Jbad\nline", "line": 2}]
    news = str(Path(inputs[0].source).parent)
    out = tmp_path / "r.jsonl"
    result = invoke(
        news,
        "--out",
        str(out),
        "--base-url",
        server.base_url,
        "--via",
        "openai-batch",
        OPENAI_API_KEY=FAKE_KEY,
    )
    assert result.exit_code == 3
    assert result.stderr.startswith("error: batch batch-2 failed: invalid_request: \\x1b[2Jbad")
    assert len(result.stderr.splitlines()) == 1


# --- a recorded exchange --------------------------------------------------------------------------


@pytest.mark.vcr
@pytest.mark.scripted
def test_recorded_exchange_replays(
    record_mode: str, vcr: Any, inputs: list[BatchItem], tmp_path: Path
) -> None:
    """Replays tests/cassettes/test_openai_batch/test_recorded_exchange_replays.yaml: the
    client's HTTP exchange with the hand-written Batch API stand-in (perfect-model replies), made
    with ``pytest tests/test_openai_batch.py::test_recorded_exchange_replays
    --record-mode=rewrite``. Replay needs no server: nothing listens at SCRIPTED_BASE_URL."""
    with contextlib.ExitStack() as stack:
        if record_mode == "none":
            base_url = SCRIPTED_BASE_URL
        else:
            base_url = stack.enter_context(BatchAPIServer()).base_url
        settings = load_settings(
            base_url=base_url, api_key=FAKE_KEY, batch_poll_interval=60, cache=False
        )
        out = tmp_path / "results.jsonl"
        summary = run_openai_batch(inputs[:2], out=out, settings=settings)
    assert [(r.method, urlsplit(r.uri).path) for r in vcr.requests] == [
        ("POST", "/v1/files"),
        ("POST", "/v1/batches"),
        ("GET", "/v1/batches/batch-2"),
        ("GET", "/v1/batches/batch-2"),
        ("GET", "/v1/batches/batch-2"),
        ("GET", "/v1/files/file-3/content"),
    ]
    assert vcr.all_played or record_mode != "none"
    upload = vcr.requests[0].body.replace(b"\r\n", b"\n").split(b"\n")
    sent = [json.loads(line) for line in upload if line.startswith(b'{"custom_id"')]
    assert [line["custom_id"] for line in sent] == ["a-shared.txt#0", "b-short.txt#0"]
    assert summary.report.batches == ["batch-2"] and summary.report.accepted == 2
    rows = lines(out)
    assert [row["id"] for row in rows] == ["a-shared.txt", "b-short.txt"]
    for row, item in zip(rows, inputs, strict=False):
        text = Path(item.source).read_text(encoding="utf-8")
        for quote in row["result"]["quotes"]:
            assert text[quote["span"]["start"] : quote["span"]["end"]] == quote["span"]["text"]
    assert rows[1]["result"]["quotes"][0]["speaker"]["name"] == "Mayor Ana Ortiz"


def test_progress_on_a_terminal_shows_the_servers_words_escaped() -> None:
    console = Console(file=io.StringIO(), force_terminal=True, width=200)
    hostile = Batch.model_construct(
        id="batch-[bold]x\x1b[2J", status="in_progress", request_counts=None
    )
    with progress_display(console) as show:
        show(hostile)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "batch-[bold]x\\x1b[2J: in_progress, 0/0 requests" in shown
    assert "\x1b[2J" not in shown

    quiet = Console(file=io.StringIO(), force_terminal=False)
    with progress_display(quiet) as show:
        show(hostile)
    assert quiet.file.getvalue() == ""  # type: ignore[attr-defined]


def test_a_run_killed_with_sigkill_while_polling_reattaches(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    """A real kill -9 of ``extractor batch --via openai-batch`` while it waits for the batch."""
    server.statuses = ["validating", *["in_progress"] * 10_000]
    out = tmp_path / "results.jsonl"
    news = str(Path(inputs[0].source).parent)
    args = ["batch", news, "--out", str(out), "--base-url", server.base_url, "--no-cache"]
    args += ["--via", "openai-batch", "--max-tokens", "1024"]
    command = [sys.executable, "-c", "from extractor.cli import main; main()", *args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    variables = {**clean, "OPENAI_API_KEY": FAKE_KEY, "EXTRACTOR_BATCH_POLL_INTERVAL": "0.05"}
    process = subprocess.Popen(
        command, env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.count("GET", "/batches/batch-2") < 3:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    assert json.loads(state_path(out).read_text())["batch_id"] == "batch-2"
    server.statuses, server.steps["batch-2"] = ["validating", "in_progress", "completed"], 1

    again = invoke(*args[1:], **variables)  # in this process: quicker
    assert again.exit_code == 0, again.output
    assert [row["id"] for row in lines(out)] == ["a-shared.txt", "b-short.txt", "c-long.txt"]
    assert server.count("POST", "/files") == 1 and server.count("POST", "/batches") == 1
    assert "Batch API: batch batch-2; 5 request(s) read" in again.stdout
    assert again.stderr == ""  # not a terminal: no progress drawn


def cut_reply(custom_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """HAND-ALTERED reply: for c-long.txt#1 of the batch, the perfect model's reply cut after
    60 % of its characters with finish_reason "length", as a server cuts at max_tokens. Every
    other request (and the normal API) gets the perfect reply."""
    reply = perfect_reply(custom_id, body)
    if custom_id == "c-long.txt#1":
        call = reply["choices"][0]["message"]["tool_calls"][0]["function"]
        call["arguments"] = call["arguments"][: len(call["arguments"]) * 6 // 10]
        reply["choices"][0]["finish_reason"] = "length"
    return reply


def test_a_cut_reply_keeps_what_it_grounded_and_asks_the_rest_through_the_api(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    server.answer = cut_reply
    settings = settings_for(server)
    out = tmp_path / "results.jsonl"
    summary = run_openai_batch(inputs, out=out, settings=settings)
    report = summary.report
    assert summary.done == 3 and report.accepted == 4
    assert report.reasked >= 1 and server.count("POST", "/chat/completions") == report.reasked
    # Only the cut chunk's uncovered part went to the API: smaller than the chunk sent.
    [cut_line] = [line for line in server.files["file-1"].splitlines() if b"c-long.txt#1" in line]
    cut_article = json.loads(cut_line)["body"]["messages"][-1]["content"]
    assert all(len(b["messages"][-1]["content"]) < len(cut_article) for b in server.chat_bodies)

    normal = tmp_path / "normal.jsonl"
    run_batch(inputs[2:], out=normal, settings=settings)
    spans = [(q["span"]["start"], q["span"]["end"]) for q in lines(out)[2]["result"]["quotes"]]
    expected = [
        (q["span"]["start"], q["span"]["end"]) for q in lines(normal)[0]["result"]["quotes"]
    ]
    assert spans == expected  # every quotation of the article, as the normal path has them


def test_a_reply_line_longer_than_any_reply_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "output.jsonl"
    fine = json.dumps({"custom_id": "a#0", "response": {"status_code": 200, "body": {}}})
    path.write_text(fine + "\n" + '{"custom_id": "b#0", "x": "' + "y" * 5000 + '"}\n')
    with pytest.raises(BadResponseError, match="line 2 of the batch's file file-9 is longer"):
        openai_batch.index_replies(path, "file-9", max_line=1000)
    assert openai_batch.index_replies(path, "file-9", max_line=6000) == {
        "a#0": (0, len(fine) + 1),
        "b#0": (len(fine) + 1, len(path.read_bytes()) - len(fine) - 1),
    }


def test_a_state_saved_before_the_upload_is_submitted_afresh(
    server: BatchAPIServer,
    inputs: list[BatchItem],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "results.jsonl"

    upload = openai_batch.BatchService.upload

    def refused(self: Any, path: Path) -> str:
        raise Crash  # killed (or the key refused) while uploading

    monkeypatch.setattr(openai_batch.BatchService, "upload", refused)
    with pytest.raises(Crash):
        run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert json.loads(state_path(out).read_text())["input_file_id"] is None
    monkeypatch.setattr(openai_batch.BatchService, "upload", upload)
    summary = run_openai_batch(inputs, out=out, settings=settings_for(server, max_tokens=2048))
    assert summary.done == 3 and server.count("POST", "/files") == 1
    assert uploaded_ids(server) == [
        "a-shared.txt#0",
        "b-short.txt#0",
        "c-long.txt#0",
        "c-long.txt#1",
    ]


def test_transient_faults_on_batch_calls_are_retried(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path, no_sleep: list[float]
) -> None:
    server.faults = [503, 429]  # HAND-WRITTEN faults: the upload answered 503, then 429
    out = tmp_path / "results.jsonl"
    summary = run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert summary.done == 3 and server.count("POST", "/files") == 3  # two refused, one kept
    assert len(server.files) == 2  # the request file once, the output file
    assert len(no_sleep) >= 2  # backed off before each retry


def test_a_rejected_key_on_a_batch_call_is_one_clear_error(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    server.faults = [401]
    with pytest.raises(AuthenticationError, match=r"uploading .*answered HTTP 401"):
        run_openai_batch(inputs, out=tmp_path / "r.jsonl", settings=settings_for(server))
    assert server.count("POST", "/files") == 1  # not retried


def test_a_query_in_the_base_url_goes_on_every_batch_call(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    settings = settings_for(server, base_url=server.base_url + "?api-version=2025-01-01")
    summary = run_openai_batch(inputs[:1], out=tmp_path / "r.jsonl", settings=settings)
    assert summary.done == 1
    assert server.queries and all("api-version=2025-01-01" in q for q in server.queries)


def test_every_reply_rejected_all_are_asked_again_concurrently(
    server: BatchAPIServer, inputs: list[BatchItem], tmp_path: Path
) -> None:
    def all_ungrounded(custom_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
        """HAND-ALTERED: every batch reply names a sentence the article does not have; the
        normal API gets the perfect reply."""
        reply = perfect_reply(custom_id, body)
        if custom_id is not None:
            call = reply["choices"][0]["message"]["tool_calls"][0]["function"]
            arguments = json.loads(call["arguments"])
            arguments["events"][0]["s"] = 9999
            call["arguments"] = json.dumps(arguments)
        return reply

    server.answer = all_ungrounded
    out = tmp_path / "results.jsonl"
    settings = settings_for(server, batch_concurrency=3)
    summary = run_openai_batch(inputs, out=out, settings=settings)
    assert summary.done == 3 and summary.report.reasked == 5 and summary.report.accepted == 0
    assert server.count("POST", "/chat/completions") == 5
    assert [row["id"] for row in lines(out)] == ["a-shared.txt", "b-short.txt", "c-long.txt"]
    normal = tmp_path / "normal.jsonl"
    run_batch(inputs, out=normal, settings=settings)
    theirs = by_id(lines(normal))  # the normal batch writes articles as they finish
    for mine in lines(out):
        assert {k: v for k, v in mine["result"].items() if k != "usage"} == {
            k: v for k, v in theirs[mine["id"]]["result"].items() if k != "usage"
        }


def test_lines_are_on_disk_before_the_batch_state_is_removed(
    server: BatchAPIServer,
    inputs: list[BatchItem],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A kill after the state file goes must not lose lines still queued to the writer: the
    # next run would submit (and pay for) those articles again. The writer's fsync is slowed,
    # so a run that removed the state without waiting for it would be caught in the act.
    out = tmp_path / "results.jsonl"
    synced: dict[int, int] = {}  # inode -> size at its last fsync
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        time.sleep(0.2)
        real_fsync(fd)
        status = os.fstat(fd)
        synced[status.st_ino] = status.st_size

    monkeypatch.setattr("extractor.batch_files.os.fsync", slow_fsync)
    seen: list[int] = []
    forget = openai_batch._forget

    def checked_forget(state: Any, state_file: Path) -> None:
        status = out.stat()
        seen.append(status.st_size)
        assert status.st_size > 0 and synced.get(status.st_ino) == status.st_size
        forget(state, state_file)

    monkeypatch.setattr(openai_batch, "_forget", checked_forget)
    summary = run_openai_batch(inputs, out=out, settings=settings_for(server))
    assert summary.done == 3 and len(seen) == 1 and len(lines(out)) == 3


def test_usage_spent_since_keeps_every_count() -> None:
    # What a re-ask through the API spent is the usage after it minus before; replies replayed
    # from the response cache (cached_requests) are part of it.
    before = Usage(requests=2, prompt_tokens=100, completion_tokens=40, total_tokens=140)
    after = before.add(
        Usage(
            requests=1, prompt_tokens=50, completion_tokens=10, total_tokens=60, cached_requests=2
        )
    )
    assert after - before == Usage(
        requests=1, prompt_tokens=50, completion_tokens=10, total_tokens=60, cached_requests=2
    )
