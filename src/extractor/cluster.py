"""Extraction of many articles across a Dask cluster (``pip install "extractor[cluster]"``).

    from distributed import Client
    from extractor.batch_inputs import read_inputs
    from extractor.cluster import run_on_cluster

    with Client("tcp://scheduler:8786") as client:       # or Client(LocalCluster(...))
        summary = run_on_cluster(client, read_inputs(["news/"]), Path("results.jsonl"))

How the work is shared (Dask does the scheduling; nothing here decides which worker runs what):

- This process (the driver) reads each article (`extractor.batch_inputs`), hands it to the
  cluster as one task, and writes each line as its task finishes through `BatchRun`, exactly as
  ``extractor batch`` does: the same two files, locked, resumable (what is in the output, or
  failed before, is skipped; ``retry_failed`` redoes the failed), a torn last line cut.
  Workers get the article's text, so they need no access to the files.
- Each worker holds ONE `Extractor`, made when the worker plugin (`ExtractorPlugin`) is set up on
  it and reused by every article it runs; a worker runs as many articles at once as it has
  threads (``dask worker --nthreads``). Its HTTP connections stay open between articles.
- ONE rate limiter for the whole cluster: `SharedLimiter`, a Dask actor living on one worker,
  holds the requests- and tokens-per-minute budget (`extractor.ratelimit`); every request of
  every worker first asks it for a slot (`ClusterLimiter`), and reports the server's
  ``x-ratelimit-*`` headers back, so a 429 on one worker slows them all.
- Failures are data: an article that cannot be read, whose extraction fails, or whose worker was
  lost is a line in the errors file with the reason; the others go on.

With no model configured (no key, no base URL) or ``offline=True``, each article gets the offline
quote path (`extract_offline`): no Extractor, no limiter, no request.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import openai
from distributed import Client, Future, as_completed, get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from extractor.articles import Article
from extractor.batch import BatchRun, BatchSummary, errors_path, run_key
from extractor.batch_inputs import Readable
from extractor.batch_lines import ArticleOutcome, Timing
from extractor.cli import has_model
from extractor.errors import ExtractorError
from extractor.models import Usage
from extractor.offline import extract_offline
from extractor.ratelimit import Reservation
from extractor.settings import Settings, load_settings

__all__ = [
    "ClusterLimiter",
    "ClusterSummary",
    "ExtractorPlugin",
    "SharedLimiter",
    "SharedLimiterLostError",
    "errors_path",
    "has_model",
    "run_on_cluster",
]


@dataclass
class ClusterSummary:
    """What a run did (`batch`: the same summary as ``extractor batch``'s), and who did it."""

    batch: BatchSummary
    articles_per_worker: Counter[str] = field(default_factory=Counter)
    # One entry per Extractor that ran articles ("worker address/id"): one per worker.
    extractors: set[str] = field(default_factory=set)
    limiter: dict[str, Any] = field(default_factory=dict)  # the shared limiter's counts


# --- on the workers ---------------------------------------------------------------------------


class ExtractorPlugin(WorkerPlugin):
    """Gives each worker one `Extractor`, made at set-up, reused by all its articles, closed at
    teardown; with `offline`, none (the offline quote path needs no model)."""

    def __init__(
        self, name: str, settings: Settings, *, offline: bool, limiter: Any = None
    ) -> None:
        """`limiter`: the run's `SharedLimiter` actor, which every request books with."""
        self.name = name
        self.settings = settings
        self.offline = offline
        self.limiter = limiter
        self.shared: ClusterLimiter | None = None
        self.extractor: Any = None

    def setup(self, worker: Any) -> None:
        """Make this worker's Extractor, its requests booking with the shared limiter."""
        if self.offline:
            return
        from extractor.extractor import Extractor

        if self.limiter is not None:
            self.shared = ClusterLimiter(self.limiter, timeout=self.settings.timeout)
        self.extractor = Extractor(settings=self.settings, limiter=self.shared)

    def teardown(self, worker: Any) -> None:
        """Close the Extractor's connections; a task still running sends nothing more."""
        if self.shared is not None:
            self.shared.close()
        if self.extractor is not None:
            self.extractor.close()
            self.extractor = None


@dataclass(frozen=True)
class _Done:
    """What a task sends back: the article's outcome, and who made it."""

    outcome: ArticleOutcome
    worker: str
    extractor: str | None  # "address/id" of the worker's Extractor; None offline


def extract_on_worker(plugin: str, key: str, article: Article) -> _Done:
    """One article on this worker, with its Extractor (or offline); a failure is an outcome."""
    worker = get_worker()
    here = cast(ExtractorPlugin, worker.plugins[plugin])
    extractor = here.extractor
    name = None if extractor is None else f"{worker.address}/{id(extractor):x}"
    started, clock = dt.datetime.now(dt.timezone.utc), time.perf_counter()
    try:
        if extractor is None:
            result: Any = extract_offline(
                article.text, published=article.published, max_chars=here.settings.max_chars
            )
        else:
            result = extractor.extract(article.text, published=article.published)
    except ExtractorError as error:
        timing = Timing(started=started, seconds=time.perf_counter() - clock)
        outcome = ArticleOutcome(key, None, error, error.usage or Usage(), timing, article)
        return _Done(outcome, worker.address, name)
    timing = Timing(started=started, seconds=time.perf_counter() - clock)
    return _Done(
        ArticleOutcome(key, result, None, result.usage, timing, article), worker.address, name
    )


# --- the driver -------------------------------------------------------------------------------


def run_on_cluster(
    client: Client,
    items: Iterable[Readable],
    out: Path,
    *,
    settings: Settings | None = None,
    offline: bool | None = None,
    errors: Path | None = None,
    retry_failed: bool = False,
    window: int | None = None,
) -> ClusterSummary:
    """Extract every item on `client`'s workers, one line per article in `out` or `errors`.

    `settings` default to this process's (the environment) and are sent to every worker;
    `offline` None: offline when no model is configured. What is done or failed before is
    skipped as ``extractor batch`` does (`retry_failed`: only those that failed). At most
    `window` articles are on the cluster at once (default four per worker thread, at least 16).
    Raises `InputError` for the files themselves, and a `STOPPING` error (wrong key, unknown
    model) that every article would meet, after cancelling what is in flight.
    """
    settings = settings or load_settings()
    offline = not has_model(settings) if offline is None else offline
    model = None if offline else settings.model
    run = BatchRun(
        out,
        errors,
        retry_failed=retry_failed,
        model=model,
        prices=settings.prices,
        key=run_key(settings, offline=offline),
        max_chars=settings.max_chars,
    )
    with run:
        summary = ClusterSummary(batch=run.summary)
        todo = run.select(items)
        if not todo:
            return summary
        limiter = None if offline else _shared_limiter(client, settings)
        name = f"extractor-{uuid.uuid4().hex[:12]}"
        plugin = ExtractorPlugin(name, settings, offline=offline, limiter=limiter)
        client.register_plugin(plugin, name=name)
        try:
            _run(client, todo, name, settings, window, summary, run.emit)
        finally:
            cast(Any, client).unregister_worker_plugin(name)
        if limiter is not None:
            try:
                summary.limiter = limiter.counts().result(timeout=settings.timeout)
            except Exception as exc:  # its worker was lost: the lines say what it cost
                summary.limiter = {"lost": f"{type(exc).__name__}: {exc}"}
    return summary


def _shared_limiter(client: Client, settings: Settings) -> Any:
    """The one `SharedLimiter` of this run, placed on a worker as an actor."""
    return client.submit(
        SharedLimiter,
        settings.requests_per_minute,
        settings.tokens_per_minute,
        actor=True,
        pure=False,
    ).result()


def _run(
    client: Any,  # a distributed.Client (some of its methods are untyped)
    todo: list[Readable],
    plugin: str,
    settings: Settings,
    window: int | None,
    summary: ClusterSummary,
    emit: Callable[[ArticleOutcome], None],
) -> None:
    """Hand the cluster at most `window` articles at a time; emit each outcome as it comes."""
    window = window or max(16, 4 * sum(client.nthreads().values()))
    pending = iter(todo)
    running: dict[Future[Any], str] = {}
    finished: Any = cast(Any, as_completed)()

    def feed() -> None:
        for item in pending:
            started = dt.datetime.now(dt.timezone.utc)
            try:  # read here: workers need no access to the files
                article = item.read(max_chars=settings.max_chars)
            except ExtractorError as error:
                emit(
                    ArticleOutcome(
                        item.id, None, error, Usage(), Timing(started=started, seconds=0)
                    )
                )
                continue
            future = client.submit(extract_on_worker, plugin, item.id, article, pure=False)
            running[future] = item.id
            finished.add(future)
            if len(running) >= window:
                return

    try:
        feed()
        for future in finished:
            key = running.pop(future)
            try:
                done: _Done = future.result()
            except Exception as problem:  # the task itself failed: a bug, or its worker was lost
                error = ExtractorError(
                    f"the cluster could not run it: {type(problem).__name__}: {problem}"
                )
                now = dt.datetime.now(dt.timezone.utc)
                emit(ArticleOutcome(key, None, error, Usage(), Timing(started=now, seconds=0)))
            else:
                summary.articles_per_worker[done.worker] += 1
                if done.extractor is not None:
                    summary.extractors.add(done.extractor)
                emit(done.outcome)  # raises a STOPPING error
            future.release()
            feed()
    finally:
        if running:  # stopped early: what is still on the cluster is not wanted
            client.cancel(list(running))


# --- the one rate limiter ---------------------------------------------------------------------


class SharedLimiter:
    """Dask actor: the run's one `RateLimiter`; every worker's requests book their slot here.

    Its methods never block (the limiter only computes when a request may go); the worker that
    asked sleeps for the wait itself, so the actor answers every worker at once.
    """

    def __init__(
        self,
        requests_per_minute: float | None,
        tokens_per_minute: float | None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """A budget of `requests_per_minute` and `tokens_per_minute` (None: no limit)."""
        from extractor.ratelimit import RateLimiter

        self._limiter = RateLimiter(
            requests_per_minute, tokens_per_minute, clock=clock or time.monotonic
        )
        self.granted: Counter[str] = Counter()  # requests booked, by worker
        self.refused = 0  # reservations that would have waited longer than their max_wait
        self.tokens = 0

    def reserve(self, cost: int, max_wait: float | None = None, worker: str = "") -> Any:
        """Book one request of `cost` tokens for `worker` (`RateLimiter.reserve`)."""
        booked = self._limiter.reserve(cost, max_wait)
        if booked is None:
            self.refused += 1
        else:
            self.granted[worker] += 1
            self.tokens += cost
        return booked

    def observe(
        self,
        ticket: int | None,
        status: int,
        headers: dict[str, str],
        tokens: int | None = None,
    ) -> None:
        """What the server answered that request (`RateLimiter.observe`)."""
        self._limiter.observe(ticket, status, headers, tokens)

    def counts(self) -> dict[str, Any]:
        """Requests booked (in all and by worker), refused, and their estimated tokens."""
        return {
            "requests": sum(self.granted.values()),
            "by_worker": dict(self.granted),
            "refused": self.refused,
            "tokens": self.tokens,
        }


class SharedLimiterLostError(ExtractorError, openai.OpenAIError):
    """The run's shared rate limiter did not answer (its worker was lost); not retried.

    Also an ``openai.OpenAIError``, so that openai passes it on unwrapped from the transport."""


class ClusterLimiter:
    """A worker's handle on the run's `SharedLimiter`: the `Limiter` its Extractor books with.

    An actor that does not answer within `timeout` seconds (its worker died) fails the request
    with `SharedLimiterLostError`, and every later one on this worker at once, so the articles
    left fail fast (as lines) instead of each waiting, or going out unlimited.
    """

    def __init__(self, actor: Any, timeout: float = 120.0) -> None:
        """`actor`: the Dask actor handle of the run's `SharedLimiter`."""
        self._actor = actor
        self._timeout = timeout
        self._lost: str | None = None

    def reserve(self, cost: int, max_wait: float | None = None) -> Reservation | None:
        """Book one request of `cost` tokens with the shared limiter (one round trip)."""
        booked: Reservation | None = self._ask("reserve", cost, max_wait, _worker_address())
        return booked

    def observe(
        self,
        ticket: int | None,
        status: int,
        headers: Mapping[str, str],
        tokens: int | None = None,
    ) -> None:
        """Pass what the server answered on to the shared limiter (waits until it has it)."""
        self._ask("observe", ticket, status, dict(headers), tokens)

    def close(self) -> None:
        """The run is over: a task still running (Dask cannot stop a thread) books nothing more,
        instead of waiting for an actor that is gone."""
        self._lost = "the run is over"

    def _ask(self, method: str, *args: Any) -> Any:
        if self._lost is None:
            try:
                return getattr(self._actor, method)(*args).result(timeout=self._timeout)
            except Exception as exc:  # a lost worker, a timeout, a closed connection
                self._lost = f"{type(exc).__name__}: {exc}; its worker was probably lost"
        raise SharedLimiterLostError(
            f"the cluster's shared rate limiter is gone ({self._lost}): run again to redo the "
            "articles that failed"
        )


def _worker_address() -> str:
    try:
        return str(get_worker().address)
    except ValueError:  # not on a worker (the driver, a test)
        return ""
