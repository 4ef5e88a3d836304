"""An Extractor's connections: reuse across event loops, close(), aclose() and ``with``.

Replies are HAND-WRITTEN, served by the scripted server on 127.0.0.1 (tests/scripted_server.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import warnings
from collections.abc import Iterator

import openai
import pytest

from extractor import Extractor

from handwritten import replies
from scripted_server import Reply, ScriptedServer, completion

TEXT = 'Peskov said Moscow held a "negative attitude" toward the plan.'


def ok() -> Reply:
    return Reply(completion({"quotes": [replies.QUOTES[0]]}, prompt_tokens=10, completion_tokens=2))


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """The scripted server, keeping connections alive (HTTP/1.1) as real servers do."""
    scripted = ScriptedServer()
    scripted._httpd.RequestHandlerClass.protocol_version = "HTTP/1.1"  # type: ignore[attr-defined]
    with scripted:
        yield scripted


@pytest.fixture
def strict(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Warnings are errors, an unclosed connection's ResourceWarning is caught when collected, and
    asyncio logs nothing ("Task exception was never retrieved", "Task was destroyed")."""
    gc.collect()  # what earlier tests left behind is theirs, not this test's: collect it first
    caplog.set_level(logging.DEBUG, logger="asyncio")
    caplog.clear()
    unraisable: list[str] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: unraisable.append(repr(u.exc_value)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
        gc.collect()
    assert unraisable == []
    assert not [r for r in caplog.records if r.name == "asyncio"], caplog.text


def test_an_extractor_that_is_never_closed_leaves_nothing_open(
    server: ScriptedServer, strict: None
) -> None:
    """asyncio.run's end closes the connections of an Extractor made and dropped inside it."""
    server.replies.extend([ok(), ok()])

    async def main() -> None:
        extractor = Extractor("m", base_url=server.base_url, api_key="k")
        await asyncio.gather(extractor.aextract(TEXT), extractor.aextract(TEXT))

    asyncio.run(main())


def test_one_extractor_in_two_event_loops_sends_one_request_each(
    server: ScriptedServer, strict: None
) -> None:
    server.replies.extend([ok(), ok()])
    extractor = Extractor("m", base_url=server.base_url, api_key="k", max_reasks=0)
    for _ in range(2):
        result = asyncio.run(extractor.aextract(TEXT))
        assert result.usage.requests == 1 and result.usage.total_tokens == 12
    assert len(server.requests) == 2
    extractor.close()


def test_sync_with_closes_the_clients(server: ScriptedServer, strict: None) -> None:
    server.replies.extend([ok(), ok()])
    with Extractor("m", base_url=server.base_url, api_key="k") as extractor:
        assert extractor.extract(TEXT).usage.requests == 1
        assert asyncio.run(extractor.aextract(TEXT)).usage.requests == 1
        sync = extractor._client._sync
        assert extractor._client._async == {}  # closed when its loop ended
    assert sync is not None and sync.is_closed()
    extractor.close()  # closing twice is harmless


def test_async_with_closes_the_clients(server: ScriptedServer, strict: None) -> None:
    server.replies.extend([ok(), ok()])

    async def main() -> openai.AsyncOpenAI | None:
        async with Extractor("m", base_url=server.base_url, api_key="k") as extractor:
            await extractor.aextract(TEXT)
            await extractor.aextract(TEXT)
            [(client, _)] = extractor._client._async.values()
        return client

    client = asyncio.run(main())
    assert client is not None and client.is_closed()
    assert len(server.requests) == 2


def test_closed_extractor_builds_new_clients_on_next_use(
    server: ScriptedServer, strict: None
) -> None:
    server.replies.extend([ok(), ok()])
    extractor = Extractor("m", base_url=server.base_url, api_key="k")
    extractor.extract(TEXT)
    extractor.close()
    assert extractor.extract(TEXT).usage.requests == 1
    extractor.close()


def test_callers_own_clients_are_left_open(server: ScriptedServer, strict: None) -> None:
    """Clients the caller passed are the caller's to close."""
    sync = openai.OpenAI(base_url=server.base_url, api_key="k")
    server.replies.append(ok())

    async def main() -> openai.AsyncOpenAI:
        async_ = openai.AsyncOpenAI(base_url=server.base_url, api_key="k")
        async with Extractor("m", client=sync, async_client=async_) as extractor:
            await extractor.aextract(TEXT)
        assert not async_.is_closed()
        await async_.close()
        return async_

    asyncio.run(main())
    with Extractor("m", client=sync):
        pass
    assert not sync.is_closed()
    sync.close()


def test_an_extractor_dropped_without_close_leaves_nothing_open(
    server: ScriptedServer, strict: None
) -> None:
    server.replies.append(ok())
    extractor = Extractor("m", base_url=server.base_url, api_key="k")
    extractor.extract(TEXT)
    del extractor  # collected: its client is closed with it
