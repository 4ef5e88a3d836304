"""API keys never appear in logs, errors, results or cassettes.

Replies are HAND-WRITTEN, served by the scripted server on 127.0.0.1 (tests/scripted_server.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
import traceback
from pathlib import Path
from typing import Any

import pytest

from extractor import ExtractionError, Extractor, ExtractorError, Settings
from extractor.redaction import without_credentials

from handwritten import replies
from scripted_server import Reply, ScriptedServer, completion, error_body

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-proj-SECRET0123456789abcdefSECRET"
KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_-]{16,}")
ALLOWED = {"sk-test-not-a-real-key-0123456789"}  # the fake key tests use; never a real one
TEXT = 'Peskov said Moscow held a "negative attitude" toward the plan.'


def test_key_is_not_in_logs_errors_or_results(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, openai's and instructor's included
    server.replies.extend(
        [
            Reply(completion({"quotes": [replies.QUOTES[0]]})),
            Reply(error_body("Incorrect API key provided: " + SECRET[:7] + "****"), status=401),
            Reply(completion({"quotes": [replies.INVENTED_QUOTE]})),
            Reply(completion({"quotes": [replies.INVENTED_QUOTE]})),
        ]
    )
    text = 'Peskov said Moscow held a "negative attitude" toward the plan.'
    extractor = Extractor("m", base_url=server.base_url, api_key=SECRET, max_reasks=1)
    seen = [extractor.extract(text).model_dump_json(), repr(extractor.settings)]
    for _ in range(2):
        with pytest.raises(ExtractorError) as caught:
            extractor.extract(text)
        error = caught.value
        seen += [str(error), repr(error), repr(getattr(error, "attempts", None))]
    seen.append(caplog.text)
    assert server.requests  # the key really was used, in the Authorization header
    for item in seen:
        assert SECRET not in item


def test_settings_hide_the_key() -> None:
    settings = Settings(api_key=SECRET)
    assert SECRET not in repr(settings) and SECRET not in str(settings.model_dump())
    assert SECRET not in settings.model_dump_json()


def test_no_key_in_any_cassette_or_recording() -> None:
    files = [*ROOT.glob("tests/cassettes/**/*.yaml"), *ROOT.glob("examples/recordings/*.yaml")]
    assert files
    for path in files:
        text = path.read_text()
        assert set(KEY_PATTERN.findall(text)) <= ALLOWED, path
        for line in text.splitlines():
            if "authorization" in line.lower() and ":" in line:
                assert "Bearer" not in line, path


def _everything_shown(error: BaseException, caplog: pytest.LogCaptureFixture) -> list[str]:
    """What a user can see of a failure: message, repr, traceback, attempts, logs."""
    return [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        repr(getattr(error, "attempts", None)),
        caplog.text,
    ]


@pytest.mark.parametrize("status", [400, 404, 422, 500])
@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_proxy_repeating_the_key_in_its_error_body_does_not_leak_it(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture, status: int, path: str
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = f"upstream refused request with headers {{'Authorization': 'Bearer {SECRET}'}}"
    server.replies.extend([Reply(error_body(echo), status=status)] * 2)
    extractor = Extractor("m", base_url=server.base_url, api_key=SECRET, max_transient_retries=1)
    with pytest.raises(ExtractorError) as caught:
        if path == "sync":
            extractor.extract(TEXT)
        else:
            asyncio.run(extractor.aextract(TEXT))
    shown = _everything_shown(caught.value, caplog)
    assert "upstream refused" in str(caught.value)  # the server's words are still there
    for item in shown:
        assert SECRET not in item
    extractor.close()


def test_a_key_in_the_base_url_query_is_sent_but_never_shown(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.replies.extend(
        [
            Reply(completion({"quotes": [replies.QUOTES[0]]})),
            Reply(error_body("no such model"), status=404),
        ]
    )
    paths: list[str] = []
    handler: Any = server._httpd.RequestHandlerClass  # this server's own class: record paths
    answer = handler.do_POST
    handler.do_POST = lambda self: (paths.append(self.path), answer(self))
    url = f"{server.base_url}?api-version=2024-06-01&key={SECRET}"
    extractor = Extractor("m", base_url=url, api_key="k")
    assert extractor.extract(TEXT).quotes[0].text == "negative attitude"
    assert paths[0] == f"/v1/chat/completions?api-version=2024-06-01&key={SECRET}"
    with pytest.raises(ExtractorError) as caught:
        extractor.extract(TEXT)
    message = str(caught.value)
    assert f"{server.base_url}?api-version=2024-06-01&key=[redacted]" in message  # not garbled
    for item in [*_everything_shown(caught.value, caplog), repr(extractor.settings)]:
        assert SECRET not in item
    extractor.close()


def test_a_key_the_model_repeats_is_not_kept_in_raw_replies(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    leaked = {"quotes": [{**replies.INVENTED_QUOTE, "text": f"the key is {SECRET}"}]}
    server.replies.extend([Reply(completion(leaked))] * 2)
    extractor = Extractor("m", base_url=server.base_url, api_key=SECRET, max_reasks=1)
    with pytest.raises(ExtractionError) as caught:
        extractor.extract(TEXT)
    assert all(
        a.raw_reply and "the key is [redacted]" in a.raw_reply for a in caught.value.attempts
    )
    for item in _everything_shown(caught.value, caplog):
        assert SECRET not in item
    extractor.close()


def test_urls_shown_lose_passwords_and_credential_query_values() -> None:
    url = "https://user:pa55word@proxy.example/v1?api-version=2024-06-01&key=abc&access_token=xyz"
    assert without_credentials(url) == (
        "https://proxy.example/v1?api-version=2024-06-01&key=[redacted]&access_token=[redacted]"
    )
    assert without_credentials("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"


def test_loggers_created_after_the_extractor_are_filtered_too(
    server: ScriptedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.replies.append(Reply(completion({"quotes": [replies.QUOTES[0]]})))
    extractor = Extractor("m", base_url=server.base_url, api_key=SECRET)
    late = logging.getLogger("openai.created_late")
    extractor.extract(TEXT)  # each call puts the filter on loggers made since
    late.warning("a proxy said: Bearer %s", SECRET)
    try:
        raise ValueError(f"key {SECRET}")
    except ValueError:
        late.exception("failed")
    assert "Bearer [redacted]" in caplog.text and SECRET not in caplog.text
    assert SECRET not in "".join(logging.Formatter().format(record) for record in caplog.records)
    extractor.close()
