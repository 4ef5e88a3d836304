"""Against real OpenAI-compatible servers serving SmolLM2-135M-Instruct: llama-cpp-python's
(scripts/local-llm.sh, port 8765) and upstream llama.cpp's llama-server (scripts/llama-server.sh,
port 8766), which disagree on modes.

The cassettes here were recorded from those real servers; nothing in them was written by hand.
The model is tiny: these tests prove the HTTP path, modes, re-asks and grounding, not quality.
Whatever it says, the library must return fully grounded records or a clean error.
Re-record with both servers running:
    EXTRACTOR_LOCAL_LLM_URL=http://127.0.0.1:8765/v1 \
    EXTRACTOR_LLAMA_SERVER_URL=http://127.0.0.1:8766/v1 \
        pytest tests/test_local_server.py --record-mode=rewrite -m "not live"
The test marked ``live`` talks to the server itself (``pytest -m live``), starting it if needed.
"""

from __future__ import annotations

import os
import subprocess
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
    """The contract under a weak model: all records grounded, or an ExtractionError saying why."""
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
def test_tools_mode_grounded_or_clean_error(local: dict[str, Any], article: Article) -> None:
    check_grounded_or_clean_error(local, article)


@pytest.mark.vcr
def test_json_mode_grounded_or_clean_error(local: dict[str, Any], article: Article) -> None:
    check_grounded_or_clean_error({**local, "mode": "json"}, article)


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
    assert caught.value.attempts == 2 and len(no_sleep) == 1
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
@pytest.mark.parametrize("mode", ["json_schema", "tools"])
def test_llama_server_grounded_or_clean_error(
    llama_server: dict[str, Any], article: Article, mode: str
) -> None:
    """llama-server takes OpenAI's json_schema format, which llama-cpp-python's server refuses."""
    check_grounded_or_clean_error({**llama_server, "mode": mode}, article)


@pytest.fixture(scope="session")
def live_server() -> str:
    """The running local server's URL, starting it (scripts/local-llm.sh) when none is given."""
    url = os.environ.get("EXTRACTOR_LOCAL_LLM_URL")
    if url:
        return url
    started = subprocess.run(
        ["bash", str(ROOT / "scripts" / "local-llm.sh"), "8765"],
        check=True,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    return started.stdout.strip().splitlines()[-1]


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
    """Both real servers refuse a prompt over their 8,192-token context, each in its own words."""
    options = local if server == "llama-cpp-python" else llama_server
    too_long = "\n\n".join([article.text] * 25)  # about 10,800 tokens
    with pytest.raises(RequestRejectedError) as caught:
        Extractor(**{**options, "max_tokens": 50, "max_transient_retries": 0}).extract(too_long)
    assert caught.value.status == 400 and caught.value.attempts == 1
    assert "too long for this model's context: split it" in str(caught.value)
