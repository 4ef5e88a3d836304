"""The HTTP layer beneath openai: deadlines in scope, every transport bounded, callers' clients.

Fault behaviour against a real server (trickles, gzip bombs) is in tests/test_faults.py.
"""

from __future__ import annotations

import time

import openai
import pytest

from extractor import BadResponseError, Extractor, Settings
from extractor.transport import (
    AsyncBoundedTransport,
    BoundedTransport,
    async_http_client,
    current_deadline,
    deadline_scope,
    http_client,
)

from scripted_server import Reply, ScriptedServer, completion


def test_an_earlier_deadline_is_kept() -> None:
    soon = time.monotonic() + 5
    with deadline_scope(soon):
        with deadline_scope(soon + 100):
            assert current_deadline() == soon
        with deadline_scope(soon - 1):
            assert current_deadline() == soon - 1
        with deadline_scope(None):
            assert current_deadline() == soon
    assert current_deadline() is None


def test_proxies_from_the_environment_are_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    settings = Settings()
    with http_client(settings) as client:
        mounted = [t for t in client._mounts.values() if t is not None]
        assert mounted and all(isinstance(t, BoundedTransport) for t in mounted)
        assert isinstance(client._transport, BoundedTransport)


async def test_async_clients_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    async with async_http_client(Settings()) as client:
        transports = [client._transport, *(t for t in client._mounts.values() if t)]
        assert all(isinstance(t, AsyncBoundedTransport) for t in transports)


def test_a_callers_client_gets_the_bounds_through_http_client(server: ScriptedServer) -> None:
    """Own clients (Azure, proxies) keep their options; http_client adds timeout and size bounds."""
    settings = Settings(max_reply_bytes=4096)
    body = completion({"quotes": []})
    body["padding"] = "x" * 8192  # hand-written: a reply larger than the cap
    server.replies.append(Reply(body))
    own = openai.OpenAI(api_key="k", base_url=server.base_url, http_client=http_client(settings))
    with pytest.raises(BadResponseError, match="max_reply_bytes"):
        Extractor("m", settings=settings, client=own).extract("Peskov spoke.")
    assert len(server.requests) == 1
