"""N articles through one Extractor under a requests-per-minute limit: is it kept, and how fast?

    python benchmarks/rate_limit.py [--articles 1000] [--rpm 60] [--concurrency 64]
        [--latency 0.2]
    python benchmarks/rate_limit.py --rpm 600 --articles 100      # a quick run: seconds

Against the scripted perfect model (`perfect_model_server.py`, started here in its own process;
its replies are built by that script from each request, not by a model), with
``requests_per_minute`` set and ``Extractor.aextract`` run on every article at once (at most
``--concurrency`` in flight). The articles are the example article, each with its own first line,
so every request differs. It prints:

- the requests the server received;
- the most requests in any 60-second window (the limit is kept if it is at most ``--rpm``), as the
  client sent them (noted beneath the library's limiter, after its waits) and as they arrived at
  the server (its stamp when it starts reading a request). A delay between the two, e.g. this
  Python server slow to get to a request on a loaded machine, moves requests of one minute into
  the next; the limiter's window is 60.5 s, so it absorbs such delays up to half a second;
- the wall time against the least the limit allows: a sliding window lets ``rpm`` requests start
  at once and the next ``rpm`` a minute later, so n requests need ``(ceil(n / rpm) - 1) * 60``
  seconds plus one reply's latency (or, if more, ``ceil(n / concurrency)`` latencies: the run
  without a limit).

It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import openai

from extractor import Extractor, read_article
from extractor.settings import load_settings
from extractor.transport import async_http_client

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
SERVER = Path(__file__).resolve().with_name("perfect_model_server.py")


def start_server(log: Path, latency: float) -> tuple[subprocess.Popen[str], int]:
    """The perfect-model server in its own process, logging each request's arrival."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", "0", "--latency", str(latency), "--log", str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = process.stdout.readline().split()
    if len(ready) < 2 or ready[0] != "READY":
        process.kill()
        raise SystemExit(f"the perfect-model server did not start: {ready}")
    return process, int(ready[1])


def articles(count: int) -> list[str]:
    """`count` different articles: the example article, each with its own first line."""
    text = read_article(ARTICLE).text
    return [f"Dispatch {number} of {count}.\n\n{text}" for number in range(count)]


def worst_window(instants: list[float], width: float = 60.0) -> int:
    """The most of `instants` in any window [t, t + width)."""
    ordered = sorted(instants)
    worst, first = 0, 0
    for last, instant in enumerate(ordered):
        while ordered[first] <= instant - width:
            first += 1
        worst = max(worst, last - first + 1)
    return worst


class Stamped(httpx2.AsyncHTTPTransport):
    """The network transport, noting (wall-clock) when each request is handed to it: beneath
    the library's limiter, so after any wait it imposed."""

    def __init__(self, sent: list[float]) -> None:
        super().__init__()
        self.sent = sent

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Note the moment, then send."""
        self.sent.append(time.time())
        return await super().handle_async_request(request)


async def run(
    url: str, texts: list[str], rpm: float, concurrency: int, sent: list[float]
) -> tuple[int, int, float]:
    """Extract every text; requests counted by the library, failures, and wall seconds."""
    gate = asyncio.Semaphore(concurrency)
    requests, failed = 0, 0
    settings = load_settings(model="perfect", base_url=url, requests_per_minute=rpm)
    # The library's own client (its limiter, bounds, retries), over a transport that notes sends.
    client = openai.AsyncOpenAI(
        base_url=url,
        api_key="none",
        max_retries=0,
        http_client=async_http_client(settings, transport=Stamped(sent)),
    )
    async with client, Extractor(settings=settings, async_client=client) as extractor:

        async def one(text: str) -> None:
            nonlocal requests, failed
            async with gate:
                try:
                    result = await extractor.aextract(text, published="2025-08-27")
                except Exception as exc:
                    failed += 1
                    print(f"  failed: {type(exc).__name__}: {str(exc)[:120]}", file=sys.stderr)
                else:
                    requests += result.usage.requests

        started = time.perf_counter()
        await asyncio.gather(*(one(text) for text in texts))
        wall = time.perf_counter() - started
    return requests, failed, wall


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rpm", type=float, default=60.0, help="requests_per_minute")
    parser.add_argument("--concurrency", type=int, default=64, help="articles in flight")
    parser.add_argument("--latency", type=float, default=0.2, help="the server's reply latency")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "requests.jsonl"
        process, port = start_server(log, args.latency)
        try:
            texts = articles(args.articles)
            print(
                f"{args.articles} articles, requests_per_minute={args.rpm:g}, "
                f"concurrency {args.concurrency}, server latency {args.latency:g}s"
            )
            sent: list[float] = []
            requests, failed, wall = asyncio.run(
                run(f"http://127.0.0.1:{port}/v1", texts, args.rpm, args.concurrency, sent)
            )
        finally:
            process.terminate()
            process.wait()
        arrivals = [json.loads(line)["start"] for line in log.read_text().splitlines()]
    per_window = max(1, math.floor(args.rpm))
    least = (math.ceil(len(arrivals) / per_window) - 1) * 60.0 * max(1.0, 1 / args.rpm)
    least += args.latency
    least = max(least, math.ceil(len(arrivals) / args.concurrency) * args.latency)  # no limit
    print(f"requests: {len(arrivals)} at the server ({requests} counted by the library)")
    print(f"failed articles: {failed}")
    for where, instants in (("sent by the client", sent), ("arrived at the server", arrivals)):
        worst = worst_window(instants)
        verdict = "kept" if worst <= per_window else "EXCEEDED"
        print(f"worst 60-second window, {where}: {worst} requests ({verdict}; limit {per_window})")
    late = sorted(a - s for a, s in zip(sorted(arrivals), sorted(sent), strict=False))
    if late:
        print(
            f"server's arrival stamp after the client's send: median {late[len(late) // 2]:.3f}s, "
            f"max {late[-1]:.3f}s (the limiter keeps a 0.5 s margin for such delays)"
        )
    print(f"wall time: {wall:.1f}s; the least the limit allows: {least:.1f}s ({wall / least:.3f}x)")


if __name__ == "__main__":
    main()
