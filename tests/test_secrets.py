"""API keys never appear in logs, errors, results or cassettes.

Replies are HAND-WRITTEN, served by the scripted server on 127.0.0.1 (tests/scripted_server.py).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from extractor import Extractor, ExtractorError, Settings

from handwritten import replies
from scripted_server import Reply, ScriptedServer, completion, error_body

ROOT = Path(__file__).resolve().parents[1]
SECRET = "sk-proj-SECRET0123456789abcdefSECRET"
KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_-]{16,}")
ALLOWED = {"sk-test-not-a-real-key-0123456789"}  # the fake key tests use; never a real one


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
