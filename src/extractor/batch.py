"""Whole archives: a batch run that survives crashes, resumes, and says what it did and cost.

`run_batch(items, out=..., settings=...)` extracts every article of `items` (`read_inputs`) not
yet done, through `Extractor.aextract_many` (or, with no model, `extract_offline`), and writes
one line per article to `out` as it finishes (`extractor.batch_lines`); articles that fail go to
the errors file with the reason and what they kept. It returns a `BatchSummary`.

`BatchRun` is the part any engine can write through (``--via openai-batch`` does)::

    with BatchRun(out, errors, retry_failed=False, model="gpt-4o-mini") as run:
        todo = run.select(items)      # not in the output; not failed before (or only those)
        for outcome in ...:           # ArticleOutcome, from any engine
            run.emit(outcome)         # one line to out or to the errors file; summary, progress
    run.summary                       # BatchSummary, final once the block is left

Resume, what "done" means:
- an article is done when `out` has a complete line with its id; it failed when the errors file
  has a line with its id and `out` has none. A run skips both (a failed article is redone only
  with ``retry_failed``, which redoes only those). Anything else is redone, so a run killed at
  any moment (kill -9 included) and started again loses nothing and repeats nothing: a torn
  last line is cut off first (`extractor.batch_files.recover`), and each line is appended whole.
- at the end the errors file is rewritten with the last line of each article still failing
  (removed when none is), so after ``retry_failed`` it lists only what failed again.
- a failure every article would share stops the run (`STOPPING`: wrong key, unknown model, a
  setting that cannot work): it is raised, not written, and a later run redoes what is left.
  So does a server that fails (`SERVER_DOWN`: unreachable, 5xx or 429 after every retry) for
  `STOP_AFTER` (10) articles in a row with no success between (`ServerDownError`): those
  articles are not written to the errors file, so the same command redoes them; a server
  failure followed by a success is an ordinary failure, written.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from extractor.articles import DEFAULT_MAX_CHARS, Article
from extractor.batch_files import LineWriter, compact_errors, compact_output, lock, recover
from extractor.batch_inputs import BatchItem, Readable
from extractor.batch_lines import ArticleOutcome, Timing, dump_line, error_line, result_line
from extractor.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConnectionFailedError,
    ExtractorError,
    ModelNotFoundError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
)
from extractor.models import Usage
from extractor.offline import extract_offline
from extractor.prices import cost, price_of
from extractor.render import visible
from extractor.settings import Settings

if TYPE_CHECKING:
    from extractor.extractor import Extractor

__all__ = [
    "SERVER_DOWN",
    "STOPPING",
    "BatchRun",
    "BatchSummary",
    "RejectedRunError",
    "ServerDownError",
    "aoffline_outcomes",
    "arun_batch",
    "errors_path",
    "fingerprint",
    "run_batch",
    "run_key",
    "summary_of",
]

STOPPING: tuple[type[ExtractorError], ...] = (
    AuthenticationError,
    ModelNotFoundError,
    ConfigurationError,
)
"""Errors every article would meet alike: they stop a run instead of filling the errors file."""

SERVER_DOWN: tuple[type[ExtractorError], ...] = (ConnectionFailedError, ServerError, RateLimitError)
"""Server failures (after every retry): `STOP_AFTER` of them in a row, no success between, stop
the run; those articles are then not written to the errors file, so the same command redoes
them once the server is back."""

STOP_AFTER = 10

P = ParamSpec("P")
R = TypeVar("R")


class ServerDownError(APIError):
    """The server failed for `STOP_AFTER` articles in a row: the run stopped."""


class RejectedRunError(APIError):
    """The server rejected `STOP_AFTER` articles in a row the same way (400): the run stopped."""


def _held_kind(error: ExtractorError | None) -> str | None:
    """Why an outcome is held back (`emit`): the server down, or one rejection; None: not held.

    Rejections (`RequestRejectedError`, 400/422) are one kind when their status and message,
    numbers aside (a token count differs between articles), are the same.
    """
    if error is None:
        return None
    if isinstance(error, SERVER_DOWN):
        return "down"
    if isinstance(error, RequestRejectedError):
        message = re.sub(r"\d+", "#", str(error))
        return f"rejected {getattr(error, 'status', None)} {message}"
    return None


def run_key(settings: Settings, *, offline: bool = False) -> str:
    """What besides an article's text decides its result: model, mode, max_tokens, schema."""
    if offline:
        return "offline"
    from extractor.models import ArticleExtraction

    schema = json.dumps(ArticleExtraction.model_json_schema(), sort_keys=True)
    mode = getattr(settings.mode, "value", settings.mode)
    return json.dumps([settings.model, mode, settings.max_tokens, schema])


def fingerprint(article: Article, key: str) -> str:
    """A short hash of an article's text and date with `key` (`run_key`): 16 hex digits."""
    digest = hashlib.sha256(key.encode("utf-8"))
    digest.update(f"\0{article.published}\0".encode())
    digest.update(article.text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def errors_path(out: Path) -> Path:
    """The default errors file next to `out`: ``results.jsonl`` -> ``results.errors.jsonl``."""
    if out.suffix:
        return out.with_name(f"{out.stem}.errors{out.suffix}")
    return out.with_name(f"{out.name}.errors.jsonl")


@dataclass
class BatchSummary:
    """What one run did: articles, tokens, cost, time."""

    total: int = 0  # articles in the inputs
    todo: int = 0  # articles this run set out to do
    done: int = 0  # extracted by this run
    failed: int = 0  # failed in this run (in the errors file)
    cached: int = 0  # of those, articles with a reply from the response cache
    skipped: int = 0  # already in the output
    failed_before: int = 0  # in the errors file from an earlier run, not retried
    still_failing: int = 0  # articles of the inputs in the errors file at the end
    changed: int = 0  # done before, redone: their text, model, mode, max_tokens or schema changed
    torn: int = 0  # torn last lines cut off at the start (a run killed while writing)
    usage: Usage = field(default_factory=Usage)
    seconds: float = 0.0
    model: str | None = None  # None: offline (no model)
    price: tuple[float, float] | None = None  # dollars per million tokens (input, output)
    cost: float | None = None
    last_error: str | None = None  # the last failure, on one line, for the progress display

    @property
    def per_second(self) -> float:
        """Articles finished (done or failed) per second of wall time."""
        return (self.done + self.failed) / self.seconds if self.seconds > 0 else 0.0

    def lines(self, out: Path, errors: Path) -> list[str]:
        """The summary as lines for a person, control characters escaped."""
        u = self.usage
        lines = [
            f"batch: {self.total:,} article(s); {self.done:,} extracted now, "
            f"{self.skipped:,} already in {out}, {self.failed:,} failed, "
            f"{self.cached:,} answered from the cache",
            f"tokens: {u.prompt_tokens:,} in, {u.completion_tokens:,} out, "
            f"{u.requests:,} request(s)"
            + (f", {u.cached_requests:,} reply(ies) from the cache" if u.cached_requests else ""),
            f"cost: {self._cost()}",
            f"time: {self.seconds:,.1f} s wall, {self.per_second:,.2f} articles/s",
        ]
        if self.still_failing:
            earlier = f" ({self.failed_before:,} from earlier runs)" if self.failed_before else ""
            lines.append(
                f"errors: {self.still_failing:,} article(s) failed{earlier}, listed in {errors}; "
                "--retry-failed redoes them"
            )
        if self.changed:
            lines.append(
                f"note: redid {self.changed:,} article(s) whose text, model, mode, max_tokens or "
                "schema changed since their line was written (the old lines are dropped)"
            )
        if self.torn:
            lines.append(f"note: cut {self.torn} torn last line(s) left by a run that was killed")
        return [visible(line, one_line=True) for line in lines]

    def _cost(self) -> str:
        if self.model is None:
            return "$0 (no model: the library's rules only)"
        if self.cost is None or self.price is None:
            return f"unknown: no price for {self.model} (add it with EXTRACTOR_PRICES or --prices)"
        return (
            f"${self.cost:,.4f} ({self.model} at ${self.price[0]:g} in / ${self.price[1]:g} out "
            "per million tokens; extractor.prices)"
        )


class BatchRun:
    """One run writing into a batch's output and errors files; see the module docstring."""

    def __init__(
        self,
        out: Path,
        errors: Path | None = None,
        *,
        retry_failed: bool = False,
        model: str | None = None,
        prices: dict[str, tuple[float, float]] | None = None,
        on_outcome: Callable[[ArticleOutcome, BatchSummary], None] | None = None,
        key: str | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
    ) -> None:
        """`model` None: an offline run (no cost); `on_outcome` sees each outcome written.

        `key` (`run_key`): lines get a `fingerprint`, and an article done before whose text or
        key changed is redone (its old line dropped at the end); None: ids alone decide.
        """
        self.out, self.errors = Path(out), Path(errors) if errors else errors_path(Path(out))
        self.retry_failed = retry_failed
        self.summary = BatchSummary(model=model)
        self._prices = prices or {}
        self._on_outcome = on_outcome
        self._items: dict[str, Readable] = {}
        self._done: set[str] = set()
        self._prints: dict[str, str | None] = {}  # id -> the fingerprint of its last line
        self._repeated: set[str] = set()  # ids with more than one line in the output
        self._stale: set[str] = set()  # ids redone because their fingerprint changed
        self._key = key
        self._max_chars = max_chars
        self._failed_before: set[str] = set()
        self._lock = threading.Lock()
        self._started = 0.0
        self._writers: tuple[LineWriter, LineWriter] | None = None
        self._held: Any = None
        self._held_back: list[ArticleOutcome] = []
        self._held_kind: str | None = None
        self.stop_after = STOP_AFTER

    def __enter__(self) -> BatchRun:
        """Lock the output, cut torn lines, read what is done, open the writers."""
        if self.out.resolve() == self.errors.resolve():
            raise ConfigurationError(f"{self.out}: the output and the errors file must differ")
        self._held = lock(self.out)
        self._held.__enter__()
        try:
            state = recover(self.out, self.errors)
            self._prints, self._failed_before = state.done, state.failed
            self._done, self._repeated = set(state.done), state.repeated
            self.summary.torn = state.torn
            self._writers = (LineWriter(self.out), LineWriter(self.errors))
        except BaseException:
            self._held.__exit__(None, None, None)
            raise
        self._started = time.perf_counter()
        return self

    def select(self, items: Iterable[Readable]) -> list[Readable]:
        """The items this run does: not done; failed before only with ``retry_failed``."""
        items = list(items)
        self._items = {item.id: item for item in items}
        todo = []
        summary = self.summary
        summary.total = len(items)
        for item in items:
            if item.id in self._done and self._unchanged(item):
                summary.skipped += 1
            elif item.id in self._done:  # its text or the settings changed: redo it
                self._done.discard(item.id)
                self._stale.add(item.id)
                summary.changed += 1
                todo.append(item)
            elif item.id in self._failed_before:
                if self.retry_failed:
                    todo.append(item)
                else:
                    summary.failed_before += 1
            elif not self.retry_failed:
                todo.append(item)
        summary.todo = len(todo)
        return todo

    def _unchanged(self, item: Readable) -> bool:
        """Whether `item`'s line was written for its text and this run's key (or has no print)."""
        written = self._prints.get(item.id)
        if self._key is None or written is None:  # a line from before fingerprints: kept
            return True
        try:
            article = item.read(max_chars=self._max_chars)
        except ExtractorError:  # unreadable now: redo it, so it fails with its reason
            return False
        return fingerprint(article, self._key) == written

    def emit(self, outcome: ArticleOutcome) -> None:
        """Write `outcome` as a line (output or errors file); a `STOPPING` error is raised.

        A `SERVER_DOWN` failure is held until a later article does not fail that way (then it
        is written); `STOP_AFTER` held in a row raise `ServerDownError`, and are not written.
        So are rejections (`RequestRejectedError`) alike (`_held_kind`): `STOP_AFTER` in a row
        raise `RejectedRunError` (a request every article sends, e.g. a setting the server
        refuses, would otherwise be paid for by every article).
        """
        error = outcome.error
        if error is not None and isinstance(error, STOPPING):
            raise error
        kind = _held_kind(error)
        if kind is not None:
            if kind != self._held_kind:
                self._release()
            self._held_kind = kind
            self._held_back.append(outcome)
            if len(self._held_back) >= self.stop_after:
                count, last = len(self._held_back), visible(str(error), one_line=True)
                status = getattr(error, "status", None)
                if kind == "down":
                    raise ServerDownError(
                        f"the server failed for {count} articles in a row, the last with: {last}",
                        status=status,
                    )
                raise RejectedRunError(
                    f"the server rejected {count} articles in a row the same way: {last}",
                    status=status,
                )
            return
        self._release()
        self._write(outcome)

    def flush(self) -> None:
        """Wait until every line emitted so far is on disk (fsync-ed); server failures held
        back (see `emit`) are not lines yet."""
        assert self._writers is not None, "flush() inside 'with BatchRun(...)' only"
        for writer in self._writers:
            writer.flush()

    def _release(self) -> None:
        """Write the server failures held back: the server answered since, so they count."""
        held, self._held_back, self._held_kind = self._held_back, [], None
        for outcome in held:
            self._write(outcome)

    def _write(self, outcome: ArticleOutcome) -> None:
        assert self._writers is not None, "emit() inside 'with BatchRun(...)' only"
        source, url, title = _where(self._items.get(outcome.id), outcome.id)
        with self._lock:
            summary = self.summary
            if outcome.ok:
                mark = None
                if self._key is not None and outcome.article is not None:
                    mark = fingerprint(outcome.article, self._key)
                result = result_line(outcome, source=source, url=url, title=title, fingerprint=mark)
                line = dump_line(result)
                self._writers[0].put(line)
                self._done.add(outcome.id)
                summary.done += 1
            else:
                failure = error_line(outcome, source=source, url=url, title=title)
                self._writers[1].put(dump_line(failure))
                summary.failed += 1
                summary.last_error = f"{outcome.id}: {failure.error}: {failure.message}"
            summary.cached += outcome.cached
            summary.usage = summary.usage.add(outcome.usage)
            summary.seconds = time.perf_counter() - self._started
        if self._on_outcome is not None:
            self._on_outcome(outcome, summary)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Write what is queued, compact the files, finish the summary, unlock.

        An `ExtractorError` leaving the block carries the summary (`summary_of`)."""
        try:
            if self._writers is not None:
                if kind is None:  # a run that ended: its server failures are failures
                    self._release()
                out, errors = self._writers
                try:
                    out.close()
                finally:
                    errors.close()
            summary = self.summary
            redone = self._stale & self._done
            if self._stale or self._repeated:  # one line per id, none for a stale id not redone
                compact_output(self.out, drop=self._stale - redone)
            failing = compact_errors(self.errors, self._done)
            summary.still_failing = len(failing & self._items.keys() if self._items else failing)
            summary.seconds = time.perf_counter() - self._started
            if summary.model is not None:
                summary.price = price_of(summary.model, self._prices)
                summary.cost = cost(summary.usage, summary.model, self._prices)
            if isinstance(value, ExtractorError):  # what the run did, for its report
                setattr(value, "batch_summary", summary)  # noqa: B010
        finally:
            with contextlib.suppress(OSError):  # a run that wrote nothing leaves no output
                if self.out.stat().st_size == 0:
                    self.out.unlink()  # still locked: no other run is writing to it
            self._held.__exit__(kind, value, traceback)


def summary_of(error: BaseException) -> BatchSummary | None:
    """The summary of the run an error stopped (it left a `BatchRun` block), if it did."""
    summary = getattr(error, "batch_summary", None)
    return summary if isinstance(summary, BatchSummary) else None


def _where(item: Readable | None, key: str) -> tuple[str, str | None, str | None]:
    """The source, url and title of a line, from the item when it has them."""
    if isinstance(item, BatchItem):
        return item.source, item.url, item.title
    return str(getattr(item, "source", None) or key), None, None


async def aoffline_outcomes(
    items: Iterable[Readable], *, max_chars: int
) -> AsyncIterator[ArticleOutcome]:
    """Each article's direct quotes with rule-based speakers (`extract_offline`), no model."""
    import datetime as dt

    for item in items:
        started, clock = dt.datetime.now(dt.timezone.utc), time.perf_counter()
        article = None
        try:
            article = item.read(max_chars=max_chars)
            result = extract_offline(article.text, published=article.published, max_chars=max_chars)
            timing = Timing(started=started, seconds=time.perf_counter() - clock)
            yield ArticleOutcome(item.id, result, None, Usage(), timing, article)
        except ExtractorError as error:
            timing = Timing(started=started, seconds=time.perf_counter() - clock)
            yield ArticleOutcome(item.id, None, error, Usage(), timing, article)
        await asyncio.sleep(0)  # the loop stays responsive (a signal, a cancel)


async def arun_batch(
    items: Sequence[Readable],
    *,
    out: Path,
    settings: Settings,
    errors: Path | None = None,
    offline: bool = False,
    retry_failed: bool = False,
    concurrency: int | None = None,
    extractor: Extractor | None = None,
    on_outcome: Callable[[ArticleOutcome, BatchSummary], None] | None = None,
    on_start: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Async twin of `run_batch` (which takes the same parameters and says what they do)."""
    run = BatchRun(
        out,
        errors,
        retry_failed=retry_failed,
        model=None if offline else settings.model,
        prices=settings.prices,
        on_outcome=on_outcome,
        key=run_key(settings, offline=offline),
        max_chars=settings.max_chars,
    )
    with run:
        todo = run.select(items)
        if on_start is not None:
            on_start(run.summary)
        if not todo:
            return run.summary
        if offline:
            async for outcome in aoffline_outcomes(todo, max_chars=settings.max_chars):
                run.emit(outcome)
        else:
            owned = extractor is None
            if extractor is None:
                from extractor.extractor import Extractor  # openai loads only for a model

                extractor = Extractor(settings=settings)
            try:
                async for outcome in extractor.aextract_many(todo, concurrency=concurrency):
                    run.emit(outcome)
            finally:
                if owned:
                    await extractor.aclose()
    return run.summary


def _blocking(twin: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """`twin` as a blocking call with the same parameters (its own event loop)."""

    @functools.wraps(twin)  # help() and inspect show the twin's parameters
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return asyncio.run(twin(*args, **kwargs))

    return run


run_batch = _blocking(arun_batch)
run_batch.__name__ = run_batch.__qualname__ = "run_batch"
run_batch.__doc__ = """Extract every article of `items` not yet in `out`; a line each as it ends.

`offline`: no model, the library's rules (`extract_offline`). `on_start` sees the summary
once the work is known (total, skipped...); `on_outcome` each outcome as it is written.
Raises a `STOPPING` error (nothing written for it) when every article would fail alike.
Parameters: those of `arun_batch` (its async twin).
"""
