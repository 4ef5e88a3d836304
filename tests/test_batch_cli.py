"""``extractor batch``: folders and JSONL, resume after a crash (a torn line, a real kill -9),
the errors file and --retry-failed, offline, the summary, quiet progress, hostile input.

Every model reply here is HAND-WRITTEN by `EventResponder` (tests/test_batch_many.py): the
article's first sentence as one event; ``GARBAGE`` in an article gets a reply that never
validates; ``SLOW`` one after a delay. The server is tests/scripted_server.py, not a model.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from extractor.batch import BatchRun, BatchSummary
from extractor.batch_files import lock
from extractor.batch_lines import ArticleOutcome, Timing
from extractor.batch_progress import BatchProgress
from extractor.cli import app
from extractor.errors import InputError
from extractor.models import ArticleExtraction, Usage
from extractor.prices import PRICES

from conftest import FAKE_KEY
from scripted_server import Reply, ScriptedServer, error_body
from test_batch_many import EventResponder, article

runner = CliRunner()
ESCAPES = "\x1b[2J\x1b]0;pwned\x07\r"


def env(**extra: str) -> dict[str, str]:
    """The environment with no key or server configured, plus `extra`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    return {**clean, **extra}


def folder(path: Path, count: int, start: int = 0) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        (path / f"a{i:03d}.txt").write_text(f"date 2025-08-27\n{article(f'a{i:03d}')}", "utf-8")
    return path


def batch(tmp_path: Path, server: ScriptedServer | None, *args: str, cache: bool = False) -> Any:
    """Run ``extractor batch`` in this process against `server` (None: no model).

    The response cache is off unless `cache` (tests count the requests each run makes)."""
    options = ["--base-url", server.base_url] if server else []
    cache_options = ["--cache-dir", str(tmp_path / "cache")] if cache else ["--no-cache"]
    # CliRunner sets what it is given and unsets what is None: no OPENAI_*/EXTRACTOR_* of ours
    variables: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith(("OPENAI_", "EXTRACTOR_"))
    }
    if server:
        variables.update(OPENAI_API_KEY=FAKE_KEY, EXTRACTOR_MAX_REASKS="0")
    return runner.invoke(app, ["batch", *args, *options, *cache_options], env=variables)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().split(b"\n") if line]


def test_a_folder_and_a_jsonl_file_give_one_line_per_article(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = EventResponder()
    news = folder(tmp_path / "news", 2)
    dump = tmp_path / "dump.jsonl"
    dump.write_text(json.dumps({"id": "j1", "text": article("j1"), "url": "https://x"}) + "\n")
    out = tmp_path / "results.jsonl"
    done = batch(tmp_path, server, str(news), str(dump), "--out", str(out))
    assert done.exit_code == 0, done.output
    rows = {row["id"]: row for row in lines(out)}
    assert sorted(rows) == ["a000.txt", "a001.txt", "j1"]
    for key, row in rows.items():
        span = row["result"]["events"][0]["span"]
        given = news / key if key.endswith(".txt") else None
        text = given.read_text(encoding="utf-8") if given else article("j1")
        assert text[span["start"] : span["end"]] == span["text"]  # offsets index the text as given
        assert row["usage"]["requests"] == 1 and row["timing"]["seconds"] >= 0
    assert rows["j1"]["url"] == "https://x" and rows["j1"]["source"] == f"{dump}:1"
    assert rows["a000.txt"]["result"]["source"]["path"] == str(news / "a000.txt")
    assert not (tmp_path / "results.errors.jsonl").exists()


def test_the_summary_counts_articles_tokens_and_cost(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = EventResponder()
    out = tmp_path / "r.jsonl"
    done = batch(tmp_path, server, str(folder(tmp_path / "news", 3)), "--out", str(out))
    assert done.exit_code == 0, done.output
    # the scripted completion() counts 900 prompt and 300 completion tokens a reply
    assert "3 article(s); 3 extracted now, 0 already in" in done.stdout
    assert "tokens: 2,700 in, 900 out, 3 request(s)" in done.stdout
    price_in, price_out = PRICES["gpt-4o-mini"]
    assert f"${(2700 * price_in + 900 * price_out) / 1e6:,.4f} (gpt-4o-mini" in done.stdout
    assert "articles/s" in done.stdout
    again = batch(tmp_path, server, str(tmp_path / "news"), "--out", str(out))
    assert "0 extracted now, 3 already in" in again.stdout and "tokens: 0 in" in again.stdout
    assert len(server.requests) == 3


def test_an_unknown_price_says_so(server: ScriptedServer, tmp_path: Path) -> None:
    server.responder = EventResponder()
    news = str(folder(tmp_path / "news", 1))
    out = str(tmp_path / "r.jsonl")
    done = batch(tmp_path, server, news, "--out", out, "--model", "my-model")
    assert "cost: unknown: no price for my-model" in done.stdout
    prices = tmp_path / "prices.json"
    prices.write_text('{"my-model": [1000, 0]}')
    (tmp_path / "r.jsonl").unlink()
    done = batch(
        tmp_path, server, news, "--out", out, "--model", "my-model", "--prices", str(prices)
    )
    assert "cost: $0.9000 (my-model" in done.stdout


def test_a_second_run_over_unchanged_input_makes_no_request(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = EventResponder()
    news = str(folder(tmp_path / "news", 3))
    first = batch(tmp_path, server, news, "--out", str(tmp_path / "one.jsonl"), cache=True)
    assert first.exit_code == 0 and len(server.requests) == 3
    second = batch(tmp_path, server, news, "--out", str(tmp_path / "two.jsonl"), cache=True)
    assert second.exit_code == 0, second.output
    assert len(server.requests) == 3  # the cache answered every article
    assert "3 answered from the cache" in second.stdout and "tokens: 0 in, 0 out" in second.stdout

    def records(path: Path) -> dict[str, Any]:
        return {row["id"]: {**row["result"], "usage": None} for row in lines(path)}

    assert records(tmp_path / "one.jsonl") == records(tmp_path / "two.jsonl")


def test_a_torn_last_line_is_cut_and_only_unfinished_articles_are_asked(
    server: ScriptedServer, tmp_path: Path
) -> None:
    responder = server.responder = EventResponder()
    news = folder(tmp_path / "news", 4)
    out = tmp_path / "r.jsonl"
    assert batch(tmp_path, server, str(news), "--out", str(out)).exit_code == 0
    whole = out.read_bytes().split(b"\n")
    kept = [line for line in whole if line][:2]
    out.write_bytes(b"\n".join(kept) + b"\n" + whole[2][:50])  # killed while writing line 3
    responder.seen.clear()
    done = batch(tmp_path, server, str(news), "--out", str(out))
    assert done.exit_code == 0, done.output
    ids = [row["id"] for row in lines(out)]
    assert len(ids) == 4 and len(set(ids)) == 4
    finished = {json.loads(line)["id"].removesuffix(".txt") for line in kept}
    assert sorted(responder.seen) == sorted({"a000", "a001", "a002", "a003"} - finished)
    assert "cut 1 torn last line" in done.stdout


def test_a_run_killed_with_sigkill_resumes_without_duplicates_or_repeated_requests(
    server: ScriptedServer, tmp_path: Path
) -> None:
    responder = server.responder = EventResponder(latency=0.15)
    news = folder(tmp_path / "news", 16)
    out = tmp_path / "r.jsonl"
    args = ["batch", str(news), "--out", str(out), "--base-url", server.base_url]
    args += ["--concurrency", "2", "--cache-dir", str(tmp_path / "cache")]
    command = [sys.executable, "-c", "from extractor.cli import main; main()", *args]
    variables = env(OPENAI_API_KEY=FAKE_KEY)
    process = subprocess.Popen(
        command, env=variables, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not out.exists() or out.read_bytes().count(b"\n") < 4
        ):
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    complete = [line for line in out.read_bytes().split(b"\n")[:-1] if line]
    finished = {json.loads(line)["id"].removesuffix(".txt") for line in complete}
    assert 4 <= len(finished) < 16
    responder.seen.clear()
    again = subprocess.run(command, env=variables, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    ids = [row["id"] for row in lines(out)]
    assert len(ids) == 16 and len(set(ids)) == 16
    # No request for a finished article; every other one asked (but a reply the killed run had
    # already cached, or a request of the killed run reaching the server late, may blur counts).
    unfinished = {f"a{i:03d}" for i in range(16)} - finished
    assert set(responder.seen) <= unfinished
    assert len(set(responder.seen)) >= len(unfinished) - 2  # at most 2 were in flight
    assert again.stderr == ""  # not a terminal: no progress drawn


def test_ctrl_c_stops_with_one_line_and_the_same_command_resumes(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = EventResponder(latency=0.1)
    news = folder(tmp_path / "news", 12)
    out = tmp_path / "r.jsonl"
    args = ["batch", str(news), "--out", str(out), "--base-url", server.base_url]
    command = [sys.executable, "-c", "from extractor.cli import main; main()", *args]
    command += ["--concurrency", "2", "--no-cache"]
    variables = env(OPENAI_API_KEY=FAKE_KEY)
    # A shell that starts pytest in the background has it ignore SIGINT; its children would too.
    process = subprocess.Popen(
        command,
        env=variables,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            not out.exists() or out.read_bytes().count(b"\n") < 2
        ):
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert stderr.strip().startswith("error: interrupted;") and len(stderr.splitlines()) == 1
    assert out.read_bytes().endswith(b"\n")  # whole lines only
    again = subprocess.run(command, env=variables, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    ids = [row["id"] for row in lines(out)]
    assert len(ids) == 12 and len(set(ids)) == 12


def test_failed_articles_go_to_the_errors_file_and_retry_failed_redoes_only_them(
    server: ScriptedServer, tmp_path: Path
) -> None:
    responder = server.responder = EventResponder()
    news = folder(tmp_path / "news", 3)
    (news / "bad.txt").write_text(article("bad", "GARBAGE. "), encoding="utf-8")
    out = tmp_path / "r.jsonl"
    errors = tmp_path / "r.errors.jsonl"
    done = batch(tmp_path, server, str(news), "--out", str(out))
    assert done.exit_code == 1, done.output
    assert [row["id"] for row in lines(errors)] == ["bad.txt"]
    (failure,) = lines(errors)
    assert failure["error"] == "ExtractionError" and "\n" not in failure["message"]
    assert failure["usage"]["requests"] == 1 and "partial" in failure
    assert "errors: 1 article(s) failed, listed in" in done.stdout
    assert len(lines(out)) == 3

    responder.seen.clear()
    again = batch(tmp_path, server, str(news), "--out", str(out))  # a plain resume skips it
    assert again.exit_code == 1 and responder.seen == []
    assert "errors: 1 article(s) failed (1 from earlier runs), listed in" in again.stdout

    (news / "bad.txt").write_text(article("bad"), encoding="utf-8")  # fixed
    retried = batch(tmp_path, server, str(news), "--out", str(out), "--retry-failed")
    assert retried.exit_code == 0, retried.output
    assert responder.seen == ["bad"]
    assert not errors.exists()
    assert sorted(row["id"] for row in lines(out)) == [
        "a000.txt",
        "a001.txt",
        "a002.txt",
        "bad.txt",
    ]


def test_retry_failed_keeps_what_fails_again_once(server: ScriptedServer, tmp_path: Path) -> None:
    server.responder = EventResponder()
    news = tmp_path / "news"
    news.mkdir()
    for key in ("x", "y"):
        (news / f"{key}.txt").write_text(article(key, "GARBAGE. "), encoding="utf-8")
    out = tmp_path / "r.jsonl"
    errors = tmp_path / "r.errors.jsonl"
    assert batch(tmp_path, server, str(news), "--out", str(out)).exit_code == 1
    (news / "x.txt").write_text(article("x"), encoding="utf-8")
    retried = batch(tmp_path, server, str(news), "--out", str(out), "--retry-failed")
    assert retried.exit_code == 1
    assert [row["id"] for row in lines(errors)] == ["y.txt"]  # once, the latest
    assert [row["id"] for row in lines(out)] == ["x.txt"]


def test_no_model_gives_direct_quotes_with_speakers_from_the_rules(tmp_path: Path) -> None:
    news = tmp_path / "news"
    news.mkdir()
    (news / "a.txt").write_text(
        'date 2025-08-27\nThe minister said: "We will not give up." Then he left.\n', "utf-8"
    )
    out = tmp_path / "r.jsonl"
    done = batch(tmp_path, None, str(news), "--out", str(out))
    assert done.exit_code == 0, done.output
    (row,) = lines(out)
    quote = row["result"]["quotes"][0]
    assert quote["confirmed"] is False and quote["text"] == "We will not give up."
    text = (news / "a.txt").read_text(encoding="utf-8")
    assert text[quote["span"]["start"] : quote["span"]["end"]] == quote["text"]
    assert "note: no model configured" in done.stderr
    assert "cost: $0 (no model" in done.stdout


def test_a_binary_file_fails_alone_with_a_clear_reason(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = EventResponder()
    news = folder(tmp_path / "news", 2)
    (news / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10)
    out = tmp_path / "r.jsonl"
    done = batch(tmp_path, server, str(news), "--out", str(out))
    assert done.exit_code == 1
    (failure,) = lines(tmp_path / "r.errors.jsonl")
    assert failure["id"] == "image.txt" and failure["error"] == "InputError"
    assert "binary" in failure["message"]
    assert len(lines(out)) == 2 and len(server.requests) == 2


def test_escape_codes_in_ids_and_text_never_reach_the_terminal_raw(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = EventResponder()
    dump = tmp_path / "dump.jsonl"
    rows = [
        {"id": f"evil{ESCAPES}", "text": article("evil", "GARBAGE. ") + ESCAPES},
        {"id": "fine", "text": article("fine") + ESCAPES},
    ]
    dump.write_text("\n".join(json.dumps(r) for r in rows) + "\n{bad json" + ESCAPES + "\n")
    out = tmp_path / "r.jsonl"
    done = batch(tmp_path, server, str(dump), "--out", str(out))
    assert done.exit_code == 1
    for stream in (done.stdout, done.stderr):
        assert "\x1b" not in stream and "\x07" not in stream and "\r" not in stream
    ids = {row["id"] for row in lines(tmp_path / "r.errors.jsonl")}
    assert ids == {f"evil{ESCAPES}", f"{dump}:3"}  # kept exactly in the JSON


def test_the_progress_bar_is_drawn_on_a_terminal_with_hostile_text_escaped() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=300)
    summary = BatchSummary(todo=2, done=1, failed=1, usage=Usage(prompt_tokens=1234))
    summary.last_error = f"evil{ESCAPES}: InputError: binary"
    timing = Timing(started="2026-01-01T00:00:00Z", seconds=0.1)
    outcome = ArticleOutcome("x", ArticleExtraction(), None, Usage(), timing)
    with BatchProgress(console) as progress:
        assert progress.enabled
        progress.start(summary)
        progress.update(outcome, summary)
    shown = buffer.getvalue()
    assert "done 1" in shown and "failed 1" in shown and "1,234 in" in shown
    assert "evil\\x1b[2J" in shown and "]0;pwned" not in shown.replace("\\x1b]0;pwned", "")


def test_the_progress_bar_is_quiet_off_a_terminal() -> None:
    buffer = io.StringIO()
    with BatchProgress(Console(file=buffer, force_terminal=False)) as progress:
        assert not progress.enabled
        progress.start(BatchSummary(todo=1))
    assert buffer.getvalue() == ""


def test_a_wrong_key_stops_the_run_with_one_line_and_writes_no_error_lines(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = lambda request: Reply(
        error_body("Incorrect API key provided", "invalid_request_error"), status=401
    )
    out = tmp_path / "r.jsonl"
    done = batch(tmp_path, server, str(folder(tmp_path / "news", 3)), "--out", str(out))
    assert done.exit_code == 3
    (line,) = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert line.startswith("error: ") and "the same command resumes" in line
    assert not (tmp_path / "r.errors.jsonl").exists()


def test_a_server_down_stops_the_run_and_the_same_command_resumes(
    server: ScriptedServer, tmp_path: Path
) -> None:
    good = EventResponder()
    server.responder = lambda request: Reply(error_body("overloaded"), status=503)
    news = str(folder(tmp_path / "news", 14))
    out = tmp_path / "r.jsonl"
    done = batch(tmp_path, server, news, "--out", str(out), "--concurrency", "2")
    assert done.exit_code == 3
    (line,) = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert "the server failed for 10 articles in a row" in line and "resumes" in line
    assert not (tmp_path / "r.errors.jsonl").exists() and not out.exists()  # nothing written
    server.responder = good
    again = batch(tmp_path, server, news, "--out", str(out))
    assert again.exit_code == 0, again.output
    # set(): a request the stopped run sent as it stopped may reach `good` too
    assert len(lines(out)) == 14 and len(set(good.seen)) == 14


def test_a_server_failure_between_successes_is_an_ordinary_failure(
    server: ScriptedServer, tmp_path: Path
) -> None:
    good = EventResponder()

    def responder(request: dict[str, Any]) -> Reply:
        if "Article-a001" in request["messages"][-1]["content"]:
            return Reply(error_body("this one breaks the server"), status=500)
        return good(request)

    server.responder = responder
    out = tmp_path / "r.jsonl"
    news = str(folder(tmp_path / "news", 4))
    done = batch(tmp_path, server, news, "--out", str(out), "--concurrency", "1")
    assert done.exit_code == 1
    (failure,) = lines(tmp_path / "r.errors.jsonl")
    assert failure["id"] == "a001.txt" and failure["error"] == "ServerError"
    assert len(lines(out)) == 3


def test_the_runs_own_files_are_not_read_as_articles(tmp_path: Path) -> None:
    news = folder(tmp_path / "news", 2)
    out = news / "results.jsonl"
    for _ in range(2):  # the second run sees results.jsonl in the folder: not an article
        done = batch(tmp_path, None, str(news), "--glob", "*", "--out", str(out))
        assert done.exit_code == 0, done.output
    assert sorted(row["id"] for row in lines(out)) == ["a000.txt", "a001.txt"]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    dump = tmp_path / "dump.jsonl"
    dump.write_text('{"id": "x", "text": "One."}\n{"id": "x", "text": "Two."}\n')
    done = batch(tmp_path, None, str(dump), "--out", str(tmp_path / "r.jsonl"))
    assert done.exit_code == 2
    assert done.stderr.strip().startswith("error: 1 duplicate article id(s): 'x'")
    missing = batch(tmp_path, None, str(tmp_path / "nope"), "--out", str(tmp_path / "r.jsonl"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr


def test_two_runs_cannot_write_one_output(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    with lock(out), pytest.raises(InputError, match="another run is writing"), BatchRun(out):
        pass


def test_the_output_and_errors_file_must_differ(tmp_path: Path) -> None:
    news = folder(tmp_path / "news", 1)
    out = str(tmp_path / "r.jsonl")
    done = batch(tmp_path, None, str(news), "--out", out, "--errors", out)
    assert done.exit_code == 2 and "must differ" in done.stderr


def test_the_same_rejection_for_every_article_stops_the_run_and_the_same_command_resumes(
    server: ScriptedServer, tmp_path: Path
) -> None:
    good = EventResponder()
    server.responder = lambda request: Reply(
        error_body("Unsupported parameter: 'max_tokens' is not supported", "invalid_request_error"),
        status=400,
    )
    news = str(folder(tmp_path / "news", 30))
    out = tmp_path / "r.jsonl"
    done = batch(tmp_path, server, news, "--out", str(out), "--concurrency", "2")
    assert done.exit_code == 3, done.output
    (line,) = [ln for ln in done.stderr.splitlines() if ln.strip()]
    assert "the server rejected 10 articles in a row the same way" in line and "resumes" in line
    assert len(server.requests) < 30  # not one rejected request per article
    assert not (tmp_path / "r.errors.jsonl").exists() and not out.exists()  # nothing written
    server.responder = good
    again = batch(tmp_path, server, news, "--out", str(out))
    assert again.exit_code == 0, again.output
    assert len(lines(out)) == 30


def test_rejections_that_differ_are_ordinary_failures(tmp_path: Path) -> None:
    from extractor.errors import RequestRejectedError

    started = Timing(started="2026-11-29T21:40:00Z", seconds=0)
    with BatchRun(tmp_path / "r.jsonl") as run:
        for i in range(12):
            error = RequestRejectedError(f"article {i}: bad {'image' if i % 2 else 'tool'}")
            run.emit(ArticleOutcome(f"a{i}", None, error, Usage(), started))
    assert run.summary.failed == 12 and run.summary.still_failing == 12


def test_extractor_cache_false_in_the_environment_turns_the_batch_cache_off(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = EventResponder()
    news = str(folder(tmp_path / "news", 2))
    variables: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith(("OPENAI_", "EXTRACTOR_"))
    }
    variables.update(OPENAI_API_KEY=FAKE_KEY, EXTRACTOR_CACHE="false")
    common = ["--base-url", server.base_url, "--cache-dir", str(tmp_path / "cache")]
    for name in ("one", "two"):
        out = str(tmp_path / f"{name}.jsonl")
        done = runner.invoke(app, ["batch", news, "--out", out, *common], env=variables)
        assert done.exit_code == 0, done.output
    assert len(server.requests) == 4  # nothing answered from a cache
    done = runner.invoke(  # --cache beats the environment
        app,
        ["batch", news, "--out", str(tmp_path / "three.jsonl"), "--cache", *common],
        env=variables,
    )
    again = runner.invoke(
        app,
        ["batch", news, "--out", str(tmp_path / "four.jsonl"), "--cache", *common],
        env=variables,
    )
    assert done.exit_code == again.exit_code == 0 and len(server.requests) == 6
    assert "2 answered from the cache" in again.stdout


def test_a_run_that_stops_at_once_leaves_no_empty_output(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = lambda request: Reply(error_body("bad key", "invalid_api_key"), status=401)
    out = tmp_path / "r.jsonl"
    done = batch(tmp_path, server, str(folder(tmp_path / "news", 2)), "--out", str(out))
    assert done.exit_code == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["news"]  # no r.jsonl, no errors file


def test_a_bad_prices_file_is_named_in_the_error(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    prices.write_text('{"my-model": [-1, "two"]}')
    news = str(folder(tmp_path / "news", 1))
    done = batch(tmp_path, None, news, "--out", str(tmp_path / "r.jsonl"), "--prices", str(prices))
    assert done.exit_code == 2
    assert done.stderr.startswith(f"error: {prices}: invalid settings")
