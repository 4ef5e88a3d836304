"""The response cache (extractor.cache): replays, misses, what is never stored, sharing, bounds.

A real HTTP server on 127.0.0.1 (tests/scripted_server.py) answers with HAND-WRITTEN replies:
nothing here is a model. Each test has its own cache folder (tmp_path).
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from extractor import (
    ArticleExtraction,
    ConfigurationError,
    ExtractionError,
    Extractor,
    ServerError,
)
from extractor.cache import (
    CACHE_HEADER,
    FILE_NAME,
    Repeats,
    ResponseCache,
    StoredReply,
    default_cache_dir,
    request_key,
)
from extractor.settings import load_settings
from extractor.transport import http_client

from handwritten import replies
from people_schema import People
from scripted_server import Reply, ScriptedServer, completion, error_body

TEXT = (
    'Kremlin spokesman Dmitry Peskov said Moscow held a "negative attitude" toward the plan, '
    'adding it was "one of the root causes" of the war.'
)
OTHER_TEXT = TEXT.replace("Moscow", "the Kremlin")
GOOD = {"quotes": [replies.QUOTES[0]]}
KEY = "sk-test-cache-0123456789abcdefSECRET"

Run = Callable[..., ArticleExtraction]


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Run:
    """Extract with the sync or the async path."""

    def call(extractor: Extractor, text: str = TEXT, **options: Any) -> ArticleExtraction:
        if request.param == "sync":
            return extractor.extract(text, published="2025-08-27", **options)
        return asyncio.run(extractor.aextract(text, published="2025-08-27", **options))

    return call


def make(server: ScriptedServer, folder: Path, **options: Any) -> Extractor:
    """An extractor with the cache on in `folder`."""
    settings: dict[str, Any] = {
        "max_transient_retries": 0,
        "max_reasks": 1,
        "cache": True,
        "cache_dir": folder,
        **options,
    }
    return Extractor(
        settings.pop("model", "gpt-4o-mini"), base_url=server.base_url, api_key=KEY, **settings
    )


def ok() -> Reply:
    return Reply(completion(GOOD, prompt_tokens=100, completion_tokens=20))


def answer(request: dict[str, Any]) -> Reply:
    """GOOD as a tool call (tools mode), or as the message's JSON content (other modes)."""
    if "tools" in request:
        return ok()
    body = completion(GOOD, prompt_tokens=100, completion_tokens=20, finish_reason="stop")
    body["choices"][0]["message"].update(content=json.dumps(GOOD), tool_calls=None)
    return Reply(body)


def stored(folder: Path) -> int:
    """How many replies the cache in `folder` holds."""
    return ResponseCache(folder).stats()[0]


def test_a_second_identical_extraction_sends_nothing(
    server: ScriptedServer, tmp_path: Path, run: Run
) -> None:
    server.responder = lambda request: ok()
    first = run(make(server, tmp_path))
    again = run(make(server, tmp_path))  # another Extractor, the same cache
    assert len(server.requests) == 1
    assert again.model_dump(exclude={"usage"}) == first.model_dump(exclude={"usage"})
    assert first.usage.requests == 1 and first.usage.cached_requests == 0
    assert again.usage.requests == 0 and again.usage.cached_requests == 1
    assert again.usage.total_tokens == 0  # nothing was spent
    assert stored(tmp_path) == 1


def test_sync_and_async_share_the_cache(server: ScriptedServer, tmp_path: Path) -> None:
    server.responder = lambda request: ok()
    extractor = make(server, tmp_path)
    first = extractor.extract(TEXT)
    again = asyncio.run(extractor.aextract(TEXT))
    assert len(server.requests) == 1 and again.quotes == first.quotes
    assert again.usage.cached_requests == 1


def test_off_by_default(server: ScriptedServer, tmp_path: Path) -> None:
    server.responder = lambda request: ok()
    extractor = make(server, tmp_path, cache=False)
    extractor.extract(TEXT)
    extractor.extract(TEXT)
    assert len(server.requests) == 2
    assert not (tmp_path / FILE_NAME).exists()
    assert load_settings().cache is False


def test_other_messages_model_mode_or_schema_miss(
    server: ScriptedServer, tmp_path: Path, run: Run
) -> None:
    server.responder = answer
    run(make(server, tmp_path))
    run(make(server, tmp_path), OTHER_TEXT)  # other messages
    run(make(server, tmp_path, model="gpt-4o"))  # another model
    run(make(server, tmp_path, mode="json_schema"))  # another mode: another request shape
    run(make(server, tmp_path, max_tokens=1000))  # another reply budget
    assert len(server.requests) == 5
    with pytest.raises(ExtractionError):  # another schema (the hand-written reply does not fit)
        run(make(server, tmp_path, max_reasks=0), schema=People)
    assert len(server.requests) == 6
    assert stored(tmp_path) == 5


def test_errors_are_never_cached(server: ScriptedServer, tmp_path: Path, run: Run) -> None:
    server.replies.append(Reply(error_body("upstream trouble"), status=503))
    with pytest.raises(ServerError):
        run(make(server, tmp_path))
    assert stored(tmp_path) == 0
    server.replies.append(ok())
    result = run(make(server, tmp_path))
    assert len(server.requests) == 2 and result.usage.requests == 1


def test_a_call_that_fails_forgets_its_replies(
    server: ScriptedServer, tmp_path: Path, run: Run
) -> None:
    invented = {"quotes": [replies.QUOTES[0], replies.INVENTED_QUOTE]}
    server.replies.extend([Reply(completion(invented)) for _ in range(2)])
    with pytest.raises(ExtractionError):
        run(make(server, tmp_path))  # two 200 replies, neither grounded
    assert stored(tmp_path) == 0  # so the next run asks the server again
    server.replies.append(ok())
    result = run(make(server, tmp_path))
    assert len(server.requests) == 3 and result.usage.requests == 1


def test_a_call_that_succeeded_after_a_reask_replays_the_whole_exchange(
    server: ScriptedServer, tmp_path: Path, run: Run
) -> None:
    invented = {"quotes": [replies.QUOTES[0], replies.INVENTED_QUOTE]}
    server.replies.extend([Reply(completion(invented)), ok()])
    first = run(make(server, tmp_path))
    assert first.usage.requests == 2 and stored(tmp_path) == 2
    again = run(make(server, tmp_path))
    assert len(server.requests) == 2  # none more
    assert again.usage.cached_requests == 2 and again.quotes == first.quotes


def test_keys_and_secrets_never_reach_the_disk(server: ScriptedServer, tmp_path: Path) -> None:
    server.responder = lambda request: ok()
    token = "querysecret0123456789"
    extractor = Extractor(
        base_url=f"{server.base_url}?api_key={token}",
        api_key=KEY,
        cache=True,
        cache_dir=tmp_path,
    )
    extractor.extract(TEXT)
    extractor.extract(TEXT)
    assert len(server.requests) == 1
    extractor.close()
    files = list(tmp_path.iterdir())
    assert files  # the store, its WAL and shared-memory files
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and token.encode() not in data
        assert b"Bearer" not in data


def test_a_reply_that_echoes_the_key_is_not_stored(
    server: ScriptedServer, tmp_path: Path, run: Run
) -> None:
    body = completion(GOOD)
    body["id"] = f"chatcmpl-{KEY}"  # a hostile server repeats the key in its reply
    server.responder = lambda request: Reply(body)
    result = run(make(server, tmp_path))
    assert result.quotes  # the reply is used, only not kept
    assert stored(tmp_path) == 0
    for path in tmp_path.iterdir():
        assert KEY.encode() not in path.read_bytes()


def test_a_hit_is_marked_and_sends_nothing(server: ScriptedServer, tmp_path: Path) -> None:
    server.responder = lambda request: ok()
    settings = load_settings(base_url=server.base_url, cache=True, cache_dir=tmp_path)
    body = b'{"model": "m", "messages": []}'
    with http_client(settings) as client:
        first = client.post(f"{server.base_url}/chat/completions", content=body)
        second = client.post(f"{server.base_url}/chat/completions", content=body)
    assert first.headers.get(CACHE_HEADER) is None
    assert second.headers[CACHE_HEADER] == "hit"
    assert second.json() == first.json() and len(server.requests) == 1


def test_request_key() -> None:
    url = "http://127.0.0.1:8000/v1/chat/completions"
    body = b'{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}'
    key = request_key("POST", url, body)
    assert len(key) == 64
    # Key order and spacing in the JSON do not matter; a credential in the query does not either.
    same = b'{"messages":[{"content":"x","role":"user"}],"model":"gpt-4o-mini"}'
    assert request_key("POST", url, same) == key
    assert request_key("POST", url + "?api_key=sk-abcdefghijkl", body) == key
    assert request_key("POST", "http://127.0.0.1:8000/v1/chat/completions?key=k2", body) == key
    # Anything else that can change the answer does.
    assert request_key("POST", url + "?api-version=2024-10-21", body) != key
    assert request_key("POST", url.replace("8000", "8001"), body) != key
    assert request_key("POST", url.replace("/v1/", "/v2/"), body) != key
    assert request_key("POST", url, body.replace(b"mini", b"nano")) != key
    assert request_key("POST", url, b"not json") != request_key("POST", url, b"not json!")


def test_the_store_is_bounded(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path, max_bytes=200_000)
    for number in range(60):
        assert cache.put(f"k{number}", StoredReply(200, "application/json", b"x" * 10_000))
    count, size = cache.stats()
    assert size <= 200_000 and count < 60
    assert cache.get("k59") is not None and cache.get("k0") is None  # the oldest went first


def test_only_200_replies_are_stored(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    assert not cache.put("k", StoredReply(500, "application/json", b"{}"))
    assert cache.get("k") is None


def test_clear(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    for number in range(3):
        cache.put(f"k{number}", StoredReply(200, "application/json", b"{}"))
    assert cache.clear() == 3
    assert cache.stats() == (0, 0)


def test_threads_share_the_store(tmp_path: Path) -> None:
    caches = [ResponseCache(tmp_path), ResponseCache(tmp_path)]  # two connections, one file
    problems: list[str] = []

    def worker(number: int) -> None:
        cache = caches[number % 2]
        for item in range(40):
            key = f"{number}-{item}"
            cache.put(key, StoredReply(200, "application/json", key.encode()))
            shared = cache.get(f"{(number + 1) % 8}-{item}")
            if shared is not None and shared.body != f"{(number + 1) % 8}-{item}".encode():
                problems.append(key)
            if cache.get(key) != StoredReply(200, "application/json", key.encode()):
                problems.append(key)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert problems == []
    assert caches[0].stats()[0] == 8 * 40


def _process_worker(folder: str, number: int) -> int:
    """Write 50 replies and read back everyone's (run in a separate process)."""
    cache = ResponseCache(Path(folder))
    for item in range(50):
        cache.put(f"{number}-{item}", StoredReply(200, "application/json", b"%d" % item))
    seen = 0
    for other in range(4):
        for item in range(50):
            reply = cache.get(f"{other}-{item}")
            if reply is not None:
                assert reply.body == b"%d" % item
                seen += 1
    return seen


def test_processes_share_the_store(tmp_path: Path) -> None:
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(4) as pool:
        seen = pool.starmap(_process_worker, [(str(tmp_path), n) for n in range(4)])
    assert all(50 <= count <= 200 for count in seen)  # its own, and others' already written
    assert ResponseCache(tmp_path).stats()[0] == 200


def test_an_unusable_folder_is_a_clear_error(
    server: ScriptedServer, tmp_path: Path, run: Run
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigurationError, match="response cache") as caught:
        run(make(server, blocker))
    assert "EXTRACTOR_CACHE_DIR" in str(caught.value) and server.requests == []


def test_a_corrupt_store_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(ConfigurationError, match="delete the file"):
        ResponseCache(tmp_path).open()


def test_cache_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EXTRACTOR_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("EXTRACTOR_CACHE", "true")
    settings = load_settings()
    assert settings.cache is True and settings.cache_dir == tmp_path
    monkeypatch.setenv("EXTRACTOR_CACHE_DIR", "")
    assert load_settings().cache_dir is None
    assert load_settings(cache_dir="~/x").cache_dir == Path.home() / "x"
    assert default_cache_dir() == Path.home() / ".cache" / "extractor"
    for bad in ("0", "-5", "inf", "nan"):
        monkeypatch.setenv("EXTRACTOR_REQUESTS_PER_MINUTE", bad)
        with pytest.raises(ConfigurationError, match="requests_per_minute"):
            load_settings()
    monkeypatch.setenv("EXTRACTOR_REQUESTS_PER_MINUTE", "60")
    monkeypatch.setenv("EXTRACTOR_TOKENS_PER_MINUTE", "150000")
    settings = load_settings()
    assert (settings.requests_per_minute, settings.tokens_per_minute) == (60, 150_000)


def test_the_cache_command(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from extractor.cli import app

    runner = CliRunner()
    folder = str(tmp_path / "cache")
    done = runner.invoke(app, ["cache", "--cache-dir", folder])
    assert done.exit_code == 0 and "no response cache at" in done.output
    assert not (tmp_path / "cache").exists()  # looking creates nothing
    store = ResponseCache(tmp_path / "cache")
    for number in range(3):
        store.put(f"k{number}", StoredReply(200, "application/json", b"{}"))
    store.close()
    done = runner.invoke(app, ["cache", "info", "--cache-dir", folder])
    assert done.exit_code == 0 and "3 cached replies" in done.output and FILE_NAME in done.output
    done = runner.invoke(app, ["cache", "clear", "--cache-dir", folder])
    assert done.exit_code == 0 and "removed 3 cached replies" in done.output
    assert ResponseCache(tmp_path / "cache").stats() == (0, 0)
    (tmp_path / "cache" / FILE_NAME).unlink()
    (tmp_path / "cache" / FILE_NAME).write_bytes(b"not a database" * 100)
    done = runner.invoke(app, ["cache", "clear", "--cache-dir", folder])
    assert done.exit_code == 2 and done.output.startswith("error: the response cache at")


def test_the_cache_and_the_limiter_import_without_openai() -> None:
    code = (
        "import sys, extractor.cache, extractor.ratelimit; "
        "print(sorted({'openai', 'instructor', 'httpx2'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_repeats_are_numbered_and_a_failed_one_gives_its_number_back() -> None:
    repeats = Repeats()
    first, second, third = (repeats.take("k") for _ in range(3))
    assert first == "k" and len({first, second, third}) == 3
    repeats.give_back(second)  # no reply to keep: its retry takes the same number
    assert repeats.take("k") == second
    assert repeats.take("other") == "other"


def test_several_passes_outside_an_article_are_not_cached(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.responder = lambda request: ok()
    settings = load_settings(
        base_url=server.base_url, cache=True, cache_dir=tmp_path, extraction_passes=2
    )
    body = b'{"model": "m", "messages": []}'
    with http_client(settings) as client:
        for _ in range(2):
            client.post(f"{server.base_url}/chat/completions", content=body)
    assert len(server.requests) == 2 and stored(tmp_path) == 0


def test_each_extraction_pass_keeps_its_own_reply(
    server: ScriptedServer, tmp_path: Path, run: Run
) -> None:
    # Two passes send the very same request; the hand-written replies differ (as a model's
    # samples may), and the re-run must give each pass its own, not the first one twice.
    server.replies.extend(
        [
            Reply(completion({"quotes": [replies.QUOTES[0]]})),
            Reply(completion({"quotes": [replies.QUOTES[1]]})),
        ]
    )
    first = run(make(server, tmp_path, extraction_passes=2))
    again = run(make(server, tmp_path, extraction_passes=2))
    assert len(server.requests) == 2 and server.requests[0] == server.requests[1]
    assert again.usage.cached_requests == 2 and again.usage.requests == 0
    confirmed = sorted(q.text for q in again.quotes if q.confirmed)
    assert confirmed == ["negative attitude", "one of the root causes"]
    assert again.quotes == first.quotes
