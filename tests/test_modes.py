"""Each structured-output mode, end to end: the request it sends and the reply it reads.

The replies are HAND-WRITTEN (tests/scripted_server.py serves them on 127.0.0.1); what real
servers make of each mode is in tests/test_local_server.py, recorded from a real server.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from extractor import Extractor, Mode

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


@pytest.mark.parametrize("mode", list(Mode))
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
    assert "<article>\n" + TEXT in request["messages"][-1]["content"]
