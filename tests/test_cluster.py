"""Extraction on a Dask cluster (extractor.cluster, examples/cluster_dask.py), on a local
in-process cluster of two workers: one line per article, one Extractor per worker, ONE rate
limiter shared by every worker, a failing article stopping nothing, resume.

The model is tests/scripted_server.py: its replies are HAND-WRITTEN here (an empty extraction for
every article, a refusal for the one marked to fail); nothing here is a model.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import pickle
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip(
    "distributed", reason='Dask is the optional extra "cluster" (pip install -e ".[dev]")'
)

from extractor import (  # noqa: E402
    ExtractionError,
    Extractor,
    FailedAttempt,
    Usage,
    extract_offline,
    read_article,
)
from extractor.batch_inputs import read_inputs  # noqa: E402
from extractor.batch_lines import ArticleOutcome, Timing  # noqa: E402
from extractor.cluster import (  # noqa: E402
    ClusterLimiter,
    SharedLimiter,
    SharedLimiterLostError,
    errors_path,
    run_on_cluster,
)
from extractor.settings import load_settings  # noqa: E402

from scripted_server import Reply, ScriptedServer, completion, error_body  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "cluster_dask.py"

QUOTED = (
    'date 2025-08-27\nKremlin spokesman Dmitry Peskov said Moscow held a "negative attitude" '
    'toward the plan. "We will not accept it," Foreign Minister Sergei Lavrov said.\n'
)
PLAIN = "The council met on Monday. It agreed a budget for the year, member {n} said.\n"
FAIL_MARK = "This article is refused by the scripted server."


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two workers of two threads each, in this process (no processes spawned: fast)."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def folder_of(tmp_path: Path, texts: dict[str, str]) -> Path:
    folder = tmp_path / "news"
    for name, text in texts.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("cluster_dask", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the example, offline (no model configured) ------------------------------------------------


def test_the_example_over_a_folder_offline(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("OPENAI_API_KEY", "EXTRACTOR_API_KEY", "OPENAI_BASE_URL", "EXTRACTOR_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    texts = {f"2025/a{n}.txt": QUOTED for n in range(5)}
    texts["2025/empty.txt"] = "   \n"  # cannot be read: an error line, the others go on
    texts["b.txt"] = PLAIN.format(n=1)
    folder = folder_of(tmp_path, texts)
    out = tmp_path / "results.jsonl"

    code = load_example().main(
        [str(folder), "--out", str(out), "--scheduler", client.scheduler.address]
    )

    assert code == 1  # one article failed
    said = capsys.readouterr().out
    assert "no model configured" in said
    assert "7 article(s); 6 extracted now, 0 already in" in said and "1 failed" in said
    results, failures = lines(out), lines(errors_path(out))
    assert sorted(r["id"] for r in results) == sorted(set(texts) - {"2025/empty.txt"})
    assert [(f["id"], f["error"]) for f in failures] == [("2025/empty.txt", "InputError")]
    # Each line is the offline result, spans indexing the file as given (date line included).
    article = read_article(folder / "2025/a0.txt")
    expected = extract_offline(article.text, published=article.published)
    line = next(r for r in results if r["id"] == "2025/a0.txt")
    assert line["source"] == str(folder / "2025/a0.txt")
    assert [q["text"] for q in line["result"]["quotes"]] == [q.text for q in expected.quotes]
    file_text = (folder / "2025/a0.txt").read_text(encoding="utf-8")
    for quote in line["result"]["quotes"]:
        span = quote["span"]
        assert file_text[span["start"] : span["end"]] == span["text"] == quote["text"]
    assert [q["speaker"]["name"] for q in line["result"]["quotes"]] == [
        "Dmitry Peskov",
        "Sergei Lavrov",
    ]
    assert line["usage"]["requests"] == 0

    # Run again with the same output: what is done (or failed) is skipped, nothing written twice.
    load_example().main([str(folder), "--out", str(out), "--scheduler", client.scheduler.address])
    assert "0 extracted now, 6 already in" in capsys.readouterr().out
    assert lines(out) == results and lines(errors_path(out)) == failures
    # Mended, the failed article is redone by --retry-failed, and only it.
    (folder / "2025/empty.txt").write_text(QUOTED, encoding="utf-8")
    code = load_example().main(
        [str(folder), "--out", str(out), "--scheduler", client.scheduler.address, "--retry-failed"]
    )
    assert code == 0 and "1 extracted now, 6 already in" in capsys.readouterr().out
    assert lines(out)[:6] == results and lines(out)[6]["id"] == "2025/empty.txt"
    assert not errors_path(out).exists()  # nothing fails any more


# --- with a model: the scripted server ---------------------------------------------------------


def handwritten(request: dict[str, Any]) -> Reply:
    """HAND-WRITTEN replies: an empty extraction, or a 400 for the article marked to fail."""
    if FAIL_MARK in json.dumps(request):
        return Reply(error_body("refused by the scripted server", "invalid_request_error"), 400)
    return Reply(completion({"events": [], "commitments": []}, prompt_tokens=50))


def test_a_run_with_a_model_shares_one_limiter_and_one_extractor_per_worker(
    client: Any, tmp_path: Path
) -> None:
    texts = {f"p{n:02}.txt": PLAIN.format(n=n) for n in range(12)}
    texts["p05.txt"] = f"{FAIL_MARK} {PLAIN.format(n=5)}"
    folder = folder_of(tmp_path, texts)
    out = tmp_path / "results.jsonl"
    with ScriptedServer() as server:
        server.responder = handwritten
        settings = load_settings(
            base_url=server.base_url,
            api_key="sk-cluster-test",
            requests_per_minute=10_000,
            max_transient_retries=0,
        )
        summary = run_on_cluster(client, read_inputs([folder]), out, settings=settings)

    results, failures = lines(out), lines(errors_path(out))
    # Every article exactly once; the refused one in the errors file, the others unharmed.
    assert sorted(r["id"] for r in results) == sorted(set(texts) - {"p05.txt"})
    assert [(f["id"], f["error"]) for f in failures] == [("p05.txt", "RequestRejectedError")]
    batch = summary.batch
    assert (batch.total, batch.done, batch.failed, batch.skipped) == (12, 11, 1, 0)
    # ONE limiter: every request any worker sent was booked with it, from both workers.
    requests = len(server.requests)
    assert requests == 12
    assert summary.limiter["requests"] == requests == batch.usage.requests + 1  # +1: the 400
    assert set(summary.limiter["by_worker"]) == set(client.scheduler_info()["workers"])
    assert sum(summary.limiter["by_worker"].values()) == requests
    # One Extractor per worker, reused by all the articles that worker ran.
    assert len(summary.extractors) == len(summary.articles_per_worker) == 2
    assert sum(summary.articles_per_worker.values()) == 12


def test_a_task_that_breaks_is_an_error_line_and_the_others_go_on(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import extractor.cluster

    def broken(text: str, **options: Any) -> Any:
        if "BREAK" in text:
            raise RuntimeError("a bug on one article")
        return extract_offline(text, **options)

    # The in-process cluster's workers call this module's function: one article hits a bug.
    monkeypatch.setattr(extractor.cluster, "extract_offline", broken)
    texts = {f"q{n}.txt": QUOTED for n in range(4)}
    texts["q9.txt"] = "BREAK " + QUOTED
    folder = folder_of(tmp_path, texts)
    out = tmp_path / "results.jsonl"
    summary = run_on_cluster(client, read_inputs([folder]), out, offline=True)
    assert sorted(r["id"] for r in lines(out)) == [f"q{n}.txt" for n in range(4)]
    [failure] = lines(errors_path(out))
    assert failure["id"] == "q9.txt" and failure["error"] == "ExtractorError"
    assert "RuntimeError: a bug on one article" in failure["message"]
    assert (summary.batch.done, summary.batch.failed) == (4, 1)


def test_a_wrong_key_stops_the_example_with_one_error_line(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = folder_of(tmp_path, {f"w{n}.txt": PLAIN.format(n=n) for n in range(6)})
    out = tmp_path / "results.jsonl"
    with ScriptedServer() as server:
        # HAND-WRITTEN: the server refuses the key, as OpenAI does.
        server.responder = lambda request: Reply(
            error_body("Incorrect API key provided", "invalid_request_error"), 401
        )
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-key-0123456789")
        # Tasks already on the cluster when the run stops run to their end (Dask cannot stop a
        # thread): with no retries and a short timeout, a request this server, closed right
        # after, leaves unanswered ends soon instead of holding up the cluster's shutdown.
        monkeypatch.setenv("EXTRACTOR_MAX_TRANSIENT_RETRIES", "0")
        monkeypatch.setenv("EXTRACTOR_TIMEOUT", "2")
        code = load_example().main(
            [str(folder), "--out", str(out), "--scheduler", client.scheduler.address]
        )
    assert code == 3
    err = capsys.readouterr().err
    # One error line from the example (other lines may be Dask's logging of the cancelled tasks,
    # through whatever handlers earlier tests left on the root logger).
    [said] = [line for line in err.splitlines() if line.startswith("error: ")]
    assert "401" in said and "sk-wrong" not in err
    # Every article would fail alike: the run stopped, nothing written for it; a later run
    # (with the right key) does them all.
    assert lines(out) == [] and lines(errors_path(out)) == []
    assert 1 <= len(server.requests) <= 6


def test_a_workers_threads_share_one_client_of_its_one_extractor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A worker runs its articles on several threads with one Extractor: the first articles,
    arriving at once, build one HTTP client between them, not one each."""
    import openai

    built: list[object] = []

    class Counted(openai.OpenAI):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            built.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(openai, "OpenAI", Counted)
    with ScriptedServer() as server:
        server.responder = handwritten
        extractor = Extractor(base_url=server.base_url, api_key="k")
        start = threading.Barrier(8)

        def one(n: int) -> int:
            start.wait()
            return extractor.extract(PLAIN.format(n=n)).usage.requests

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(one, range(8))) == [1] * 8
        extractor.close()
    assert len(built) == 1 and len(server.requests) == 8


# --- the shared limiter itself -----------------------------------------------------------------


class FrozenClock:
    """A clock that never moves: whatever the limiter grants must fit one minute."""

    def __call__(self) -> float:
        return 1000.0


def book(limiter: Any, attempts: int) -> list[bool]:
    """On a worker: try to book `attempts` requests, never waiting; which were granted."""
    handle = ClusterLimiter(limiter)
    return [handle.reserve(10, max_wait=0.0) is not None for _ in range(attempts)]


def test_the_limit_holds_for_all_workers_together(client: Any) -> None:
    limiter = client.submit(SharedLimiter, 3, None, FrozenClock(), actor=True).result()
    workers = list(client.scheduler_info()["workers"])
    futures = [
        client.submit(book, limiter, 4, workers=[address], pure=False) for address in workers
    ]
    granted = [sum(f.result()) for f in futures]
    # 3 a minute for the whole cluster, not 3 per worker: 8 tried, 3 granted in all.
    assert sum(granted) == 3
    counts = limiter.counts().result()
    assert counts["requests"] == 3 and counts["refused"] == 5 and counts["tokens"] == 30


def test_a_429_one_worker_sees_pauses_every_worker(client: Any) -> None:
    limiter = client.submit(SharedLimiter, None, None, FrozenClock(), actor=True).result()
    first, second = list(client.scheduler_info()["workers"])
    assert client.submit(book, limiter, 1, workers=[second], pure=False).result() == [True]
    told = client.submit(tell_429, limiter, workers=[first], pure=False)
    told.result()
    # The other worker's next request must wait out the pause: not now.
    assert client.submit(book, limiter, 1, workers=[second], pure=False).result() == [False]


def tell_429(limiter: Any) -> None:
    """On a worker: the server answered this worker's request with a 429 asking for 30 s."""
    handle = ClusterLimiter(limiter)
    booked = handle.reserve(10)
    assert booked is not None
    handle.observe(booked.ticket, 429, {"retry-after": "30"})


class LostActor:
    """Stands in for the handle of an actor whose worker died: no call is ever answered."""

    def __init__(self) -> None:
        self.calls = 0

    def reserve(self, *args: Any) -> Any:
        self.calls += 1
        return self

    def result(self, timeout: float | None = None) -> Any:
        raise TimeoutError(f"timed out after {timeout} s.")


def test_a_lost_limiter_fails_the_request_and_later_ones_at_once() -> None:
    actor = LostActor()
    handle = ClusterLimiter(actor, timeout=0.01)
    with pytest.raises(SharedLimiterLostError, match=r"limiter is gone .*timed out after 0\.01 s"):
        handle.reserve(10)
    with pytest.raises(SharedLimiterLostError):
        handle.reserve(10)
    assert actor.calls == 1  # the second request did not wait for it again


def test_an_extractor_whose_limiter_is_lost_fails_without_sending_or_retrying() -> None:
    actor = LostActor()
    with ScriptedServer() as server:
        server.responder = handwritten
        extractor = Extractor(
            base_url=server.base_url, api_key="k", limiter=ClusterLimiter(actor, timeout=0.01)
        )
        with pytest.raises(SharedLimiterLostError):
            extractor.extract(PLAIN.format(n=1))
        extractor.close()
    # openai passes it on unwrapped (it is an OpenAIError), so it is not retried as a
    # connection error: one booking tried, no request sent.
    assert actor.calls == 1 and server.requests == []


# --- what crosses from a worker to the driver ---------------------------------------------------


def test_a_failed_outcome_survives_pickling_whole() -> None:
    """A worker sends each outcome to the driver pickled (a real cluster always does; the
    in-process one above may not), errors with their usage and partial records included."""
    attempt = FailedAttempt(number=1, errors=["quote not in the article"], raw_reply="{}")
    partial = extract_offline(QUOTED)
    error = ExtractionError(
        "no reply grounded", attempts=[attempt], usage=Usage(requests=3), partial=partial
    )
    timing = Timing(started=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), seconds=1.5)
    outcome = ArticleOutcome("a.txt", None, error, error.usage or Usage(), timing, None)
    back = pickle.loads(pickle.dumps(outcome))
    assert type(back.error) is ExtractionError and str(back.error) == "no reply grounded"
    assert back.error.usage == Usage(requests=3) and back.error.partial == partial
    assert back.error.last_errors == ["quote not in the article"]
