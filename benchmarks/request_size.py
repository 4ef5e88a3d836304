"""Print how large our request is against plain instructor's, for the shared article.

    python benchmarks/request_size.py                      # request sizes, no server needed
    python benchmarks/request_size.py URL MODEL            # plus prompt tokens a real server counts

Both requests are captured before sending (no network): the library's own (lean schema, library
fields hidden from the model) and instructor's default for the same models. Tokens are estimated
as characters / 4; the real counts depend on the model's tokenizer.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

import httpx2
import instructor
import openai

from extractor import ArticleExtraction, Extractor, ExtractorError, read_article
from extractor.prompting import build_messages

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"


def captured_body(send: Any) -> dict[str, Any]:
    """The JSON body of the first request `send` makes, answered with a 500 to stop it."""
    bodies: list[dict[str, Any]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(request.content))
        return httpx2.Response(400, json={"error": {"message": "captured"}})

    send(httpx2.Client(transport=httpx2.MockTransport(handler)))
    return bodies[0]


def ours(http: httpx2.Client) -> None:
    """The library's request for the shared article."""
    article = read_article(ARTICLE, max_chars=1_000_000)
    client = openai.OpenAI(api_key="benchmark", http_client=http)
    extractor = Extractor("gpt-4o-mini", client=client, max_transient_retries=0)
    with contextlib.suppress(ExtractorError):
        extractor.extract(article.text, published=article.published)


def plain_instructor(http: httpx2.Client) -> None:
    """Plain instructor's request for the same models and messages."""
    article = read_article(ARTICLE, max_chars=1_000_000)
    client = instructor.from_openai(openai.OpenAI(api_key="b", http_client=http, max_retries=0))
    with contextlib.suppress(Exception):
        client.chat.completions.create(
            model="gpt-4o-mini",
            response_model=ArticleExtraction,
            messages=build_messages(article.text, ArticleExtraction, article.published),
            max_retries=0,
        )


def server_prompt_tokens(url: str, model: str) -> None:
    """Prompt tokens as a real server counts them, ours and plain instructor's, in the JSON modes.

    (In tools mode some servers, llama.cpp's among them, enforce the schema by grammar and do not
    count it as prompt.) Each request asks for one token only.
    """
    article = read_article(ARTICLE, max_chars=1_000_000)
    messages = build_messages(article.text, ArticleExtraction, article.published)
    print(f"\nprompt tokens counted by {url} ({model}):")
    for ours_mode, theirs_mode in (
        ("json", instructor.Mode.JSON),
        ("md_json", instructor.Mode.MD_JSON),
    ):
        try:
            Extractor(model, base_url=url, mode=ours_mode, max_tokens=1, max_reasks=0).extract(
                article.text, published=article.published
            )
            ours_tokens = None
        except ExtractorError as error:
            ours_tokens = error.usage.prompt_tokens if error.usage else None
        seen: list[int] = []
        client = instructor.from_openai(openai.OpenAI(base_url=url, api_key="b"), mode=theirs_mode)
        client.on("completion:response", lambda r, seen=seen: seen.append(r.usage.prompt_tokens))
        with contextlib.suppress(Exception):
            client.chat.completions.create(
                model=model,
                response_model=ArticleExtraction,
                messages=messages,
                max_tokens=1,
                max_retries=0,
            )
        print(f"  {ours_mode:<8} extractor {ours_tokens}  instructor {seen[0] if seen else None}")


def main() -> None:
    """Print request sizes, and with URL MODEL arguments the tokens a server counts."""
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    rows = {
        "extractor (lean schema)": captured_body(ours),
        "instructor, same models": captured_body(plain_instructor),
    }
    print(f"{'request':<26}{'chars':>8}{'~tokens':>9}{'schema chars':>14}")
    for name, body in rows.items():
        text = json.dumps(body)
        schema = json.dumps(body.get("tools", ""))
        print(f"{name:<26}{len(text):>8}{len(text) // 4:>9}{len(schema):>14}")
    if len(sys.argv) == 3:
        server_prompt_tokens(sys.argv[1], sys.argv[2])


if __name__ == "__main__":
    main()
