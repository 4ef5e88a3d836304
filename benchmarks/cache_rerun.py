"""A second run over unchanged input, with the response cache on: no model requests at all.

    python benchmarks/cache_rerun.py [--articles 200] [--concurrency 32] [--latency 0.2]

Against the scripted perfect model (`perfect_model_server.py`, started here in its own process;
its replies are built by that script from each request, not by a model). The articles are the
example article, each with its own first line. Two runs of ``Extractor.aextract`` over every
article (at most ``--concurrency`` in flight), each with a new Extractor and ``cache=True`` in a
new, empty cache folder: the first fills the cache, the second should be answered from it. For
each run it prints the requests the server received, the replies the library took from the cache
(``usage.cached_requests``), tokens spent and wall time, and whether the second run's results
equal the first's. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from extractor import Extractor, Usage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rate_limit import articles, start_server  # a sibling script


async def run(url: str, texts: list[str], cache_dir: Path, concurrency: int) -> dict[str, Any]:
    """Extract every text with the cache on; results, usage and wall seconds."""
    gate = asyncio.Semaphore(concurrency)
    usage, results = Usage(), []
    async with Extractor(
        "perfect", base_url=url, api_key="none", cache=True, cache_dir=cache_dir
    ) as extractor:

        async def one(text: str) -> Any:
            async with gate:
                return await extractor.aextract(text, published="2025-08-27")

        started = time.perf_counter()
        results = await asyncio.gather(*(one(text) for text in texts))
        wall = time.perf_counter() - started
    for result in results:
        usage = usage.add(result.usage)
    dumps = [result.model_dump(exclude={"usage"}) for result in results]
    return {"usage": usage, "wall": wall, "results": dumps}


def requests_logged(log: Path) -> int:
    """Requests the server has received so far."""
    return len(log.read_text().splitlines()) if log.exists() else 0


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32, help="articles in flight")
    parser.add_argument("--latency", type=float, default=0.2, help="the server's reply latency")
    args = parser.parse_args()
    texts = articles(args.articles)
    print(
        f"{args.articles} articles, concurrency {args.concurrency}, "
        f"server latency {args.latency:g}s, a new empty cache folder"
    )
    with tempfile.TemporaryDirectory() as folder:
        log, cache_dir = Path(folder) / "requests.jsonl", Path(folder) / "cache"
        process, port = start_server(log, args.latency)
        url = f"http://127.0.0.1:{port}/v1"
        try:
            runs = []
            for name in ("first run", "second run"):
                before = requests_logged(log)
                done = asyncio.run(run(url, texts, cache_dir, args.concurrency))
                usage = done["usage"]
                runs.append(done)
                print(
                    f"{name}: {requests_logged(log) - before} requests at the server, "
                    f"{usage.cached_requests} replies from the cache, "
                    f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens, "
                    f"wall {done['wall']:.2f}s ({args.articles / done['wall']:.0f} articles/s)"
                )
        finally:
            process.terminate()
            process.wait()
        size = sum(path.stat().st_size for path in cache_dir.iterdir())
    same = runs[0]["results"] == runs[1]["results"]
    print(f"second run's results equal the first's: {'yes' if same else 'NO'}")
    print(f"cache folder after both runs: {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
