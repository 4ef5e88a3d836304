"""Shared fixtures: the article, the endpoint tests talk to, and cassette settings.

Cassettes replay by default (``--record-mode=none`` in pyproject.toml): no test reaches a network.
Re-record the live-recordable tests with ``pytest --record-mode=rewrite -m "not scripted"`` and
``EXTRACTOR_TEST_BASE_URL``, ``EXTRACTOR_TEST_MODEL``, ``OPENAI_API_KEY`` set
(see tests/cassettes/README.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from extractor import Article, read_article

from scripted_server import ScriptedServer

ROOT = Path(__file__).resolve().parents[1]
ARTICLE_PATH = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
RECORDED = ROOT / "tests" / "cassettes" / "test_extractor"  # the hand-written recordings

# Where hand-written replies were recorded from (tests/handwritten/record.py); replay ignores host.
SCRIPTED_BASE_URL = "http://127.0.0.1:8799/v1"
FAKE_KEY = "sk-test-not-a-real-key-0123456789"


# Property tests draw the same examples on every run (CI cannot fail at random on an example no
# one saw before); `pytest --hypothesis-profile=explore` draws new ones to hunt for bugs.
# No deadline: a per-example time limit is a wall-clock assertion, and fails on a busy machine.
hypothesis_settings.register_profile("default", derandomize=True, deadline=None)
hypothesis_settings.register_profile("explore", derandomize=False, max_examples=1000, deadline=None)
hypothesis_settings.load_profile("default")


@pytest.fixture(scope="session")
def article() -> Article:
    """The shared article, date line read off as its publication date."""
    return read_article(ARTICLE_PATH, max_chars=1_000_000)


@pytest.fixture
def endpoint(record_mode: str) -> dict[str, Any]:
    """Model, base URL and key for live-recordable tests; the recorded ones when replaying."""
    if record_mode == "none":
        return {"model": "gpt-4o-mini", "base_url": SCRIPTED_BASE_URL, "api_key": FAKE_KEY}
    return {
        "model": os.environ.get("EXTRACTOR_TEST_MODEL", "gpt-4o-mini"),
        "base_url": os.environ.get("EXTRACTOR_TEST_BASE_URL"),
        "api_key": os.environ.get("OPENAI_API_KEY", FAKE_KEY),
    }


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    for header in ("set-cookie", "openai-organization", "openai-project"):
        response["headers"].pop(header, None)
        response["headers"].pop(header.title(), None)
    return response


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    """Keys never reach a cassette; replay matches on method and path, whatever the host."""
    return {
        "filter_headers": [
            ("authorization", "REDACTED"),
            ("api-key", "REDACTED"),
            ("openai-organization", None),
            ("openai-project", None),
            ("cookie", None),
        ],
        "match_on": ["method", "path"],
        "decode_compressed_response": True,
        "before_record_response": _scrub_response,
    }


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry waits return at once; the list holds the waits asked for, for tests to assert."""
    waits: list[float] = []

    async def asleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("extractor.retry.sleep", waits.append)
    monkeypatch.setattr("extractor.retry.asleep", asleep)
    return waits


@pytest.fixture
def no_live_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No key or base URL from the environment: the command line's no-model path, as on a fresh
    machine (use with ``pytestmark = pytest.mark.usefixtures("no_live_credentials")``)."""
    for name in ("OPENAI_API_KEY", "EXTRACTOR_API_KEY", "OPENAI_BASE_URL", "EXTRACTOR_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A real HTTP server on 127.0.0.1 that answers with the HAND-WRITTEN replies a test queues."""
    with ScriptedServer() as scripted:
        yield scripted
