"""Each structured-output mode, end to end: the request it sends and the reply it reads.

The replies are HAND-WRITTEN (tests/scripted_server.py serves them on 127.0.0.1); what real
servers make of each mode is in tests/test_local_server.py, recorded from a real server.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from pydantic import BaseModel

from extractor import ExtractionError, Extractor, Mode, Verbatim
from extractor.prompting import strip_markers

from handwritten import replies
from scripted_server import Reply, ScriptedServer, completion

TEXT = 'Peskov said Moscow held a "negative attitude" toward the plan.'
ARGUMENTS = {"quotes": [replies.QUOTES[0]]}


def content_reply(content: str) -> dict[str, Any]:
    body = completion(ARGUMENTS, finish_reason="stop")
    body["choices"][0]["message"] = {"role": "assistant", "content": content}
    return body


REPLIES = {
    Mode.TOOLS: completion(ARGUMENTS),
    Mode.JSON: content_reply(json.dumps(ARGUMENTS)),
    Mode.JSON_SCHEMA: content_reply(json.dumps(ARGUMENTS)),
    Mode.MD_JSON: content_reply(f"Here it is:\n```json\n{json.dumps(ARGUMENTS)}\n```"),
}


@pytest.mark.parametrize("mode", list(REPLIES))  # not auto: it probes (tests/test_doctor.py)
def test_mode_round_trip(server: ScriptedServer, mode: Mode) -> None:
    server.replies.append(Reply(REPLIES[mode]))
    result = Extractor("m", base_url=server.base_url, api_key="k", mode=mode).extract(TEXT)
    assert result.quotes[0].text == "negative attitude" and result.quotes[0].span is not None

    request = server.requests[0]
    if mode is Mode.TOOLS:
        parameters = request["tools"][0]["function"]["parameters"]
        assert "span" not in json.dumps(parameters)  # library fields are not the model's
        assert request["tool_choice"]["function"]["name"] == "ArticleExtraction"
    elif mode is Mode.JSON:
        assert request["response_format"]["type"] == "json_object"
    elif mode is Mode.JSON_SCHEMA:
        schema = request["response_format"]["json_schema"]["schema"]
        assert "usage" not in schema["properties"]
    else:
        assert "response_format" not in request and "tools" not in request
    # The article always travels as delimited data in the last user message.
    # The article as sent, quotation markers ([Q1] before each opening mark) taken out.
    assert "<article>\n" + TEXT in strip_markers(request["messages"][-1]["content"])


def extract(extractor: Extractor, text: str, path: str) -> Any:
    """`text` extracted on the sync or the async path."""
    return extractor.extract(text) if path == "sync" else asyncio.run(extractor.aextract(text))


def tool_calls_reply(*arguments: dict[str, Any] | str, name: str = "ArticleExtraction") -> Reply:
    """A tools-mode reply making one call per item of `arguments`."""
    body = completion({})
    body["choices"][0]["message"]["tool_calls"] = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {
                "name": name,
                "arguments": item if isinstance(item, str) else json.dumps(item),
            },
        }
        for i, item in enumerate(arguments)
    ]
    return Reply(body)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_records_of_every_tool_call_are_kept(server: ScriptedServer, path: str) -> None:
    """A reply with two calls to the schema's tool: both calls' records, merged, in one request."""
    text = 'Peskov held a "negative attitude"; NATO was "one of the root causes".'
    server.replies.append(
        tool_calls_reply({"quotes": [replies.QUOTES[0]]}, {"quotes": [replies.QUOTES[1]]})
    )
    extractor = Extractor("m", base_url=server.base_url, api_key="k")
    result = extract(extractor, text, path)
    assert [q.text for q in result.quotes] == ["negative attitude", "one of the root causes"]
    assert all(q.span is not None for q in result.quotes)
    assert result.usage.requests == 1


class Headline(BaseModel):
    """The article's headline and its quotes."""

    headline: str
    quotes: list[Verbatim]


def test_tool_calls_that_cannot_be_merged_are_reasked(server: ScriptedServer) -> None:
    """Two calls disagreeing on a single value: not silently the first; asked again, then one."""
    server.replies.extend(
        [
            tool_calls_reply(
                {"headline": "Peace plan", "quotes": ["negative attitude"]},
                {"headline": "Other plan", "quotes": []},
                name="Headline",
            ),
            tool_calls_reply(
                {"headline": "Peace plan", "quotes": ["negative attitude"]}, name="Headline"
            ),
        ]
    )
    extractor = Extractor("m", base_url=server.base_url, api_key="k")
    result = extractor.extract(TEXT, schema=Headline)
    assert result.data.headline == "Peace plan" and result.usage.requests == 2
    reask = json.dumps(server.requests[1]["messages"][-2:])
    assert "Other plan" in reask  # the model is shown both of its calls


def test_tool_calls_that_cannot_be_merged_end_in_extraction_error(server: ScriptedServer) -> None:
    server.replies.append(
        tool_calls_reply(
            {"headline": "Peace plan", "quotes": []}, '{"headline": "Oth', name="Headline"
        )
    )
    extractor = Extractor("m", base_url=server.base_url, api_key="k", max_reasks=0)
    with pytest.raises(ExtractionError) as caught:
        extractor.extract(TEXT, schema=Headline)
    assert "2 tool calls" in str(caught.value)
    assert caught.value.raw_reply is not None and "Oth" in caught.value.raw_reply


GARBLED = "Here is the JSON:\n```json\n" + '{"quotes": [{"text": "neg' * 60 + "\n```"


@pytest.mark.parametrize("path", ["sync", "async"])
def test_md_json_garbage_is_reasked(server: ScriptedServer, path: str) -> None:
    """A garbled md_json reply is the model's fault: asked again, not a server failure."""
    server.replies.extend([Reply(content_reply(GARBLED)), Reply(REPLIES[Mode.MD_JSON])])
    extractor = Extractor("m", base_url=server.base_url, api_key="k", mode=Mode.MD_JSON)
    result = extract(extractor, TEXT, path)
    assert result.quotes[0].text == "negative attitude" and result.usage.requests == 2


@pytest.mark.parametrize(
    "content",
    [
        GARBLED,
        "I cannot find any quotes, sorry.",
        "```json\n" + "[" * 200 + "]" * 200 + "\n```",  # deeper than instructor reads
        "{" * 5000,
    ],
)
def test_md_json_garbage_ends_in_extraction_error(server: ScriptedServer, content: str) -> None:
    server.replies.extend([Reply(content_reply(content))] * 2)
    extractor = Extractor(
        "m", base_url=server.base_url, api_key="k", mode=Mode.MD_JSON, max_reasks=1
    )
    with pytest.raises(ExtractionError) as caught:
        extractor.extract(TEXT)
    assert "no JSON object" in str(caught.value) and caught.value.usage is not None
    assert caught.value.usage.requests == 2 and len(server.requests) == 2
    assert caught.value.raw_reply == content


@pytest.mark.parametrize(
    "content",
    [
        f"Sure. {json.dumps(ARGUMENTS)} Hope this helps!",
        f"```\n{json.dumps(ARGUMENTS)}\n```\nNote: {{not json",
        f"{json.dumps(ARGUMENTS)}\n" + "{" * 3000,
        f"```json\n{{broken\n```\n```json\n{json.dumps(ARGUMENTS)}\n```",
    ],
)
def test_md_json_finds_the_json_around_prose_and_debris(
    server: ScriptedServer, content: str
) -> None:
    server.replies.append(Reply(content_reply(content)))
    extractor = Extractor("m", base_url=server.base_url, api_key="k", mode=Mode.MD_JSON)
    result = extractor.extract(TEXT)
    assert result.quotes[0].text == "negative attitude" and result.usage.requests == 1
