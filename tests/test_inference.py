"""The model client: callers' own OpenAI clients, and which server an error names.

Replies are HAND-WRITTEN, served by the scripted server on 127.0.0.1 (tests/scripted_server.py).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path
from typing import Any

import openai
import pytest

from extractor import Extractor, ModelNotFoundError, RateLimitError

from handwritten import replies
from scripted_server import Reply, ScriptedServer, completion, error_body

TEXT = 'Peskov said Moscow held a "negative attitude" toward the plan.'


def test_callers_own_clients_are_used_without_their_retries(
    server: ScriptedServer, no_sleep: list[float]
) -> None:
    """openai's own retries stay off: ours count and log them (max_transient_retries=1 here)."""
    sync = openai.OpenAI(base_url=server.base_url, api_key="k", max_retries=5)
    async_ = openai.AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=5)
    extractor = Extractor("m", client=sync, async_client=async_, max_transient_retries=1)
    server.replies.extend([Reply(completion({"quotes": [replies.QUOTES[0]]}))] * 2)
    assert extractor.extract(TEXT).quotes[0].text == "negative attitude"
    assert asyncio.run(extractor.aextract(TEXT)).quotes[0].text == "negative attitude"
    server.replies.extend([Reply(error_body("slow down"), status=429)] * 2)
    with pytest.raises(RateLimitError) as caught:
        extractor.extract(TEXT)
    assert caught.value.attempts == 2 and len(server.requests) == 4
    assert len(no_sleep) == 1


def test_errors_name_the_server_the_failing_request_went_to(server: ScriptedServer) -> None:
    """A caller's sync client points elsewhere; the async request's error names its own server."""
    elsewhere = openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="k")
    extractor = Extractor("m", base_url=server.base_url, api_key="k", client=elsewhere)
    server.replies.append(Reply(error_body("no such model"), status=404))
    with pytest.raises(ModelNotFoundError) as caught:
        asyncio.run(extractor.aextract(TEXT))
    assert server.base_url in str(caught.value) and "127.0.0.1:9/" not in str(caught.value)


def test_concurrent_async_calls_keep_their_own_usage_and_spans(server: ScriptedServer) -> None:
    """Per-call state (usage, grounding) lives in the call, not in the Extractor."""
    # Either reply may reach either call: both articles hold both quotes, at different offsets.
    first = 'Peskov held a "negative attitude"; NATO was "one of the root causes".'
    second = 'It was "one of the root causes", said Peskov, with a "negative attitude".'
    server.replies.extend(
        [
            Reply(
                completion({"quotes": [replies.QUOTES[0]]}, prompt_tokens=10, completion_tokens=1)
            ),
            Reply(
                completion({"quotes": [replies.QUOTES[1]]}, prompt_tokens=20, completion_tokens=2)
            ),
        ]
    )
    extractor = Extractor("m", base_url=server.base_url, api_key="k")

    async def both() -> list[Any]:
        return list(await asyncio.gather(extractor.aextract(first), extractor.aextract(second)))

    results = asyncio.run(both())
    totals = sorted(r.usage.total_tokens for r in results)
    assert totals == [11, 22]
    for text, result in zip((first, second), results, strict=True):
        # Each call grounds against its own article, whichever reply it got.
        for quote in result.quotes:
            assert quote.span is not None
            assert text[quote.span.start : quote.span.end] == quote.text


def test_instructor_is_used_through_its_public_api_only() -> None:
    """No module imports instructor's internals (instructor.v2.*), so the pin can widen."""
    source = Path(__file__).resolve().parents[1] / "src" / "extractor"
    for path in source.glob("*.py"):
        assert "instructor.v2" not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize(
    ("usage", "counted"),
    [
        ({"prompt_tokens": "many", "completion_tokens": 2, "total_tokens": 12}, (0, 2, 12)),
        ({"prompt_tokens": 1e30, "completion_tokens": 2, "total_tokens": 1e30}, (0, 2, 2)),
        ({"prompt_tokens": -10, "completion_tokens": 2, "total_tokens": -8}, (0, 2, 2)),
        ({"prompt_tokens": None, "completion_tokens": [2], "total_tokens": {"n": 1}}, (0, 0, 0)),
        ({"prompt_tokens": True, "completion_tokens": 2.5, "total_tokens": "12"}, (0, 0, 0)),
        (
            {"prompt_tokens": 10.0, "completion_tokens": 2, "total_tokens": float("nan")},
            (10, 2, 12),
        ),
    ],
)
def test_nonsense_token_counts_are_unknown_and_the_request_still_counts(
    server: ScriptedServer,
    caplog: pytest.LogCaptureFixture,
    usage: dict[str, Any],
    counted: tuple[int, int, int],
) -> None:
    """Each unusable count is unknown, counted as 0 (an unknown total is the sum of the others);
    one warning line for the Extractor, no traceback."""
    caplog.set_level(logging.DEBUG)
    body = completion({"quotes": [replies.QUOTES[0]]})
    body["usage"] = usage
    server.replies.extend([Reply(body), Reply(body)])
    extractor = Extractor("m", base_url=server.base_url, api_key="k")
    for _ in range(2):
        with warnings.catch_warnings(record=True) as warned_by_python:
            warnings.simplefilter("always")
            result = extractor.extract(TEXT)
        assert warned_by_python == []  # instructor warns with a traceback when a hook fails
        assert result.usage.requests == 1
        tokens = result.usage.prompt_tokens, result.usage.completion_tokens
        assert (*tokens, result.usage.total_tokens) == counted
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "token counts" in warned[0].getMessage()
    assert not any(r.exc_info for r in caplog.records)
