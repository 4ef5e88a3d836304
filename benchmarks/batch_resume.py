"""A new user's batch: 200 articles, kill -9 halfway, start again; then a second run from the cache.

    python benchmarks/batch_resume.py [--articles 200] [--latency 0.2] [--concurrency 8]

Against the scripted perfect model (`perfect_model_server.py`, started here in its own process;
its replies are built by that script from each request, not by a model; ``--log-bodies`` so each
request can be traced to its article). It writes N article files (the example article, each
with its own first line) into a temporary folder and runs, exactly as a user would::

    extractor batch FOLDER --out results.jsonl --base-url URL --concurrency C --cache-dir CACHE

1. kills that process with SIGKILL once the output holds about half the lines, and prints how
   many complete lines it left (and whether the last one was torn);
2. runs the same command again: prints the requests it made against the articles left, whether
   any request was for an article already in the output, the final line count and distinct ids,
   and the run's summary;
3. runs the same command with the same output again (nothing to do: zero requests), and with a
   new output and the same cache (every reply from the cache: zero model requests), and prints
   their wall times.
It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
SERVER = Path(__file__).resolve().with_name("perfect_model_server.py")
MARK = re.compile(r"Article number (\d+)\.")


def start_server(log: Path, latency: float) -> tuple[subprocess.Popen[str], int]:
    """The perfect-model server, logging request bodies; (process, port)."""
    command = [sys.executable, str(SERVER), "--port", "0", "--latency", str(latency)]
    command += ["--log", str(log), "--log-bodies"]
    # stderr: the server reports each reply a killed client never read (a broken pipe)
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    ready = process.stdout.readline().split()
    if len(ready) < 2 or ready[0] != "READY":
        process.kill()
        raise SystemExit(f"the server did not start: {ready}")
    return process, int(ready[1])


def write_articles(folder: Path, count: int) -> None:
    """`count` articles: the example article, each with its own first sentence."""
    lines = ARTICLE.read_text(encoding="utf-8").split("\n", 1)
    folder.mkdir(parents=True)
    for number in range(count):
        text = f"{lines[0]}\nArticle number {number}. {lines[1]}"
        (folder / f"article-{number:04d}.txt").write_text(text, encoding="utf-8")


def requested(log: Path, start: int) -> list[int]:
    """The article number of every request logged after line `start` of the server's log."""
    if not log.exists():
        return []
    numbers = []
    for line in log.read_text(encoding="utf-8").splitlines()[start:]:
        body = json.loads(line).get("request", {})
        user = "\n".join(str(m.get("content")) for m in body.get("messages", []))
        found = MARK.search(user)
        numbers.append(int(found[1]) if found else -1)
    return numbers


def log_length(log: Path) -> int:
    """Lines in the server's log so far."""
    return len(log.read_text(encoding="utf-8").splitlines()) if log.exists() else 0


def done_numbers(out: Path) -> tuple[list[int], bool]:
    """Article numbers of the output's complete lines, and whether a torn line follows them."""
    data = out.read_bytes() if out.exists() else b""
    complete = data[: data.rfind(b"\n") + 1]
    numbers = []
    for line in complete.split(b"\n"):
        if line:
            numbers.append(int(json.loads(line)["id"].split("-")[1].split(".")[0]))
    return numbers, len(complete) < len(data)


def run(command: list[str], env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run the command to its end; (its result, wall seconds)."""
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    return done, time.perf_counter() - started


def main() -> None:
    """Run the scenario and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2, help="server seconds per call")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--kill-at", type=float, default=0.5, help="share of lines, then kill")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="batch-resume-"))
    folder, out, cache, log = work / "news", work / "results.jsonl", work / "cache", work / "log"
    write_articles(folder, args.articles)
    server, port = start_server(log, args.latency)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "EXTRACTOR_"))}
    env["OPENAI_API_KEY"] = "sk-benchmark-not-a-key"
    command = [sys.executable, "-c", "from extractor.cli import main; main()", "batch"]
    command += [str(folder), "--out", str(out), "--base-url", f"http://127.0.0.1:{port}/v1"]
    command += ["--concurrency", str(args.concurrency), "--cache-dir", str(cache)]
    shown = " ".join(["extractor", *command[3:]])
    print(f"command: {shown}")
    try:
        # 1. kill -9 about halfway
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
        target = int(args.articles * args.kill_at)
        started = time.perf_counter()
        while process.poll() is None and done_numbers(out)[0].__len__() < target:
            time.sleep(0.01)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        killed_after = time.perf_counter() - started
        time.sleep(args.latency * 3)  # requests in flight at the kill still reach the log
        finished, torn = done_numbers(out)
        before = log_length(log)
        print(
            f"\n1. killed with SIGKILL after {killed_after:.1f} s: {len(finished)} complete "
            f"line(s) of {args.articles}; torn last line: {'yes' if torn else 'no'}; "
            f"{before} request(s) answered so far (the server logs a request once answered)"
        )

        # 2. the same command again
        done, wall = run(command, env)
        again = requested(log, before)
        left = args.articles - len(finished)
        repeated = sorted(set(again) & set(finished))
        final, torn = done_numbers(out)
        print(
            f"2. restart (exit {done.returncode}, {wall:.1f} s): {len(again)} request(s) against "
            f"{left} article(s) left; requests for articles already in the output: "
            f"{len(repeated)}; final lines: {len(final)}, distinct ids: {len(set(final))}, "
            f"torn: {'yes' if torn else 'no'}"
        )
        for line in done.stdout.splitlines():
            print(f"   | {line}")

        # 3. nothing left to do; then a new output answered from the cache
        before = log_length(log)
        done, wall = run(command, env)
        print(
            f"3. same command again (exit {done.returncode}): {log_length(log) - before} "
            f"request(s), {wall:.1f} s wall (start-up included)"
        )
        fresh = work / "again.jsonl"
        cached_command = [*command]
        cached_command[cached_command.index(str(out))] = str(fresh)
        before = log_length(log)
        done, wall = run(cached_command, env)
        rows: list[dict[str, Any]] = [json.loads(x) for x in fresh.read_text().splitlines() if x]
        print(
            f"   new output, same cache (exit {done.returncode}): {log_length(log) - before} "
            f"model request(s), {len(rows)} lines, {wall:.1f} s wall (start-up included)"
        )
        for line in done.stdout.splitlines():
            print(f"   | {line}")
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"\n(files in {work})")


if __name__ == "__main__":
    main()
