"""The library configures no logging and prints nothing of its own accord.

The replies that make the extraction fail are HAND-WRITTEN, served by tests/scripted_server.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent

SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from scripted_server import Reply, ScriptedServer, completion, error_body
from handwritten import replies
from extractor import ExtractorError, Extractor
import extractor.retry
extractor.retry.sleep = lambda seconds: None
with ScriptedServer() as server:
    server.replies.extend([Reply(error_body("busy"), status=503)])
    server.replies.extend([Reply(completion({{"quotes": [replies.INVENTED_QUOTE]}}))] * 2)
    ex = Extractor("m", base_url=server.base_url, api_key="k", max_reasks=1)
    try:
        ex.extract('Peskov said Moscow held a "negative attitude".')
    except ExtractorError as error:
        print(type(error).__name__)
    body = completion({{"quotes": [replies.QUOTES[0]]}})
    body["usage"] = {{"prompt_tokens": "many", "completion_tokens": -1, "total_tokens": 1e30}}
    server.replies.append(Reply(body))
    print(ex.extract('Peskov said Moscow held a "negative attitude".').usage.requests)
"""


def test_a_failed_extraction_prints_nothing_when_logging_is_not_configured() -> None:
    """Transient-retry warnings, instructor's per-attempt ERROR lines and the warning about a
    server's nonsense token counts stay quiet (no warning traceback from a failed hook)."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(tests=str(TESTS))],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.split() == ["ExtractionError", "1"]
    assert done.stderr == ""
