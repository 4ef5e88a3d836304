"""Print what one extraction of the shared article costs: request and reply size, client CPU.

    python benchmarks/request_size.py                      # sizes and CPU, no network
    python benchmarks/request_size.py URL MODEL            # plus prompt tokens a real server counts

Beside a raw instructor call (``response_model=ArticleExtraction``, the same messages, no
grounding) on the same scripted server in the same run:

- request: characters of the JSON body and ~tokens (characters / 4; the real count depends on the
  model's tokenizer), and the schema's share;
- reply: ~completion tokens of a perfect answer. Ours is the HAND-WRITTEN reply of
  tests/handwritten/replies.py (quotations answered by number); the raw call's is the same content
  in its own shape (every quote's words copied; optional keys sent, as null where empty, as a
  model filling that schema does);
- client CPU per call: ``time.process_time`` over CALLS calls against tests/scripted_server.py,
  which answers each with that reply (the server's threads are in the same process, so both
  figures include its small share).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import httpx2
import instructor
import openai

from extractor import ArticleExtraction, Extractor, ExtractorError, read_article
from extractor.prompting import build_messages

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
sys.path[:0] = [str(ROOT / "tests")]

from handwritten import replies  # noqa: E402
from scripted_server import Reply, ScriptedServer, completion  # noqa: E402

CALLS = 200


def captured_body(send: Any) -> dict[str, Any]:
    """The JSON body of the first request `send` makes, answered with a 400 to stop it."""
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


def raw_messages() -> list[dict[str, str]]:
    """The messages a raw instructor call sends: the same instructions, no quotation numbers."""
    article = read_article(ARTICLE, max_chars=1_000_000)
    return build_messages(article.text, ArticleExtraction, article.published)


def plain_instructor(http: httpx2.Client) -> None:
    """Plain instructor's request for the same models and messages."""
    client = instructor.from_openai(openai.OpenAI(api_key="b", http_client=http, max_retries=0))
    with contextlib.suppress(Exception):
        client.chat.completions.create(
            model="gpt-4o-mini",
            response_model=ArticleExtraction,
            messages=raw_messages(),
            max_retries=0,
        )


def raw_reply(result: ArticleExtraction) -> dict[str, Any]:
    """The same records in the raw call's shape: quotes with their words, optional keys as null."""
    data = result.model_dump(
        mode="json",
        exclude={
            "published": True,
            "usage": True,
            "source": True,
            "coverage": True,
            "quotes": {"__all__": {"span", "confirmed"}},
            "events": {"__all__": {"span", "date_end", "precision"}},
            "commitments": {"__all__": {"span"}},
        },
    )
    return data


def without_nulls(value: Any) -> Any:
    """`value` without the keys whose value is null (a model that omits them)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(item) for item in value]
    return value


def tokens(text: str) -> int:
    """An estimate: characters / 4."""
    return len(text) // 4


def cpu_per_call(call: Any, reply: dict[str, Any], name: str) -> float:
    """Client CPU seconds per call, over CALLS calls answered with `reply`."""
    with ScriptedServer() as server:
        server.replies.extend(Reply(completion(reply, name=name)) for _ in range(CALLS + 1))
        call(server.base_url)  # warm: imports, first schema
        start = time.process_time()
        for _ in range(CALLS):
            call(server.base_url)
        return (time.process_time() - start) / CALLS


def main() -> None:
    """Print request and reply sizes, client CPU, and with URL MODEL the tokens a server counts."""
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    article = read_article(ARTICLE, max_chars=1_000_000)
    rows = {
        "extractor": captured_body(ours),
        "raw instructor": captured_body(plain_instructor),
    }
    ours_reply = replies.CLEAN
    with ScriptedServer() as server:
        server.replies.append(Reply(completion(ours_reply)))
        result = Extractor("m", base_url=server.base_url, api_key="k").extract(
            article.text, published=article.published
        )
    raw = raw_reply(result)
    replies_by_row = {"extractor": ours_reply, "raw instructor": raw}
    print(f"{'per article':<16}{'prompt chars':>13}{'~tokens':>9}{'schema ~tokens':>16}", end="")
    print(f"{'completion ~tokens':>20}")
    for name, body in rows.items():
        text = json.dumps(body)
        schema = json.dumps(body.get("tools", ""))
        reply = json.dumps(replies_by_row[name])
        print(f"{name:<16}{len(text):>13}{tokens(text):>9}{tokens(schema):>16}", end="")
        print(f"{tokens(reply):>20}")
    print(f"{'(raw instructor, no null keys)':<54}{tokens(json.dumps(without_nulls(raw))):>20}")

    extractors: dict[str, Extractor] = {}

    def extractor_call(url: str) -> None:
        if url not in extractors:  # one Extractor, as the raw call keeps one client
            extractors[url] = Extractor("m", base_url=url, api_key="k")
        extractors[url].extract(article.text, published=article.published)

    raw_client: dict[str, Any] = {}

    def raw_call(url: str) -> None:
        if url not in raw_client:
            raw_client[url] = instructor.from_openai(openai.OpenAI(base_url=url, api_key="k"))
        raw_client[url].chat.completions.create(
            model="m", response_model=ArticleExtraction, messages=raw_messages(), max_retries=0
        )

    theirs = cpu_per_call(raw_call, replies_by_row["raw instructor"], "ArticleExtraction")
    mine = cpu_per_call(extractor_call, ours_reply, "ArticleExtraction")
    print(f"\nclient CPU per call over {CALLS} calls against the scripted server:")
    print(f"  raw instructor {theirs * 1000:7.2f} ms")
    print(f"  extractor      {mine * 1000:7.2f} ms  ({mine / theirs:.2f}x)")
    if len(sys.argv) == 3:
        server_prompt_tokens(sys.argv[1], sys.argv[2])


def server_prompt_tokens(url: str, model: str) -> None:
    """Prompt tokens as a real server counts them, ours and plain instructor's, in the JSON modes.

    (In tools mode some servers, llama.cpp's among them, enforce the schema by grammar and do not
    count it as prompt.) Each request asks for one token only.
    """
    article = read_article(ARTICLE, max_chars=1_000_000)
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
                messages=raw_messages(),
                max_tokens=1,
                max_retries=0,
            )
        print(f"  {ours_mode:<8} extractor {ours_tokens}  instructor {seen[0] if seen else None}")


if __name__ == "__main__":
    main()
