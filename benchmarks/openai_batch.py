"""`extractor batch --via openai-batch` against the hand-written Batch API stand-in: figures.

    python benchmarks/openai_batch.py [--articles 200]

Copies of the example article go through the whole path (plan, request file, upload, create,
status checks with no wait, download, validate and ground every reply, lines written) against
tests/batch_api_server.py, a stand-in for OpenAI's Batch API on 127.0.0.1 whose replies are the
scripted perfect model's (no model is called). Prints the wall time of the run, the summary, and
the client CPU per article to plan and write a request line and to validate and ground a reply.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from extractor import openai_batch, retry  # noqa: E402
from extractor.batch_inputs import read_inputs  # noqa: E402
from extractor.settings import load_settings  # noqa: E402

from batch_api_server import BatchAPIServer, perfect_reply  # noqa: E402


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    args = parser.parse_args()
    retry.sleep = lambda seconds: None  # the stand-in moves on at each check: no real wait
    text = (ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt").read_text("utf-8")
    with tempfile.TemporaryDirectory() as folder, BatchAPIServer() as server:
        root = Path(folder)
        (root / "news").mkdir()
        for i in range(args.articles):
            (root / "news" / f"a{i:04d}.txt").write_text(text, encoding="utf-8")
        items = read_inputs([root / "news"])
        settings = load_settings(
            base_url=server.base_url, api_key="sk-benchmark", batch_poll_interval=0, cache=False
        )
        out = root / "results.jsonl"
        wall = time.perf_counter()
        summary = openai_batch.run_openai_batch(items, out=out, settings=settings)
        wall = time.perf_counter() - wall
        print(f"{args.articles} articles through the Batch API stand-in: {wall:.1f} s wall")
        print("\n".join(summary.lines(out, root / "results.errors.jsonl")))

        rounds = 50
        started = time.process_time()
        for item in items[:rounds]:
            openai_batch.article_lines(openai_batch.plan_article(item, settings), settings)
        plan = (time.process_time() - started) / rounds
        planned = openai_batch.plan_article(items[0], settings)
        reply = perfect_reply(
            "a0000.txt#0", openai_batch.request_body(planned.prompts[0], settings)
        )
        started = time.process_time()
        for _ in range(rounds):
            openai_batch.accept(planned, 0, json.loads(json.dumps(reply)), settings)
        accept = (time.process_time() - started) / rounds
        print(
            f"client CPU per article: plan + request line {plan * 1000:.1f} ms; "
            f"validate + ground its reply {accept * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
