"""Against real OpenAI-compatible servers serving SmolLM2-135M-Instruct: llama-cpp-python's
(scripts/local-llm.sh, port 8765) and upstream llama.cpp's llama-server (scripts/llama-server.sh,
port 8766), which disagree on modes.

The cassettes here were recorded from those real servers; nothing in them was written by hand.
The model is tiny: these tests prove the HTTP path, modes, re-asks and grounding, not quality.
Whatever it says, the library must return fully grounded records or a clean error; each recorded
test asserts the one outcome its cassette holds, so a re-recording that changes what the model
said fails here until the test is updated to the new outcome. Re-record with both servers running:
    EXTRACTOR_LOCAL_LLM_URL=http://127.0.0.1:8765/v1 \
    EXTRACTOR_LLAMA_SERVER_URL=http://127.0.0.1:8766/v1 \
        pytest tests/test_local_server.py --record-mode=rewrite -m "not live"
The test marked ``live`` talks to a server itself (``pytest -m live``): it builds and starts
scripts/local-llm.sh when nothing answers on port 8765, and stops what it started.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extractor import (
    Article,
    ArticleExtraction,
    ExtractionError,
    Extractor,
    IncompleteOutputError,
    RequestRejectedError,
    ServerError,
)

from scripted_server import Reply, ScriptedServer, completion
from test_extractor import assert_grounded

LOCAL_URL = "http://127.0.0.1:8765/v1"
LLAMA_SERVER_URL = "http://127.0.0.1:8766/v1"
LOCAL_MODEL = "smollm2-135m"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def local(record_mode: str) -> dict[str, Any]:
    """Options for the local server: the recorded one, or EXTRACTOR_LOCAL_LLM_URL when recording."""
    url = (
        LOCAL_URL if record_mode == "none" else os.environ.get("EXTRACTOR_LOCAL_LLM_URL", LOCAL_URL)
    )
    return {"model": LOCAL_MODEL, "base_url": url, "max_tokens": 1024, "max_reasks": 1}


def check_grounded_or_clean_error(options: dict[str, Any], article: Article) -> None:
    """The contract under a weak model: all records grounded, or a clean error saying why.

    Only the live test uses it: what a freshly built server says may differ from a recording.
    Each recorded test asserts the one outcome its cassette holds.
    """
    try:
        result = Extractor(**options).extract(article.text, published=article.published)
    except ExtractionError as error:
        assert error.attempts and error.last_errors
        assert error.usage is not None and error.usage.requests == len(error.attempts)
        assert error.usage.total_tokens > 0
        if error.partial is not None:
            assert_grounded(error.partial, article.text)
        return
    except IncompleteOutputError as error:
        assert "max_tokens" in str(error)
        return
    assert isinstance(result, ArticleExtraction)
    assert_grounded(result, article.text)
    assert result.usage.requests >= 1 and result.usage.total_tokens > 0


@pytest.mark.vcr
def test_tools_mode_quotations_the_model_skips_come_from_the_rules(
    local: dict[str, Any], article: Article
) -> None:
    """The recorded model answers `{ }`: every marked quotation of the article is still
    returned, grounded, its speaker from the attribution rules and marked unconfirmed."""
    result = Extractor(**local).extract(article.text, published=article.published)
    assert result.usage.requests == 1 and result.usage.total_tokens > 0
    assert (result.events, result.commitments) == ([], [])
    assert_grounded(result, article.text)
    assert len(result.quotes) == 7
    assert not any(q.confirmed for q in result.quotes)
    speakers = {q.text[:20]: q.speaker.name for q in result.quotes}
    assert speakers["negative attitude"] == "Dmitry Peskov"
    assert speakers["When it comes to sec"] == "Donald Trump"


@pytest.mark.vcr
def test_json_mode_reply_off_the_schema_is_an_extraction_error(
    local: dict[str, Any], article: Article
) -> None:
    """The recorded model answers `{"description": ...}` twice, a key the schema does not have."""
    with pytest.raises(ExtractionError) as caught:
        Extractor(**{**local, "mode": "json"}).extract(article.text, published=article.published)
    error = caught.value
    assert "after 2 attempt(s) (mode json)" in str(error)
    assert len(error.attempts) == 2
    assert all(a.errors == ["description: Extra inputs are not permitted"] for a in error.attempts)
    assert error.usage is not None and error.usage.requests == 2
    assert error.partial is None


@pytest.mark.vcr
def test_json_schema_mode_refused_by_this_server(
    local: dict[str, Any], article: Article, no_sleep: list[float]
) -> None:
    """llama-cpp-python's server answers 500 to OpenAI's json_schema response format."""
    with pytest.raises(ServerError) as caught:
        Extractor(**local, mode="json_schema", max_transient_retries=1).extract(
            article.text, published=article.published
        )
    assert caught.value.status == 500
    assert caught.value.attempts == 1 and no_sleep == []  # a refusal of the request: no retry
    assert "mode json_schema" in str(caught.value) and "--mode" in str(caught.value)


@pytest.fixture
def llama_server(record_mode: str) -> dict[str, Any]:
    """Options for upstream llama-server: recorded, or EXTRACTOR_LLAMA_SERVER_URL when recording."""
    url = (
        LLAMA_SERVER_URL
        if record_mode == "none"
        else os.environ.get("EXTRACTOR_LLAMA_SERVER_URL", LLAMA_SERVER_URL)
    )
    return {"model": LOCAL_MODEL, "base_url": url, "max_tokens": 1024, "max_reasks": 1}


@pytest.mark.vcr
def test_llama_server_json_schema_answer_naming_no_quotation_is_asked_again_once(
    llama_server: dict[str, Any], article: Article
) -> None:
    """llama-server takes OpenAI's json_schema format, which llama-cpp-python's server refuses.

    The recorded model answers `{"not_speech": {"n": "name"}}` twice: a key that names no
    quotation is re-asked once, naming it; the second time it is dropped, and every quotation of
    the article is still a quote, its speaker from the rules, unconfirmed.
    """
    result = Extractor(**{**llama_server, "mode": "json_schema"}).extract(
        article.text, published=article.published
    )
    assert result.usage.requests == 2
    assert result.quotes and not any(q.confirmed for q in result.quotes)
    assert result.coverage is not None and result.coverage.attributed == 0
    assert_grounded(result, article.text)


@pytest.mark.vcr
@pytest.mark.parametrize("mode", ["tools"])
def test_llama_server_reply_cut_off_at_max_tokens(
    llama_server: dict[str, Any], article: Article, mode: str
) -> None:
    """In tools mode llama-server's model (its chat template has no tools) writes plain text
    until max_tokens (finish_reason "length"): one request, no re-ask, an error that says which
    limit to raise.
    """
    with pytest.raises(IncompleteOutputError) as caught:
        Extractor(**{**llama_server, "mode": mode}).extract(
            article.text, published=article.published
        )
    assert "cut off at max_tokens=1024" in str(caught.value)
    assert "finish_reason 'length'" in str(caught.value)


def completes(base_url: str) -> bool:
    """Whether base_url completes a one-token chat request (a model list is not enough)."""
    body = {"model": LOCAL_MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}
    request = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return bool(reply.status == 200)
    except OSError:  # refused, reset, timed out, or an HTTP error status
        return False


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """The local server's URL: EXTRACTOR_LOCAL_LLM_URL, one already answering on port 8765, or
    one that scripts/local-llm.sh builds (first run only) and starts, and that is stopped after."""
    url = os.environ.get("EXTRACTOR_LOCAL_LLM_URL")
    if url:
        yield url
        return
    if completes(LOCAL_URL):  # started by hand: leave it running
        yield LOCAL_URL
        return
    script = str(ROOT / "scripts" / "local-llm.sh")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # the build's progress reaches the terminal
        print(f"\n{script}: starting the local server (a first run builds it, 5-16 min on 2 cores)")
        started = subprocess.run(
            ["bash", script, "8765"], stdout=subprocess.PIPE, text=True, timeout=3600, check=False
        )
    if started.returncode != 0:
        pytest.fail(f"{script} failed (exit {started.returncode}); its messages are above")
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", script, "stop"], capture_output=True, timeout=60, check=False)


@pytest.mark.live
def test_live_local_server(live_server: str, article: Article) -> None:
    check_grounded_or_clean_error(
        {"model": LOCAL_MODEL, "base_url": live_server, "max_tokens": 1024, "max_reasks": 1},
        article,
    )


@pytest.mark.vcr
@pytest.mark.parametrize("server", ["llama-cpp-python", "llama-server"])
def test_article_longer_than_the_context_is_a_clear_rejection(
    local: dict[str, Any], llama_server: dict[str, Any], article: Article, server: str
) -> None:
    """Both real servers refuse a prompt over their 8,192-token context, each in its own words.

    The library splits an article longer than ``context_tokens``; here that setting claims far
    more than the servers have, so the article goes whole (recorded with max_tokens 50, before
    chunking: the servers refuse the prompt alone, whatever max_tokens asks).
    """
    options = local if server == "llama-cpp-python" else llama_server
    too_long = "\n\n".join([article.text] * 25)  # about 10,800 tokens
    claims = {"max_tokens": 30_000, "context_tokens": 200_000, "max_transient_retries": 0}
    with pytest.raises(RequestRejectedError) as caught:
        Extractor(**{**options, **claims}).extract(too_long)
    assert caught.value.status == 400 and caught.value.attempts == 1
    assert "too long for this model's context: split it" in str(caught.value)


# The scripts that build, start and stop the local servers. The replies here are HAND-WRITTEN
# (tests/scripted_server.py): they stand in for a server, to test the scripts' own logic.
needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="the scripts use curl")


def wait_for(port: str, log: Path, *pid: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/wait-for-server.sh for at most three seconds of waiting."""
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / "wait-for-server.sh"), port, str(log), *pid],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "EXTRACTOR_SERVER_WAIT": "3"},
    )


@needs_curl
def test_a_server_that_lists_models_but_cannot_complete_is_not_ready(
    server: ScriptedServer, tmp_path: Path
) -> None:
    """A server built for the wrong CPU lists its model, then dies on the first completion."""
    server.replies.extend(Reply(drop=True) for _ in range(10))
    (tmp_path / "server.log").write_text("the server's last words\n")
    port = server.base_url.split(":")[-1].split("/")[0]
    waited = wait_for(port, tmp_path / "server.log")
    assert waited.returncode == 1 and waited.stdout == ""
    assert f"no server completed a request on port {port}" in waited.stderr
    assert "the server's last words" in waited.stderr


@needs_curl
def test_a_server_that_completes_one_token_is_ready(server: ScriptedServer, tmp_path: Path) -> None:
    server.replies.append(Reply(body=completion({"events": []})))
    port = server.base_url.split(":")[-1].split("/")[0]
    waited = wait_for(port, tmp_path / "server.log")
    assert waited.returncode == 0 and waited.stdout.strip() == server.base_url
    assert server.requests[0]["max_tokens"] == 1


@needs_curl
def test_a_server_process_that_exited_fails_at_once(tmp_path: Path) -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / "server.log").write_text("Illegal instruction\n")
    waited = wait_for("9", tmp_path / "server.log", str(gone.pid))
    assert waited.returncode == 1
    assert "the server on port 9 exited" in waited.stderr and "SIGILL" in waited.stderr


def test_stop_ends_the_process_in_the_pid_file_and_removes_the_file(tmp_path: Path) -> None:
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pidfile = tmp_path / "server.pid"
    pidfile.write_text(str(running.pid))
    stop = ROOT / "scripts" / "stop-server.sh"
    stopped = subprocess.run(["bash", str(stop), str(pidfile)], capture_output=True, text=True)
    assert stopped.returncode == 0 and f"process {running.pid}" in stopped.stdout
    running.wait(timeout=10)  # raises if the process is still running
    assert not pidfile.exists()
    again = subprocess.run(["bash", str(stop), str(pidfile)], capture_output=True, text=True)
    assert again.returncode == 0 and again.stdout == ""


def test_stop_leaves_alone_a_process_that_is_not_the_server(tmp_path: Path) -> None:
    """A stale pid file whose id now belongs to another program: that program keeps running."""
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    pidfile = tmp_path / "server.pid"
    pidfile.write_text(str(other.pid))
    stop = ROOT / "scripts" / "stop-server.sh"
    try:
        stopped = subprocess.run(
            ["bash", str(stop), str(pidfile), "llama_cpp.server"], capture_output=True, text=True
        )
        assert stopped.returncode == 0 and stopped.stdout == ""
        assert other.poll() is None and not pidfile.exists()
    finally:
        other.kill()
        other.wait()


def test_builds_use_portable_cpu_flags() -> None:
    """A native build may use AMX, which some kernels refuse: the server then dies with SIGILL."""
    printed = subprocess.run(
        ["bash", str(ROOT / "scripts" / "portable-cmake-args.sh")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "-DGGML_NATIVE=OFF" in printed
    assert not any("AMX" in flag or "AVX512" in flag for flag in printed)
    for script in ("local-llm.sh", "llama-server.sh"):
        text = (ROOT / "scripts" / script).read_text()
        assert "portable-cmake-args.sh" in text and "--no-cache-dir" in text
