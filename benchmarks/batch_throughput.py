"""Batch throughput: articles per second at 1 to 128 in flight, against the ideal, and client CPU.

    python benchmarks/batch_throughput.py [--latency 0.2] [--levels 1,8,32,64,128] [--rounds 3]

Against the scripted perfect model (`perfect_model_server.py`, started here in its own process
with a fixed reply latency; its replies are built by that script from each request, not by a
model). Three clients, each in a process of its own so that its CPU time is its own, measured in
the same run:

- batch: ``extractor.batch.run_batch`` over N copies of the example article (ids ``a0``...),
  exactly the path ``extractor batch`` takes (Extractor.aextract_many, one JSON line per article
  written and fsync-ed, errors file, summary), response cache off;
- library: ``Extractor.aextract`` per article, at most the same number in flight (an
  asyncio.Semaphore): the library without the batch layer (what the batch itself adds);
- instructor: a raw ``instructor`` call per article (peer_cost.py's response model, messages and
  client), N calls with at most the same number in flight.

At each level (articles in flight) N is max(3 x level, 24). Printed: articles per second, as a
share of the ideal (level / latency: every article one request of exactly `latency` seconds),
and client CPU per article (user + system time of the client process over the run / N), with
the batch's CPU as a multiple of the raw call's. The server answers the same body from memory,
so its CPU stays small; it still shares the machine's cores with the client. Prints figures,
asserts nothing. About 3 minutes on 2 cores (``--rounds 1``: about 1).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from peer_cost import ARTICLE, INSTRUCTIONS, MODEL, ArticleRecords, start_server

LEVELS = (1, 8, 32, 64, 128)


def articles_for(level: int) -> int:
    """How many articles a run at `level` in flight extracts."""
    return max(3 * level, 24)


def batch_run(base: str, text: str, n: int, level: int, work: Path) -> None:
    """`n` copies of the article through run_batch, at most `level` in flight."""
    from extractor.batch import run_batch
    from extractor.batch_inputs import TextItem
    from extractor.settings import load_settings

    settings = load_settings(
        model=MODEL, base_url=base, api_key="sk-benchmark-stub", mode="tools", cache=False
    )
    out = work / f"out-{level}-{time.monotonic_ns()}.jsonl"
    items = [TextItem(id=f"a{i}", text=text) for i in range(n)]
    summary = run_batch(items, out=out, settings=settings, concurrency=level)
    if summary.done != n:
        raise SystemExit(f"batch: {summary.done} of {n} done, {summary.failed} failed")


def library_run(base: str, text: str, n: int, level: int) -> None:
    """`n` Extractor.aextract calls, at most `level` in flight: the library without the batch."""
    from extractor import Extractor

    async def main() -> None:
        slots = asyncio.Semaphore(level)
        async with Extractor(MODEL, base_url=base, api_key="stub", mode="tools") as extractor:

            async def one() -> Any:
                async with slots:
                    return await extractor.aextract(text)

            await asyncio.gather(*(one() for _ in range(n)))

    asyncio.run(main())


def instructor_run(base: str, text: str, n: int, level: int) -> None:
    """`n` raw instructor calls, at most `level` in flight (peer_cost.py's call)."""
    import instructor
    from openai import AsyncOpenAI

    async def main() -> None:
        client = instructor.from_openai(
            AsyncOpenAI(base_url=base, api_key="stub", max_retries=0), mode=instructor.Mode.TOOLS
        )
        slots = asyncio.Semaphore(level)
        messages = [
            {"role": "system", "content": INSTRUCTIONS},
            {"role": "user", "content": text},
        ]

        async def one() -> Any:
            async with slots:
                return await client.chat.completions.create(
                    model=MODEL, response_model=ArticleRecords, messages=messages
                )

        await asyncio.gather(*(one() for _ in range(n)))

    asyncio.run(main())


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Every level for one client, in this process: rates and CPU per article."""
    logging.disable(logging.WARNING)
    text = Path(ARTICLE).read_text(encoding="utf-8")
    work = Path(tempfile.mkdtemp(prefix="batch-throughput-"))
    base = f"{args.base}/{args.worker}/v1"

    def once(n: int, level: int) -> None:
        if args.worker == "batch":
            batch_run(base, text, n, level, work)
        elif args.worker == "library":
            library_run(base, text, n, level)
        else:
            instructor_run(base, text, n, level)

    once(2, 2)  # warm-up: imports, schemas, connections
    result: dict[str, Any] = {}
    for level in args.levels:
        n = articles_for(level)
        rates, cpus = [], []
        for _ in range(args.rounds):
            started, cpu = time.perf_counter(), os.times()
            once(n, level)
            wall = time.perf_counter() - started
            after = os.times()
            rates.append(n / wall)
            cpus.append((after.user - cpu.user + after.system - cpu.system) / n)
        result[str(level)] = {"n": n, "rates": rates, "cpus": cpus}
    return result


def run_worker(name: str, base: str, args: argparse.Namespace) -> dict[str, Any]:
    """One client's measurements in a child process."""
    command = [sys.executable, __file__, "--worker", name, "--base", base]
    command += ["--levels", ",".join(map(str, args.levels)), "--rounds", str(args.rounds)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        raise SystemExit(f"{name} failed:\n{(done.stderr or done.stdout)[-2000:]}")
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def main() -> None:
    """Start the server, measure both clients, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="server seconds per call")
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--rounds", type=int, default=3, help="runs per level (median shown)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.levels = [int(k) for k in str(args.levels).split(",") if k]
    if args.worker:
        print("RESULT " + json.dumps(worker(args)))
        return
    log = Path(tempfile.mkdtemp(prefix="batch-throughput-")) / "requests.jsonl"
    server, port, counter = start_server(log, args.latency)
    try:
        base = f"http://127.0.0.1:{port}"
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"server: 127.0.0.1:{port}, {args.latency} s a reply; tokens by {counter}")
        print(f"load average before: {load} (other work on this machine skews every figure)")
        names = ("instructor", "library", "batch")
        # Rounds interleave the clients (a process each), so load that drifts over the run
        # (other work on the machine) falls on all three alike.
        results: dict[str, dict[str, Any]] = {name: {} for name in names}
        one_round = argparse.Namespace(levels=args.levels, rounds=1)
        for number in range(args.rounds):
            print(f"round {number + 1} of {args.rounds} ...", file=sys.stderr, flush=True)
            for name in names:
                for level, figures in run_worker(name, base, one_round).items():
                    merged = results[name].setdefault(level, {"n": figures["n"]})
                    merged.setdefault("rates", []).extend(figures["rates"])
                    merged.setdefault("cpus", []).extend(figures["cpus"])
    finally:
        server.terminate()
        server.wait(timeout=10)
    heads = " | ".join(f"{name + ' /s':>13} {'share':>5} {'CPU/art':>8}" for name in names)
    print(f"\n{'in flight':>9} {'articles':>8} | {heads} | batch CPU / instructor's")
    for level in args.levels:
        ideal = level / args.latency
        cells, cpus = [], {}
        for name in names:
            figures = results[name][str(level)]
            rate, cpu = statistics.median(figures["rates"]), statistics.median(figures["cpus"])
            cpus[name] = cpu
            cells.append(f"{rate:>13.1f} {rate / ideal:>5.2f} {cpu * 1000:>6.1f}ms")
        n = results["batch"][str(level)]["n"]
        ratio = cpus["batch"] / cpus["instructor"]
        print(f"{level:>9} {n:>8} | {' | '.join(cells)} | {ratio:.2f}x")
    print(
        "\nshare: articles/s over the ideal (in flight / latency); CPU/art: client user+system "
        f"CPU per article (median of {args.rounds} runs); issue 9's targets: share >= 0.9 up "
        "to 64 in flight, batch CPU <= 1.5x the raw call's"
    )
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(cores here: {os.cpu_count()}; load average at the end: {load}; server log: {log})")


if __name__ == "__main__":
    main()
