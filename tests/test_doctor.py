"""`extractor doctor` and ``mode="auto"``, against a scripted server.

Every reply here is HAND-WRITTEN (tests/scripted_server.py serves it on 127.0.0.1) to stand in for
a server that honours some modes and not others; the refusals copy what the real servers said
when probed by hand (llama-cpp-python 0.3.36's HTTP 500 for json_schema, llama-server answering
a forced tool call in plain text). The real servers themselves: tests/test_doctor_live.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from extractor import (
    AuthenticationError,
    ConfigurationError,
    ConnectionFailedError,
    Extractor,
    Mode,
)
from extractor.cli import app
from extractor.doctor import (
    LIMIT_TOKENS,
    ORDER,
    Diagnosis,
    ModeResult,
    diagnose,
    memory_path,
    recommend,
    remember_mode,
    remembered_mode,
    resolve_mode,
)
from extractor.settings import Settings, load_settings

from handwritten import replies
from scripted_server import Reply, ScriptedServer, completion, error_body

runner = CliRunner()

# HAND-WRITTEN replies, one per kind of request the doctor sends.
ANSWER = {"city": "Geneva", "year": 1864}


def text_reply(
    content: str | None,
    *,
    finish_reason: str = "stop",
    completion_tokens: int = 12,
    usage: Any = "sane",
) -> Reply:
    """A chat completion whose message is plain `content` (HAND-WRITTEN)."""
    body = completion({}, finish_reason=finish_reason, completion_tokens=completion_tokens)
    body["choices"][0]["message"] = {"role": "assistant", "content": content}
    body["usage"]["prompt_tokens"] = 40
    body["usage"]["total_tokens"] = 40 + completion_tokens
    if usage != "sane":
        body["usage"] = usage
        if usage is None:
            del body["usage"]
    return Reply(body=body)


HONOURS = {
    "tools": Reply(body=completion(ANSWER, name="ProbeAnswer", prompt_tokens=40)),
    "json_schema": text_reply(json.dumps(ANSWER)),
    "json": text_reply(json.dumps(ANSWER)),
    "md_json": text_reply(f"Here:\n```json\n{json.dumps(ANSWER)}\n```"),
    # The max_tokens probe: cut at the cap, as both real servers did.
    "plain": text_reply("one, two, three, four", finish_reason="length", completion_tokens=8),
}
# What llama-cpp-python 0.3.36's server answered to response_format json_schema (shortened).
REFUSES_JSON_SCHEMA = Reply(
    status=500,
    body=error_body(
        "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
        "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema'}",
        "internal_server_error",
    ),
)
# What llama-server answered to a forced tool call: no tool call, the text in plain words.
NO_TOOL_CALL = text_reply("The Red Cross convention was signed in Geneva in 1864.")
OFF_SCHEMA = text_reply('{"city": "Geneva", "country": "Switzerland"}')
PROSE = text_reply("It was Geneva, in 1864.")

# The article the Extractor is given once a mode is chosen, and its reply (HAND-WRITTEN).
TEXT = 'Peskov said Moscow held a "negative attitude" toward the plan.'
ARGUMENTS = {"quotes": [replies.QUOTES[0]]}


def kind_of(request: dict[str, Any]) -> str:
    """Which request this is: a mode probe (by its mode), the max_tokens probe, or an extraction."""
    if "ProbeAnswer" not in json.dumps(request):
        return "plain" if request.get("max_tokens") == LIMIT_TOKENS else "extract"
    if "tools" in request:
        return "tools"
    kind = request.get("response_format", {}).get("type")
    return {"json_schema": "json_schema", "json_object": "json"}.get(kind, "md_json")


def extraction_reply(request: dict[str, Any]) -> Reply:
    """The article's reply in whatever mode the request was sent (HAND-WRITTEN)."""
    if "tools" in request:
        return Reply(body=completion(ARGUMENTS))
    return text_reply(json.dumps(ARGUMENTS))


def serve(server: ScriptedServer, **answers: Reply) -> list[str]:
    """Answer each request by its kind: `answers` first, else as a server honouring it would.

    Returns the kinds of the requests received, in order.
    """
    kinds: list[str] = []

    def respond(request: dict[str, Any]) -> Reply:
        kind = kind_of(request)
        kinds.append(kind)
        if kind == "extract":
            return extraction_reply(request)
        return answers.get(kind, HONOURS[kind])

    server.responder = respond
    return kinds


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the user's memory of modes or a live key."""
    monkeypatch.setenv("EXTRACTOR_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("OPENAI_API_KEY", "EXTRACTOR_API_KEY", "OPENAI_BASE_URL", "EXTRACTOR_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def settings_for(server: ScriptedServer, **options: Any) -> Settings:
    return load_settings(model="m", base_url=server.base_url, **options)


def works(found: Diagnosis) -> dict[str, bool]:
    return {result.mode.value: result.works for result in found.modes}


def detail(found: Diagnosis, mode: str) -> str:
    return next(r.detail for r in found.modes if r.mode.value == mode)


# The probes


def test_a_server_honouring_every_mode_gets_tools_and_one_request_per_probe(
    server: ScriptedServer,
) -> None:
    kinds = serve(server)
    found = diagnose(settings_for(server))
    assert works(found) == {"tools": True, "json_schema": True, "json": True, "md_json": True}
    assert found.recommended is Mode.TOOLS
    assert kinds == ["plain", "tools", "json_schema", "json", "md_json"]
    assert detail(found, "md_json") == '{"city":"Geneva","year":1864}'
    assert all(result.seconds >= 0 for result in found.modes)
    assert found.max_tokens.ok is True and found.usage.ok is True
    assert found.usage.detail == "40 prompt + 8 completion tokens"
    # The probes ask for the tiny schema with no re-ask and the probe's cap.
    assert all(request["max_tokens"] == 256 for request in server.requests[1:])
    assert server.requests[0]["max_tokens"] == LIMIT_TOKENS


def test_a_server_honouring_only_tools(server: ScriptedServer) -> None:
    serve(server, json_schema=PROSE, json=OFF_SCHEMA, md_json=PROSE)
    found = diagnose(settings_for(server))
    assert works(found) == {"tools": True, "json_schema": False, "json": False, "md_json": False}
    assert found.recommended is Mode.TOOLS
    assert detail(found, "json").startswith("reply off the schema: year: Field required")
    assert "country: Extra inputs are not permitted" in detail(found, "json")
    assert "no JSON object" in detail(found, "md_json")


def test_a_server_answering_500_to_json_schema(server: ScriptedServer) -> None:
    """llama-cpp-python's server: json_schema is a 500 naming the bad field, never retried."""
    kinds = serve(server, json_schema=REFUSES_JSON_SCHEMA)
    found = diagnose(settings_for(server))
    assert works(found)["json_schema"] is False
    assert kinds.count("json_schema") == 1
    assert detail(found, "json_schema").startswith("HTTP 500: 1 validation error:")
    assert "Input should be 'text' or 'json_object'" in detail(found, "json_schema")
    assert found.recommended is Mode.TOOLS


def test_a_server_with_no_tool_calls_is_recommended_json_schema(server: ScriptedServer) -> None:
    """Upstream llama-server with SmolLM2: a forced tool call is answered in plain text."""
    serve(server, tools=NO_TOOL_CALL, json=OFF_SCHEMA, md_json=PROSE)
    found = diagnose(settings_for(server))
    assert works(found) == {"tools": False, "json_schema": True, "json": False, "md_json": False}
    assert "No tool calls" in detail(found, "tools") and "reply: The Red Cross" in detail(
        found, "tools"
    )
    assert found.recommended is Mode.JSON_SCHEMA


def test_a_transient_error_is_retried_once_then_reported(server: ScriptedServer) -> None:
    overloaded = Reply(status=503, body=error_body("overloaded"))
    kinds = serve(server, tools=overloaded)
    found = diagnose(settings_for(server))
    assert kinds.count("tools") == 2
    assert detail(found, "tools") == "HTTP 503: overloaded"
    assert found.recommended is Mode.JSON_SCHEMA


def test_a_mode_whose_probe_times_out_is_no_and_the_others_are_still_probed(
    server: ScriptedServer,
) -> None:
    """A slow grammar may time out in one mode where others answer: not a dead server."""
    slow = text_reply(json.dumps(ANSWER))
    slow.delay = 1.5
    kinds = serve(server, json_schema=slow)
    found = diagnose(settings_for(server, timeout=0.7))
    assert works(found) == {"tools": True, "json_schema": False, "json": True, "md_json": True}
    assert "timed out (timeout 0.7s), after 1 attempt(s)" in detail(found, "json_schema")
    assert kinds.count("json_schema") == 1  # no retry: a local server would still be generating


def test_a_reply_cut_at_the_probes_cap_is_no(server: ScriptedServer) -> None:
    serve(server, json=text_reply('{"city": "Gen', finish_reason="length"))
    found = diagnose(settings_for(server))
    assert works(found)["json"] is False
    assert detail(found, "json") == "the reply ran past max_tokens=256 (finish_reason 'length')"


def test_a_server_ignoring_max_tokens(server: ScriptedServer) -> None:
    serve(server, plain=text_reply("one, " * 200, completion_tokens=300))
    found = diagnose(settings_for(server))
    assert found.max_tokens.ok is False
    assert found.max_tokens.detail == (
        f"asked for at most {LIMIT_TOKENS} tokens: finish_reason 'stop', 300 completion tokens"
    )
    assert found.recommended is Mode.TOOLS  # modes are judged apart


def test_a_reply_ending_by_itself_under_the_cap_cannot_tell(server: ScriptedServer) -> None:
    serve(server, plain=text_reply("One.", completion_tokens=2))
    found = diagnose(settings_for(server))
    assert found.max_tokens.ok is None
    assert "2 completion tokens: the reply ended by itself" in found.max_tokens.detail


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        (None, "no usage in the reply"),
        ({"prompt_tokens": "many", "completion_tokens": 8}, "prompt_tokens='many'"),
        ({"prompt_tokens": 0, "completion_tokens": 8, "total_tokens": 8}, "prompt_tokens 0"),
        ({"prompt_tokens": 40, "completion_tokens": 8, "total_tokens": 9}, "total_tokens 9"),
        ({"prompt_tokens": 40, "completion_tokens": -3}, "completion_tokens='-3'"),
    ],
)
def test_usage_missing_or_nonsense_is_no(server: ScriptedServer, usage: Any, expected: str) -> None:
    cut = text_reply("one, two", finish_reason="length", completion_tokens=8, usage=usage)
    serve(server, plain=cut)
    found = diagnose(settings_for(server))
    assert found.usage.ok is False and expected in found.usage.detail
    if usage is None:  # no count: the cut is still seen in finish_reason
        assert found.max_tokens.ok is True and "no token count" in found.max_tokens.detail


def test_garbage_replies_are_no_with_one_short_line_each(server: ScriptedServer) -> None:
    """Not JSON, escape codes, a reply over max_reply_bytes: each mode says no, on one line."""
    serve(
        server,
        tools=Reply(body=b"<html>\x1b[2Jnot an API</html>"),
        json_schema=text_reply("\x1b[2J\x1b]0;pwned\x07" + "x" * 500),
        json=text_reply("y" * 4000),
        md_json=Reply(body=b"{}"),
    )
    found = diagnose(settings_for(server, max_reply_bytes=2048))
    assert not any(result.works for result in found.modes) and found.recommended is None
    for result in found.modes:
        assert len(result.detail) <= 200
        assert (
            "\x1b" not in result.detail
            and "\n" not in result.detail
            and "\x07" not in result.detail
        )
    assert "body that is not JSON" in detail(found, "tools")
    assert detail(found, "json_schema").startswith("reply off the schema: Invalid JSON")
    assert "reply: \\x1b[2J\\x1b]0;pwned\\x07xxx" in detail(found, "json_schema")
    assert "larger than max_reply_bytes (2,048 bytes" in detail(found, "json")
    assert detail(found, "md_json").endswith("returned a completion with no choices")


def test_probes_always_ask_the_server_never_the_response_cache(server: ScriptedServer) -> None:
    kinds = serve(server)
    settings = settings_for(server, cache=True)
    diagnose(settings)
    diagnose(settings)
    assert len(kinds) == 10


def test_an_unreachable_server_raises_at_once(server: ScriptedServer) -> None:
    settings = load_settings(model="m", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ConnectionFailedError):
        diagnose(settings)


def test_a_rejected_key_raises_and_the_key_is_never_shown(server: ScriptedServer) -> None:
    key = "sk-doctor-secret-0123456789"
    denied = Reply(status=401, body=error_body(f"bad key {key}", "invalid_request_error"))
    serve(server, plain=denied)
    with pytest.raises(AuthenticationError) as caught:
        diagnose(settings_for(server, api_key=key))
    assert key not in str(caught.value)


def test_a_server_repeating_the_key_in_a_refusal_has_it_redacted(server: ScriptedServer) -> None:
    key = "sk-doctor-secret-0123456789"
    serve(server, json_schema=Reply(status=400, body=error_body(f"no json_schema for {key}")))
    found = diagnose(settings_for(server, api_key=key))
    assert "[redacted]" in detail(found, "json_schema")
    assert key not in json.dumps(found.to_dict())


# The recommendation


def results(*working: Mode) -> list[ModeResult]:
    return [ModeResult(mode, mode in working, 0.1, "") for mode in ORDER]


@pytest.mark.parametrize(
    ("working", "expected"),
    [
        ((Mode.TOOLS, Mode.JSON_SCHEMA, Mode.JSON, Mode.MD_JSON), Mode.TOOLS),
        ((Mode.JSON_SCHEMA, Mode.MD_JSON), Mode.JSON_SCHEMA),
        ((Mode.JSON, Mode.MD_JSON), Mode.JSON),
        ((Mode.MD_JSON,), Mode.MD_JSON),
        ((), None),
    ],
)
def test_recommend_takes_the_first_working_mode_of_the_order(
    working: tuple[Mode, ...], expected: Mode | None
) -> None:
    assert recommend(results(*working)) is expected


def test_the_order_puts_schema_enforcing_modes_first() -> None:
    assert ORDER == (Mode.TOOLS, Mode.JSON_SCHEMA, Mode.JSON, Mode.MD_JSON)
    assert Mode.AUTO not in ORDER


# mode="auto"


def test_auto_probes_once_then_remembers(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    kinds = serve(server, tools=NO_TOOL_CALL)
    with caplog.at_level(logging.INFO, logger="extractor"):
        first = Extractor("m", base_url=server.base_url, mode="auto").extract(TEXT)
    assert first.quotes[0].text == "negative attitude"
    assert kinds == ["plain", "tools", "json_schema", "json", "md_json", "extract"]
    assert server.requests[-1]["response_format"]["type"] == "json_schema"
    assert any("mode auto: probing" in r.getMessage() for r in caplog.records)

    second = Extractor("m", base_url=server.base_url, mode="auto")
    second.extract(TEXT)
    assert kinds[6:] == ["extract"]  # no probe: the remembered mode
    assert server.requests[-1]["response_format"]["type"] == "json_schema"
    assert second.settings.mode is Mode.AUTO  # the caller's setting is kept as given


def test_auto_is_remembered_per_server_and_model(server: ScriptedServer) -> None:
    serve(server)
    settings = settings_for(server, mode="auto")
    remember_mode(settings, Mode.MD_JSON)
    assert resolve_mode(settings) is Mode.MD_JSON and server.requests == []
    other_model = load_settings(settings, model="other")
    assert remembered_mode(other_model) is None
    assert resolve_mode(other_model) is Mode.TOOLS and len(server.requests) == 5
    assert remembered_mode(other_model) is Mode.TOOLS
    rows = sqlite3.connect(memory_path(settings)).execute("SELECT * FROM modes").fetchall()
    assert sorted((row[1], row[2]) for row in rows) == [("m", "md_json"), ("other", "tools")]


def test_auto_memory_never_stores_a_credential(server: ScriptedServer) -> None:
    serve(server)
    settings = load_settings(
        model="m", base_url=server.base_url + "?api_key=sk-url-secret-12345678", mode="auto"
    )
    resolve_mode(settings)
    assert b"sk-url-secret" not in memory_path(settings).read_bytes()
    assert remembered_mode(settings) is Mode.TOOLS


def test_auto_async_probes_once_for_concurrent_chunks(server: ScriptedServer) -> None:
    kinds = serve(server, tools=NO_TOOL_CALL)

    async def run() -> None:
        extractor = Extractor("m", base_url=server.base_url, mode="auto")
        await asyncio.gather(extractor.aextract(TEXT), extractor.aextract(TEXT))
        await extractor.aclose()

    asyncio.run(run())
    assert kinds.count("tools") == 1 and kinds.count("extract") == 2


def test_auto_with_no_working_mode_is_a_clear_error_and_nothing_is_remembered(
    server: ScriptedServer,
) -> None:
    serve(server, tools=NO_TOOL_CALL, json_schema=REFUSES_JSON_SCHEMA, json=PROSE, md_json=PROSE)
    with pytest.raises(ConfigurationError) as caught:
        Extractor("m", base_url=server.base_url, mode="auto").extract(TEXT)
    message = str(caught.value)
    assert message.startswith("mode auto: no structured-output mode worked with m at")
    assert "json_schema: HTTP 500" in message and "extractor doctor" in message
    assert remembered_mode(settings_for(server)) is None


def test_auto_with_an_unreadable_memory_still_works(
    server: ScriptedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    serve(server)
    settings = settings_for(server, mode="auto")
    memory_path(settings).parent.mkdir(parents=True)
    memory_path(settings).write_bytes(b"this is not a database" * 100)
    with caplog.at_level(logging.WARNING, logger="extractor"):
        assert resolve_mode(settings) is Mode.TOOLS
    assert any("cannot read" in r.getMessage() for r in caplog.records)
    assert any("cannot remember" in r.getMessage() for r in caplog.records)


def test_an_explicit_mode_never_probes(server: ScriptedServer) -> None:
    kinds = serve(server)
    Extractor("m", base_url=server.base_url, mode="json").extract(TEXT)
    assert kinds == ["extract"]
    assert resolve_mode(settings_for(server, mode="md_json")) is Mode.MD_JSON


# The command


def test_cli_table_and_exit_0(server: ScriptedServer) -> None:
    serve(server, json_schema=REFUSES_JSON_SCHEMA)
    result = runner.invoke(app, ["doctor", "--base-url", server.base_url, "--model", "m"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"Modes of m at {server.base_url}" in out
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in out.splitlines()
        if line.startswith("│") and line.split("│")[1].strip()
    }
    assert rows == {"tools": "yes", "json_schema": "no", "json": "yes", "md_json": "yes"}
    assert "HTTP 500: 1 validation error" in out
    assert "max_tokens enforced: yes" in out and "usage reported: yes" in out
    assert "recommended: --mode tools" in out
    assert "order: the first that works of tools, json_schema, json, md_json" in out


def test_cli_json(server: ScriptedServer) -> None:
    serve(server, tools=NO_TOOL_CALL, plain=text_reply("x", completion_tokens=300))
    result = runner.invoke(
        app, ["doctor", "--base-url", server.base_url, "--model", "m", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["server"] == server.base_url and data["model"] == "m"
    assert [(m["mode"], m["works"]) for m in data["modes"]] == [
        ("tools", False),
        ("json_schema", True),
        ("json", True),
        ("md_json", True),
    ]
    assert all(isinstance(m["seconds"], float) for m in data["modes"])
    assert data["max_tokens"]["enforced"] is False and data["usage"]["reported"] is True
    assert data["recommended"] == "json_schema"
    assert data["order"] == ["tools", "json_schema", "json", "md_json"]


def test_cli_remembers_its_recommendation_for_auto(server: ScriptedServer) -> None:
    kinds = serve(server, tools=NO_TOOL_CALL)
    result = runner.invoke(app, ["doctor", "--base-url", server.base_url, "--model", "m"])
    assert result.exit_code == 0, result.output
    Extractor("m", base_url=server.base_url, mode="auto").extract(TEXT)
    assert kinds[5:] == ["extract"]


def test_cli_no_working_mode_exits_1(server: ScriptedServer) -> None:
    serve(server, tools=NO_TOOL_CALL, json_schema=PROSE, json=PROSE, md_json=PROSE)
    result = runner.invoke(app, ["doctor", "--base-url", server.base_url, "--model", "m"])
    assert result.exit_code == 1
    assert "recommended: none" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["--base-url", "http://127.0.0.1:9/v1"], 3, "error: the connection to"),
        ([], 2, "error: no API key"),
        (["--base-url", "ftp://x"], 2, "error: invalid settings"),
        (["--timeout", "0", "--base-url", "http://127.0.0.1:9/v1"], 2, "timeout"),
    ],
)
def test_cli_failures_are_one_line(args: list[str], code: int, expected: str) -> None:
    result = runner.invoke(app, ["doctor", *args])
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0]
    assert result.stdout == ""


def test_cli_rejected_key_exits_3_without_the_key(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "sk-doctor-secret-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    serve(server, plain=Reply(status=401, body=error_body(f"bad key {key}")))
    result = runner.invoke(app, ["doctor", "--base-url", server.base_url, "--format", "json"])
    assert result.exit_code == 3
    assert key not in result.output and "rejected the API key" in result.stderr


def test_extract_mode_auto_from_the_command(server: ScriptedServer, tmp_path: Path) -> None:
    kinds = serve(server, tools=NO_TOOL_CALL)
    article = tmp_path / "article.txt"
    article.write_text(TEXT, encoding="utf-8")
    args = ["extract", str(article), "--base-url", server.base_url, "--mode", "auto"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["quotes"][0]["text"] == "negative attitude"
    assert kinds == ["plain", "tools", "json_schema", "json", "md_json", "extract"]


def test_extract_mode_auto_offline_sends_nothing(server: ScriptedServer, tmp_path: Path) -> None:
    kinds = serve(server)
    article = tmp_path / "article.txt"
    article.write_text(TEXT, encoding="utf-8")
    result = runner.invoke(app, ["extract", str(article), "--mode", "auto"])
    assert result.exit_code == 0 and "negative attitude" in result.stdout
    result = runner.invoke(
        app, ["extract", str(article), "--mode", "auto", "--offline", "--base-url", server.base_url]
    )
    assert result.exit_code == 0 and kinds == []
    assert not memory_path(load_settings()).exists()
