"""Rebuild the cassettes whose replies are HAND-WRITTEN (see replies.py).

    python tests/handwritten/record.py

For each scenario, a scripted server on 127.0.0.1:8799 answers with hand-written replies while
the library makes its real requests; vcrpy records the exchange (keys filtered) into
tests/cassettes/<test module>/<test name>.yaml, where the test of the same name replays it, and
into examples/recordings/, which the examples replay when no API key is set.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import vcr

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(HERE.parent), str(ROOT / "examples")]

from extractor import Extractor, ExtractorError, read_article  # noqa: E402

from conftest import ARTICLE_PATH, FAKE_KEY, SCRIPTED_BASE_URL  # noqa: E402
from handwritten import replies  # noqa: E402
from people_schema import People  # noqa: E402
from scripted_server import Reply, ScriptedServer, completion, error_body  # noqa: E402
from user_schema import Stances  # noqa: E402

LABEL = (
    "# HAND-WRITTEN replies: response bodies come from tests/handwritten/replies.py, not a model.\n"
    "# Requests are the library's own. Rebuilt by: python tests/handwritten/record.py\n"
)


def run(schema: Any = None, **options: Any) -> Callable[[], Any]:
    """The call a test makes, with the scripted endpoint."""

    def call() -> Any:
        article = read_article(ARTICLE_PATH, max_chars=1_000_000)
        ex = Extractor("gpt-4o-mini", base_url=SCRIPTED_BASE_URL, api_key=FAKE_KEY, **options)
        if schema is None:
            return ex.extract(article.text, published=article.published)
        return ex.extract(article.text, published=article.published, schema=schema)

    return call


CLEAN = completion(replies.CLEAN, prompt_tokens=1090, completion_tokens=712)

STANCES = {
    "stances": [
        {
            "actor": "Dmitry Peskov",
            "position": "opposes",
            "evidence": 'Moscow held a "negative attitude" toward proposals to send European '
            "troops as peacekeepers",
        },
        {
            "actor": "Donald Trump",
            "position": "supports",
            "evidence": "Trump has indicated he's willing to use U.S. airpower to support "
            "European forces in Ukraine",
        },
        {
            "actor": "Europeans",
            "position": "supports",
            "evidence": "they are willing to put people on the ground",
        },
    ]
}

# Recording path (from the repository root, without .yaml) -> hand-written replies, and the call.
SCENARIOS: dict[str, tuple[list[Reply], Callable[[], Any]]] = {
    "examples/recordings/peacekeepers-2025-08-27": ([Reply(CLEAN)], run()),
    "examples/recordings/peacekeepers-stances": (
        [Reply(completion(STANCES, name="Stances", prompt_tokens=640, completion_tokens=150))],
        run(schema=Stances),
    ),
    "tests/cassettes/test_extractor/test_clean_extraction_of_shared_article": (
        [Reply(CLEAN)],
        run(),
    ),
    "tests/cassettes/test_extractor/test_invented_quote_is_reasked_and_fixed": (
        [
            Reply(
                completion(replies.WITH_INVENTED_QUOTE, prompt_tokens=1650, completion_tokens=120)
            ),
            Reply(completion(replies.FIXED_AFTER_REASK, prompt_tokens=1900, completion_tokens=90)),
        ],
        run(),
    ),
    "tests/cassettes/test_extractor/test_rate_limit_then_success": (
        [
            Reply(
                error_body("Rate limit reached for gpt-4o-mini", "rate_limit_error"),
                status=429,
                headers={"retry-after": "2"},
            ),
            Reply(CLEAN),
        ],
        run(),
    ),
    "tests/cassettes/test_extractor/test_reply_that_never_grounds_raises_extraction_error": (
        [
            Reply(
                completion(
                    replies.WITH_INVENTED_QUOTE, prompt_tokens=1650 + 250 * i, completion_tokens=120
                )
            )
            for i in range(3)
        ],
        run(max_reasks=2),
    ),
    "tests/cassettes/test_extractor/test_user_defined_schema": (
        [Reply(completion(replies.PEOPLE, name="People", prompt_tokens=700, completion_tokens=60))],
        run(schema=People),
    ),
}


def main() -> None:
    """Record every scenario (or those named on the command line)."""
    wanted = sys.argv[1:] or list(SCENARIOS)
    with ScriptedServer(port=8799) as server:
        for name in wanted:
            scripted, call = SCENARIOS[name]
            server.replies.extend(scripted)
            path = ROOT / f"{name}.yaml"
            path.unlink(missing_ok=True)
            with vcr.use_cassette(
                str(path),
                record_mode="all",
                filter_headers=[("authorization", "REDACTED")],
                decode_compressed_response=True,
            ):
                try:
                    call()
                except ExtractorError as exc:
                    print(f"{name}: {type(exc).__name__}: {str(exc)[:100]}")
            path.write_text(LABEL + path.read_text())
            print(f"{name}.yaml: {len(scripted)} hand-written reply(ies)")


if __name__ == "__main__":
    main()
