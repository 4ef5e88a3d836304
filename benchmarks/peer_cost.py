"""What one article costs the client with each peer, against one scripted "perfect model" server.

    python benchmarks/peer_cost.py                 # about 4.5 minutes (2 cores)
    python benchmarks/peer_cost.py --quick         # about 30 s: fewer runs, no 64 in flight, no x10
    mkdir /tmp/base && git archive COMMIT src | tar -x -C /tmp/base    # an earlier library...
    python benchmarks/peer_cost.py --baseline-src /tmp/base/src        # ...measured beside it

Peers, each run in its own process so that its CPU time is its own:
- instructor: ``instructor.from_openai(OpenAI(...), mode=Mode.TOOLS)`` with one response model
  (lists of quotes, events, commitments; defined here), one call per article;
- extractor: this library's ``Extractor(..., mode="tools").extract`` / ``aextract``;
- langextract: ``lx.extract`` with its OpenAI provider pointed at the server, run by a Python that
  has it (``--langextract-python``; by default this one, else /tmp/lxvenv/bin/python). When none
  does, the issue's figures for it are printed, labelled as quoted.
The server (`perfect_model_server.py`, started here in a separate process so that its CPU is not
counted) answers every request's schema with the article's own words; calls and tokens come from
its log. The perfect model answers what each schema asks: the extractor's quote records can hold
speech reported without quotation marks, so it gets those too (instructor's model asks for direct
quotations only); the replies' tokens are printed per list. Figures are printed, nothing asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt"
SERVER = Path(__file__).resolve().with_name("perfect_model_server.py")
MODEL = "gpt-4o-mini"  # the server ignores it; it routes LangExtract to its OpenAI provider
PEERS = ("instructor", "extractor", "langextract")
DATE_LINE = re.compile(r"\s*date\s+(\d{4}-\d{2}-\d{2})\b")
INSTRUCTIONS = (
    "From the news article, list (1) quotes: every direct quotation, its words copied exactly, "
    "and who said it; (2) events: what happened, as the article's own sentence, and the main "
    "actor; (3) commitments: an actor's promise or stated intention to do or not do something, "
    "as the article's own sentence, and the actor. Copy text exactly; never paraphrase."
)
# The issue's figures (issue 8), printed when LangExtract cannot be run here.
ISSUE_LANGEXTRACT = {
    "prompt tokens / article": "2,092",
    "completion tokens / article": "823",
    "client CPU": "11x instructor's",
    "64 in flight, share of ideal": "0.12",
    "article x10": "23 calls, 6 cut inside a quotation, 16,979 prompt tokens",
    "article x10, 0.3 s + 5 ms/token": "8.5 s",
}


class QuoteRecord(BaseModel):
    """A direct quotation."""

    text: str = Field(description="The quoted words, copied exactly.")
    speaker: str = Field(description="Who said them.")


class EventRecord(BaseModel):
    """Something that happened."""

    text: str = Field(description="The sentence reporting it, copied exactly.")
    actor: str = Field(description="The main actor.")


class CommitmentRecord(BaseModel):
    """A promise or stated intention."""

    text: str = Field(description="The sentence stating it, copied exactly.")
    actor: str = Field(description="Who commits.")


class ArticleRecords(BaseModel):
    """Everything the article reports: quotes, events, commitments."""

    quotes: list[QuoteRecord]
    events: list[EventRecord]
    commitments: list[CommitmentRecord]


# ---------------------------------------------------------------------------------- the peers


def published_of(text: str) -> str | None:
    """The date of the article's date line, passed to the extractor as ``published``."""
    match = DATE_LINE.match(text)
    return match.group(1) if match else None


def count_items(result: Any) -> int:
    """Records in a result: list fields of a pydantic result (or its ``data``), or extractions."""
    if isinstance(result, list):
        return sum(count_items(r) for r in result)
    if hasattr(result, "extractions"):
        return len(result.extractions or [])
    data = getattr(result, "data", result)
    if not isinstance(data, BaseModel):
        return 0
    return sum(len(v) for v in data.__dict__.values() if isinstance(v, list))


class Peer:
    """One way of extracting an article: a synchronous call and an in-flight batch."""

    def __init__(self, name: str, base: str) -> None:
        """`base` is the server's root URL; each measurement adds its own tag to it."""
        self.name, self.base = name, base
        self.clients: dict[str, Any] = {}  # one client per URL, kept as an application would

    def url(self, tag: str, options: str = "") -> str:
        """The base URL for one measurement: tagged, with per-request server options."""
        prefix = f"/~{options}" if options else ""
        return f"{self.base}{prefix}/{self.name}/{tag}/v1"

    def one(self, text: str, url: str) -> Any:
        """Extract one article, one call after another."""
        if self.name == "instructor":
            import instructor
            from openai import OpenAI

            if url not in self.clients:
                self.clients[url] = instructor.from_openai(
                    OpenAI(base_url=url, api_key="stub", max_retries=0), mode=instructor.Mode.TOOLS
                )
            return self.clients[url].chat.completions.create(
                model=MODEL,
                response_model=ArticleRecords,
                messages=[
                    {"role": "system", "content": INSTRUCTIONS},
                    {"role": "user", "content": text},
                ],
            )
        if self.name.startswith("extractor"):
            from extractor import Extractor

            if url not in self.clients:
                self.clients[url] = Extractor(MODEL, base_url=url, api_key="stub", mode="tools")
            return self.clients[url].extract(text, published=published_of(text))
        return self._langextract(text, url)

    def many(self, text: str, url: str, in_flight: int) -> list[Any]:
        """Extract `in_flight` copies of the article at once, the peer's own way."""
        if self.name == "langextract":
            import langextract as lx

            docs = [lx.data.Document(text=text, document_id=f"d{i}") for i in range(in_flight)]
            return list(self._langextract(docs, url, max_workers=in_flight, batch_length=in_flight))
        return asyncio.run(self._gather(text, url, in_flight))

    async def _gather(self, text: str, url: str, in_flight: int) -> list[Any]:
        if self.name == "instructor":
            import instructor
            from openai import AsyncOpenAI

            client = instructor.from_openai(
                AsyncOpenAI(base_url=url, api_key="stub", max_retries=0),
                mode=instructor.Mode.TOOLS,
            )
            messages = [
                {"role": "system", "content": INSTRUCTIONS},
                {"role": "user", "content": text},
            ]
            return await asyncio.gather(
                *[
                    client.chat.completions.create(
                        model=MODEL, response_model=ArticleRecords, messages=messages
                    )
                    for _ in range(in_flight)
                ],
                return_exceptions=True,
            )
        from extractor import Extractor

        async with Extractor(MODEL, base_url=url, api_key="stub", mode="tools") as extractor:
            published = published_of(text)
            return await asyncio.gather(
                *[extractor.aextract(text, published=published) for _ in range(in_flight)],
                return_exceptions=True,
            )

    def _langextract(self, text_or_docs: Any, url: str, **options: Any) -> Any:
        import langextract as lx

        example = lx.data.ExampleData(
            text=(
                "The port authority said on Friday that the ferry terminal would close for "
                'repairs. "We will reopen it before the summer season," harbour master Lena '
                "Ortiz told reporters. The city council approved the budget on Thursday."
            ),
            extractions=[
                lx.data.Extraction(
                    extraction_class="commitment",
                    extraction_text='"We will reopen it before the summer season," harbour '
                    "master Lena Ortiz told reporters.",
                    attributes={"actor": "Lena Ortiz"},
                ),
                lx.data.Extraction(
                    extraction_class="quote",
                    extraction_text="We will reopen it before the summer season",
                    attributes={"speaker": "Lena Ortiz"},
                ),
                lx.data.Extraction(
                    extraction_class="event",
                    extraction_text="The city council approved the budget on Thursday.",
                    attributes={"actor": "The city council"},
                ),
            ],
        )
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            return lx.extract(
                text_or_docs,
                prompt_description=INSTRUCTIONS,
                examples=[example],
                model_id=MODEL,
                api_key="stub",
                model_url=url,
                show_progress=False,
                **options,
            )


def outcome(peer: Peer, text: str, url: str) -> dict[str, Any]:
    """Run one article and say what came back: records, or the error and what it kept."""
    started, cpu = time.perf_counter(), time.process_time()
    try:
        result = peer.one(text, url)
        out: dict[str, Any] = {"items": count_items(result)}
    except Exception as error:  # reported, not raised: the peer failed here
        partial = getattr(error, "partial", None)
        out = {"error": f"{type(error).__name__}: {str(error)[:300]}", "kept": count_items(partial)}
    out.update(wall=time.perf_counter() - started, cpu=time.process_time() - cpu)
    return out


def worker(args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement of one peer, in this process; returned as JSON to the parent."""
    logging.disable(logging.WARNING)
    peer = Peer(args.worker, args.base)
    text = Path(args.article).read_text(encoding="utf-8")
    long_text = "\n\n".join([text] * args.repeat)
    result: dict[str, Any] = {"warmup": outcome(peer, text, peer.url("warmup"))}
    runs = [outcome(peer, text, peer.url("seq")) for _ in range(args.n)]
    result["seq"] = runs
    result["in_flight"] = {}
    for in_flight in args.in_flight:
        if in_flight <= 1:
            continue
        rates, cpus, errors = [], [], []
        for _ in range(args.rounds):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                results = peer.many(text, peer.url(f"c{in_flight}"), in_flight)
            except Exception as error:  # reported, not raised: the peer failed here
                errors.append(f"{type(error).__name__}: {str(error)[:200]}")
                continue
            rates.append(len(results) / (time.perf_counter() - started))
            cpus.append((time.process_time() - cpu) / in_flight)
            errors += [
                f"{type(r).__name__}: {str(r)[:200]}" for r in results if isinstance(r, Exception)
            ]
        result["in_flight"][str(in_flight)] = {"rates": rates, "cpus": cpus, "errors": errors}
    if args.repeat > 1 and not args.quick:
        timed = f"latency={args.long_latency},ms_per_token={args.long_ms_per_token}"
        result["long"] = outcome(peer, long_text, peer.url("long", timed))
        result["long_capped"] = outcome(peer, long_text, peer.url("cap", "honor_max_tokens=1"))
        if peer.name.startswith("extractor"):  # its chunks go concurrently through aextract
            started, cpu = time.perf_counter(), time.process_time()
            try:
                (got,) = peer.many(long_text, peer.url("longasync", timed), 1)
                done = {"error": repr(got)[:300]} if isinstance(got, Exception) else {"items": 1}
            except Exception as error:  # reported, not raised: the peer failed here
                done = {"error": f"{type(error).__name__}: {str(error)[:300]}"}
            done.update(wall=time.perf_counter() - started, cpu=time.process_time() - cpu)
            result["long_async"] = done
    return result


# ---------------------------------------------------------------------------------- the parent


def start_server(log: Path, latency: float) -> tuple[subprocess.Popen[str], int, str]:
    """Start the perfect-model server; (process, port, token counter)."""
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "--port", "0", "--latency", str(latency), "--log", str(log)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready = process.stdout.readline().split(maxsplit=2)
    if len(ready) < 2 or ready[0] != "READY":
        process.kill()
        raise SystemExit(f"the server did not start: {ready}")
    return process, int(ready[1]), ready[2].strip() if len(ready) > 2 else "?"


def python_for(peer: str, chosen: str | None, args: argparse.Namespace) -> tuple[str | None, str]:
    """The Python that can run `peer`, or None and why not."""
    module = {"instructor": "instructor", "langextract": "langextract"}.get(peer, "extractor")
    candidates = [chosen] if chosen else [sys.executable]
    if peer == "langextract" and not chosen:
        candidates.append("/tmp/lxvenv/bin/python")
    for python in candidates:
        if not python or not Path(python).exists():
            continue
        probe = f"import {module}, openai"
        source = args.baseline_src if peer == "extractor-baseline" else args.extractor_src
        env = {**os.environ, "PYTHONPATH": source} if module == "extractor" else None
        check = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, timeout=120, env=env
        )
        if check.returncode == 0:
            return python, ""
    return None, f"{peer} (with openai) is not importable from {', '.join(map(str, candidates))}"


def run_worker(python: str, peer: str, base: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one peer's measurements in a child process; its JSON result or an error."""
    command = [python, __file__, "--worker", peer, "--base", base, "--article", args.article]
    command += ["--n", str(args.n), "--rounds", str(args.rounds), "--repeat", str(args.repeat)]
    command += ["--in-flight", ",".join(map(str, args.in_flight))]
    command += ["--long-latency", str(args.long_latency)]
    command += ["--long-ms-per-token", str(args.long_ms_per_token)]
    command += ["--quick"] if args.quick else []
    source = args.baseline_src if peer == "extractor-baseline" else args.extractor_src
    env = {**os.environ, "PYTHONPATH": source} if peer.startswith("extractor") else None
    done = subprocess.run(command, capture_output=True, text=True, timeout=1200, env=env)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode or not lines:
        return {"failed": (done.stderr or done.stdout).strip()[-1500:]}
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def log_lines(log: Path) -> list[dict[str, Any]]:
    """The server's log."""
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def tally(lines: list[dict[str, Any]], tag: str, articles: int) -> dict[str, float]:
    """Calls and tokens per article for the requests logged under `tag`."""
    mine = [ln for ln in lines if ln["tag"] == tag or ln["tag"].startswith(tag + "/")]
    per = max(articles, 1)
    return {
        "calls": len(mine) / per,
        "prompt": sum(ln["prompt_tokens"] for ln in mine) / per,
        "schema": sum(ln["schema_tokens"] for ln in mine) / per,
        "completion": sum(ln["completion_tokens"] for ln in mine) / per,
        "over_max": sum(
            1 for ln in mine if ln["max_tokens"] and ln["full_completion_tokens"] > ln["max_tokens"]
        ),
        "cut": sum(1 for ln in mine if ln["finish_reason"] == "length"),
        "in_quotation": sum(1 for ln in mine if ln["cut_in_quotation"]),
        "max_tokens": max((ln["max_tokens"] or 0 for ln in mine), default=0),
    }


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Rows right-aligned under their headers."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows, strict=True)]
    lines = [" | ".join(str(c).rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    rule = "-+-".join("-" * w for w in widths)
    head = " | ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True))
    return "\n".join([head, rule, *lines])


def report(
    results: dict[str, dict[str, Any]],
    lines: list[dict[str, Any]],
    args: argparse.Namespace,
    counter: str,
    skipped: dict[str, str],
) -> None:
    """Print the per-article table, the in-flight table and the long-text table."""
    text = Path(args.article).read_text(encoding="utf-8")
    print(
        f"article {Path(args.article).name}: {len(text)} characters; server latency "
        f"{args.latency} s/call; tokens counted with {counter}; extractor from "
        f"{args.extractor_src}"
        + (f", extractor-baseline from {args.baseline_src}" if args.baseline_src else "")
    )
    for peer, why in skipped.items():
        print(f"skipped {peer}: {why}")
    base_cpu = None
    if "instructor" in results and "seq" in results["instructor"]:
        base_cpu = statistics.median(r["cpu"] for r in results["instructor"]["seq"])
    rows = []
    for peer, res in results.items():
        if "failed" in res:
            print(f"{peer} failed:\n{res['failed']}")
            continue
        seq = res["seq"]
        counts = tally(lines, f"{peer}/seq", len(seq))
        cpu = statistics.median(r["cpu"] for r in seq)
        errors = [r["error"] for r in seq if "error" in r]
        rows.append(
            [
                peer,
                f"{counts['calls']:.2f}",
                f"{counts['prompt']:,.0f}",
                f"{counts['schema']:,.0f}",
                f"{counts['completion']:,.0f}",
                f"{cpu * 1000:.1f}",
                f"{cpu / base_cpu:.1f}x" if base_cpu else "-",
                str(seq[-1].get("items", "-")),
                errors[0][:60] if errors else "",
            ]
        )
    print(f"\nOne article at a time ({args.n} runs, medians; CPU = the client process's)")
    for peer in results:
        lists: dict[str, int] = {}
        for line in lines:
            if line["tag"] == f"{peer}/seq" and line["n"] == min(
                ln["n"] for ln in lines if ln["tag"] == f"{peer}/seq"
            ):
                lists = line.get("by_list", {})
        if lists and peer != "langextract":
            shown = ", ".join(f"{k} {v:,}" for k, v in lists.items())
            print(f"  {peer}: completion tokens of the first reply by list: {shown}")
    print(
        table(
            rows,
            [
                "peer",
                "calls",
                "prompt tok",
                "(schema)",
                "completion tok",
                "client CPU ms",
                "vs instructor",
                "records",
                "error",
            ],
        )
    )
    rows = []
    for peer, res in results.items():
        if "failed" in res:
            continue
        walls = [r["wall"] for r in res["seq"]]
        shares = [f"{(1 / statistics.median(walls)) * args.latency:.2f}"]
        for in_flight in args.in_flight:
            got = res["in_flight"].get(str(in_flight))
            if in_flight > 1 and got and got["rates"]:
                rate = statistics.median(got["rates"])
                failed = f" ({len(got['errors'])} failed)" if got["errors"] else ""
                shares.append(f"{rate:.1f}/s = {rate * args.latency / in_flight:.2f}{failed}")
            elif in_flight > 1:
                shares.append("failed")
        top = res["in_flight"].get(str(max(args.in_flight)))
        cpus = top["cpus"] if top and top["cpus"] else [r["cpu"] for r in res["seq"]]
        cpu = f"{statistics.median(cpus) * 1000:.1f}"
        rows.append([peer, *shares, cpu])
    headers = ["peer", "1 in flight"] + [f"{k} in flight" for k in args.in_flight if k > 1]
    headers.append(f"client CPU ms/art at {max(args.in_flight)}")
    print(
        f"\nArticles/s as a share of the ideal (in flight / {args.latency} s latency; "
        f"median of {args.rounds} rounds)"
    )
    print(table(rows, headers))
    if args.quick or args.repeat <= 1:
        return
    rows = []
    for peer, res in results.items():
        if "failed" in res or "long" not in res:
            continue
        capped = res["long_capped"]
        capped_counts = tally(lines, f"{peer}/cap", 1)
        kept = f"ok, {capped['items']} records" if "items" in capped else capped["error"][:50]
        kept += f" ({capped_counts['calls']:.0f} calls, {capped_counts['cut']:.0f} cut)"
        runs = [(peer, "long", res["long"], kept)]
        if "long_async" in res:
            runs.append((f"{peer} (aextract)", "longasync", res["long_async"], "-"))
        for label, tag, long, cap_note in runs:
            counts = tally(lines, f"{peer}/{tag}", 1)
            failed = f" ({long['error'][:40]})" if "error" in long else ""
            rows.append(
                [
                    label,
                    f"{counts['calls']:.0f}",
                    f"{counts['prompt']:,.0f}",
                    f"{counts['completion']:,.0f}",
                    f"{counts['over_max']:.0f} (cap {counts['max_tokens'] or '-'})",
                    f"{counts['in_quotation']:.0f}",
                    f"{long['wall']:.1f}{failed}",
                    f"{long['cpu']:.2f}",
                    cap_note,
                ]
            )
    long_chars = len("\n\n".join([text] * args.repeat))
    print(
        f"\nThe article x{args.repeat} ({long_chars:,} characters), latency "
        f"{args.long_latency} s + {args.long_ms_per_token:g} ms per output token"
    )
    print(
        table(
            rows,
            [
                "peer",
                "calls",
                "prompt tok",
                "completion tok",
                "over max_tokens",
                "chunk cut in quote",
                "wall s",
                "client CPU s",
                "server cutting at max_tokens",
            ],
        )
    )


def targets(results: dict[str, dict[str, Any]], lines: list[dict[str, Any]], top: int) -> None:
    """Print the extractor's figures against issue 8's targets (printed, not asserted)."""
    ours, raw = results.get("extractor", {}), results.get("instructor", {})
    if "seq" not in ours or "seq" not in raw:
        return
    mine, theirs = (
        tally(lines, "extractor/seq", len(ours["seq"])),
        tally(lines, "instructor/seq", len(raw["seq"])),
    )
    cpu = statistics.median(r["cpu"] for r in ours["seq"]) / statistics.median(
        r["cpu"] for r in raw["seq"]
    )
    rows = [
        ("prompt tokens vs instructor", mine["prompt"] / theirs["prompt"], "<= 1.1x", 1.1),
        (
            "completion tokens vs instructor",
            mine["completion"] / theirs["completion"],
            "<= 0.75x",
            0.75,
        ),
        ("client CPU vs instructor", cpu, "<= 1.5x", 1.5),
    ]
    a, b = ours["in_flight"].get(str(top)), raw["in_flight"].get(str(top))
    if a and b and a["rates"] and b["rates"]:
        share = statistics.median(a["rates"]) / statistics.median(b["rates"])
        rows.append((f"articles/s at {top} in flight vs instructor", share, ">= 0.9x", -0.9))
    lx = results.get("langextract", {})
    if "long" in ours:
        long = tally(lines, "extractor/long", 1)
        lx_prompt = tally(lines, "langextract/long", 1)["prompt"] if "long" in lx else 16_979
        lx_wall = lx["long"]["wall"] if "long" in lx else 8.5
        quoted = "" if "long" in lx else " (quoted from the issue)"
        wall = min(ours["long"]["wall"], ours.get("long_async", ours["long"])["wall"])
        rows += [
            ("x10: replies over max_tokens", long["over_max"], "0", 0),
            ("x10: chunks cut inside a quotation", long["in_quotation"], "0", 0),
            (
                f"x10: prompt tokens vs LangExtract's{quoted}",
                long["prompt"] / lx_prompt,
                "<= 0.5x",
                0.5,
            ),
            (
                f"x10: wall time (extract or aextract) vs LangExtract's{quoted}",
                wall / lx_wall,
                "<= 1x",
                1.0,
            ),
        ]
    print("\nThe extractor against issue 8's targets (printed, not asserted)")
    shown = []
    for name, value, target, bound in rows:
        met = value >= -bound if bound < 0 else value <= bound
        shown.append([name, f"{value:.2f}", target, "met" if met else "NOT met"])
    print(table(shown, ["measure", "value", "target", ""]))


def main() -> None:
    """Parse arguments; run as the parent (start server, run peers, print) or as a worker."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--article", default=str(ARTICLE))
    parser.add_argument("--n", type=int, default=5, help="articles one at a time")
    parser.add_argument("--rounds", type=int, default=3, help="rounds at each in-flight level")
    parser.add_argument("--in-flight", default="1,8,64", help="levels of articles in flight")
    parser.add_argument("--latency", type=float, default=0.2, help="server seconds per call")
    parser.add_argument("--long-latency", type=float, default=0.3)
    parser.add_argument("--long-ms-per-token", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=10, help="the long text: article xN")
    parser.add_argument("--peers", default=",".join(PEERS))
    parser.add_argument("--langextract-python", default=None, help="a Python with langextract")
    parser.add_argument("--quick", action="store_true", help="n=3, rounds=1, 1 and 8 in flight")
    parser.add_argument("--json-out", default=None, help="also write the raw figures here")
    parser.add_argument(
        "--extractor-src", default=str(ROOT / "src"), help="the extractor package's source folder"
    )
    parser.add_argument(
        "--baseline-src",
        default=None,
        help="another extractor source folder (e.g. an earlier commit's, from git archive), "
        "measured in the same run as the peer 'extractor-baseline'",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.in_flight = [int(k) for k in str(args.in_flight).split(",") if k]
    if args.quick:
        args.n, args.rounds, args.in_flight = 3, 1, [k for k in args.in_flight if k <= 8]
    if args.worker:
        print("RESULT " + json.dumps(worker(args)))
        return
    log = Path(tempfile.mkdtemp(prefix="peer-cost-")) / "requests.jsonl"
    server, port, counter = start_server(log, args.latency)
    results: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    try:
        peers = args.peers.split(",")
        if args.baseline_src and "extractor-baseline" not in peers:
            peers.insert(
                peers.index("extractor") if "extractor" in peers else 1, "extractor-baseline"
            )
        for peer in peers:
            chosen = args.langextract_python if peer == "langextract" else None
            python, why = python_for(peer, chosen, args)
            if python is None:
                skipped[peer] = why
                continue
            print(f"running {peer} ...", file=sys.stderr, flush=True)
            results[peer] = run_worker(python, peer, f"http://127.0.0.1:{port}", args)
    finally:
        server.terminate()
        server.wait(timeout=10)
    lines = log_lines(log)
    report(results, lines, args, counter, skipped)
    targets(results, lines, max(args.in_flight))
    if "langextract" not in results or "failed" in results["langextract"]:
        print("\nLangExtract, quoted from issue 8 (not measured in this run):")
        for name, value in ISSUE_LANGEXTRACT.items():
            print(f"  {name}: {value}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"results": results, "log": lines}, indent=1))
    print(f"\n(server log: {log})")


if __name__ == "__main__":
    main()
