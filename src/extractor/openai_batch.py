"""OpenAI's Batch API: the same extraction at half the price, for work that can wait (24 hours).

``extractor batch --via openai-batch`` runs these steps, each a function, in four modules:

    `extractor.openai_batch_state`: plan_article (read -> find -> `pipeline.plan_article` ->
    prompt, as `Extractor.extract`) -> request_line per chunk -> write_requests, `BatchState`;
    `extractor.openai_batch_api`: BatchService.upload + create -> wait (poll) -> download;
    `extractor.openai_batch_replies`: index_replies -> finish_article (validate + ground each
    reply as the normal path does, merge, result; a reply that fails is asked again through the
    normal API) -> an `extractor.batch_lines.ArticleOutcome`;
    this module: the run (submit, attach, collect, emit, written as the normal batch's lines once
    on disk, then the state removed) and its summary.

A request line's body is exactly what `Extractor` sends for that chunk: instructor builds it
(``instructor.processing.handle_response_model``) from the same messages, response model and
settings, so a reply is read back with instructor's own ``process_response`` and the library's
grounding validators (both instructor internals, kept in `extractor.openai_batch_instructor`).
A long article is one request per chunk, ``custom_id`` ``"<id>#<chunk>"``.

Resumable: the batch's state (its input file and batch id, and a hash of every article's
request lines) is kept next to the output (`state_path`) from the moment it is uploaded, so a
run killed at any point and started again with the same output attaches to the same batch,
uploading and paying nothing twice; a batch created but not yet saved is found again by its input
file. Nothing here is imported unless the Batch API is used.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from openai.types import Batch
from rich.console import Console

from extractor import errors
from extractor.batch import BatchRun, BatchSummary, run_key
from extractor.batch_inputs import Readable
from extractor.batch_lines import ArticleOutcome
from extractor.extractor import Extractor
from extractor.models import Usage
from extractor.openai_batch_api import (
    BatchJobError,
    BatchService,
    counting_display,
    progress_display,
    request_counts,
    wait,
)
from extractor.openai_batch_replies import (
    Finished,
    Reply,
    accept,
    failed_outcome,
    finish_article,
    index_replies,
    read_reply,
)
from extractor.openai_batch_state import (
    MAX_INPUT_BYTES,
    MAX_REQUESTS,
    BatchState,
    Planned,
    article_lines,
    custom_id,
    load_state,
    plan_article,
    request_body,
    request_line,
    save_state,
    sidecar,
    state_path,
    write_requests,
)
from extractor.prices import cost
from extractor.redaction import redact
from extractor.render import visible
from extractor.settings import Mode, Settings, load_settings

__all__ = [  # the steps' names, from the modules that hold them, too
    "BATCH_PRICE_SHARE",
    "MAX_INPUT_BYTES",
    "MAX_REQUESTS",
    "BatchAPISummary",
    "BatchJobError",
    "BatchReport",
    "BatchService",
    "BatchState",
    "Planned",
    "Reply",
    "accept",
    "article_lines",
    "custom_id",
    "finish_article",
    "index_replies",
    "plan_article",
    "read_reply",
    "request_body",
    "request_line",
    "run",
    "run_openai_batch",
    "state_path",
    "wait",
    "write_requests",
]

logger = logging.getLogger(__name__)

BATCH_PRICE_SHARE = 0.5
"""What a token costs through the Batch API, as a share of the normal price (half)."""
REPLY_LINE_BYTES = 64 * 1024
"""Room per request in the output file besides the reply's tokens (envelope, escaping)."""


# --- the run ------------------------------------------------------------------------------------


@dataclass
class BatchReport:
    """What a run through the Batch API did, for the summary."""

    batches: list[str] = field(default_factory=list)
    requests: int = 0  # request lines in the batches this run collected
    accepted: int = 0  # batch replies validated and grounded as they came
    reasked: int = 0  # chunks asked again through the normal API
    left: int = 0  # articles left for a later run (their requests expired or were cancelled)
    batch_usage: Usage = field(default_factory=Usage)
    api_usage: Usage = field(default_factory=Usage)


def run(
    items: Sequence[Readable],
    state_file: Path,
    settings: Settings,
    emit: Callable[[ArticleOutcome], None],
    *,
    service: BatchService | None = None,
    extractor: Extractor | None = None,
    console: Console | None = None,
    flush: Callable[[], None] = lambda: None,
) -> BatchReport:
    """Extract `items` (the articles not yet in the output) through the Batch API.

    Attaches to the batch recorded in `state_file` if there is one, else submits; waits; hands
    each article's outcome to `emit` (the caller writes it) as the batch is read; then submits
    the articles still left, if any (a batch holds at most `MAX_REQUESTS` requests). `flush`
    must return once every outcome emitted so far is on disk: it is called before a batch's
    state is removed, so a kill in between never loses replies already paid for.
    """
    report = BatchReport()
    by_id = {item.id: item for item in items}
    handled: set[str] = set()
    service = service or BatchService(settings)
    owned = extractor is None
    extractor = extractor or Extractor(settings=settings)

    def failed(item: Readable, error: errors.ExtractorError) -> None:
        handled.add(item.id)
        emit(failed_outcome(item, error))

    try:
        state = load_state(state_file)
        if state is not None and state.input_file_id is None:
            state = None  # nothing was uploaded: plan and submit afresh (settings may differ)
        while True:
            if state is None:
                pending = [item for item in items if item.id not in handled]
                if not pending:
                    break
                state = _submit(pending, state_file, settings, service, failed)
                if state is None:
                    break
            else:
                _check_unchanged(state, by_id, settings, state_file)
            handled.update(state.articles)
            _collect(
                state, state_file, settings, service, extractor, by_id, emit, flush, report, console
            )
            state = None
    finally:
        service.close()
        if owned:
            extractor.close()
    return report


def _submit(
    pending: Sequence[Readable],
    state_file: Path,
    settings: Settings,
    service: BatchService,
    failed: Callable[[Readable, errors.ExtractorError], None],
) -> BatchState | None:
    """Write the request file, save the state, upload, create: the state with the batch id."""
    request_file = sidecar(state_file, ".requests.jsonl")
    articles, lines = write_requests(pending, settings, request_file, failed=failed)
    if not articles:
        request_file.unlink(missing_ok=True)
        return None
    state = BatchState(
        request_file=request_file.name, requests=lines, articles=articles, model=settings.model
    )
    save_state(state_file, state)
    return _upload_and_create(state, state_file, service)


def _upload_and_create(state: BatchState, state_file: Path, service: BatchService) -> BatchState:
    """Upload (unless done) and create (unless done), saving the state after each; a run that
    stopped after uploading first looks for the batch it may have created from that file."""
    uploaded = state.input_file_id
    if state.input_file_id is None:
        state.input_file_id = service.upload(state_file.with_name(state.request_file))
        save_state(state_file, state)
        logger.info("uploaded %s as %s", state.request_file, state.input_file_id)
    if state.batch_id is None:
        found = service.find(uploaded) if uploaded else None
        batch = found or service.create(
            state.input_file_id, {"extractor_requests": state.request_file}
        )
        state.batch_id, state.submitted = batch.id, dt.datetime.now(dt.timezone.utc)
        save_state(state_file, state)
        logger.info("submitted batch %s (%d requests)", batch.id, state.requests)
    return state


def _check_unchanged(
    state: BatchState, by_id: dict[str, Readable], settings: Settings, state_file: Path
) -> None:
    """On resume: every article of the batch still to write must have the same request lines
    (same text, same settings), or the replies would not be its replies."""
    for article_id, digest in state.articles.items():
        item = by_id.get(article_id)
        if item is None:
            continue  # written before the run stopped
        try:
            _, now = article_lines(plan_article(item, settings), settings)
        except errors.ExtractorError:
            now = ""
        if now != digest:
            raise errors.ConfigurationError(
                f"article '{visible(article_id, one_line=True)}' or the settings (model "
                f"{settings.model}, mode, max_tokens, ...) changed since batch "
                f"{state.batch_id or '(not yet created)'} was submitted for it: run again with "
                f"the same inputs and settings to collect that batch, or delete {state_file} to "
                "submit anew (what was submitted is paid for)"
            )


def _collect(
    state: BatchState,
    state_file: Path,
    settings: Settings,
    service: BatchService,
    extractor: Extractor,
    by_id: dict[str, Readable],
    emit: Callable[[ArticleOutcome], None],
    flush: Callable[[], None],
    report: BatchReport,
    console: Console | None,
) -> None:
    """Wait for the batch, read every reply, emit each article's outcome, clear the state
    once what was emitted is on disk (`flush`)."""
    state = _upload_and_create(state, state_file, service)
    assert state.batch_id is not None
    with progress_display(console) as show:
        batch = wait(
            service,
            state.batch_id,
            interval=settings.batch_poll_interval,
            max_wait=settings.batch_max_wait,
            on_update=show,
        )
    report.batches.append(batch.id)
    if batch.status == "failed":
        flush()
        _forget(state, state_file)
        problems = [
            visible(
                redact(f"{e.code}: {e.message}" + (f" (line {e.line})" if e.line else "")),
                one_line=True,
            )
            for e in (batch.errors.data or [] if batch.errors else [])
        ]
        raise BatchJobError(
            f"batch {batch.id} failed: {'; '.join(problems[:5]) or 'no reason given'}; nothing "
            "was extracted from it; fix the cause and run again to submit anew",
            batch_id=batch.id,
            batch_status=batch.status,
            problems=problems,
        )
    replies = _download(batch, state, state_file, service, settings)
    todo = [by_id[key] for key in state.articles if key in by_id]  # others: written already
    width = settings.batch_concurrency

    def finish(item: Readable) -> tuple[Finished | None, int]:
        return _finish(item, replies, settings, extractor)

    # Articles are finished `batch_concurrency` at a time (re-asks wait on the network), in
    # windows so that results wait in memory for a few articles at most; written in input order.
    with (
        counting_display(console, "reading replies", len(todo)) as advance,
        ThreadPoolExecutor(max_workers=width, thread_name_prefix="openai-batch") as pool,
    ):
        for start in range(0, len(todo), width * 4):
            for finished, requests in pool.map(finish, todo[start : start + width * 4]):
                if finished is None:
                    report.left += 1  # asked in a later run, not at full price now
                else:
                    report.requests += requests
                    report.reasked += finished.reasked
                    report.accepted += finished.accepted
                    report.batch_usage = report.batch_usage.add(finished.batch_usage)
                    report.api_usage = report.api_usage.add(finished.api_usage)
                    emit(finished.outcome)
                advance()
    flush()  # the lines on disk before the state that would find their replies goes
    _forget(state, state_file)
    if batch.status != "completed" or report.left:
        done, _, total = request_counts(batch)
        raise BatchJobError(
            f"batch {batch.id} {batch.status} with {done} of {total} requests done: their "
            f"articles were written; {report.left} article(s) left: run the same command again "
            "to submit them in a new batch",
            batch_id=batch.id,
            batch_status=batch.status,
        )


def _finish(
    item: Readable,
    replies: dict[str, tuple[Path, tuple[int, int]]],
    settings: Settings,
    extractor: Extractor,
) -> tuple[Finished | None, int]:
    """One article of the batch: its replies read, accepted or asked again (`finish_article`),
    and its number of requests; None for an article with a request the batch did not run
    (expired, cancelled): it is left for a later run."""
    planned = plan_article(item, settings)
    mine = []
    for i in range(len(planned.prompts)):
        key = custom_id(item.id, i)
        found = replies.get(key)
        mine.append(
            read_reply(*found) if found else Reply(key, None, "not in the batch's files", True)
        )
    if any(r.expired for r in mine):
        return None, len(mine)
    return finish_article(planned, mine, settings, extractor), len(mine)


def _download(
    batch: Batch,
    state: BatchState,
    state_file: Path,
    service: BatchService,
    settings: Settings,
) -> dict[str, tuple[Path, tuple[int, int]]]:
    """Where each reply of the batch is (output and error files, downloaded beside the state),
    by custom_id; read one at a time (`read_reply`), so memory holds the index only."""
    line = settings.max_tokens * 32 + REPLY_LINE_BYTES  # a token: a few characters, escaped twice
    limit = state.requests * line
    replies: dict[str, tuple[Path, tuple[int, int]]] = {}
    for name, file_id in (("errors", batch.error_file_id), ("output", batch.output_file_id)):
        if not file_id:
            continue
        path = sidecar(state_file, f".{name}.jsonl")
        service.download(file_id, path, limit)
        replies.update((key, (path, at)) for key, at in index_replies(path, file_id, line).items())
    return replies


def _forget(state: BatchState, state_file: Path) -> None:
    """The batch is read: remove its state and the files kept beside it."""
    for suffix in (".requests.jsonl", ".output.jsonl", ".errors.jsonl"):
        sidecar(state_file, suffix).unlink(missing_ok=True)
    state_file.unlink(missing_ok=True)


# --- through extractor batch's files and summary ------------------------------------------------


@dataclass
class BatchAPISummary(BatchSummary):
    """`extractor.batch.BatchSummary` with what the Batch API did and its half-price cost."""

    report: BatchReport = field(default_factory=BatchReport)
    batch_cost: float | None = None  # the batches' tokens, at half price
    api_cost: float | None = None  # the re-asks' tokens, at full price

    def price_report(self) -> None:
        """Set the costs from the report and the price: the batches' tokens at half price."""
        if self.price is None or self.model is None:
            return
        full = {self.model: self.price}
        report = self.report
        self.batch_cost = (cost(report.batch_usage, self.model, full) or 0.0) * BATCH_PRICE_SHARE
        self.api_cost = cost(report.api_usage, self.model, full) or 0.0
        self.cost = self.batch_cost + self.api_cost

    def lines(self, out: Path, errors: Path) -> list[str]:
        """The batch summary's lines, then the Batch API's (batches, re-asks, cost)."""
        report = self.report
        shown = ", ".join(report.batches) or "none"
        more = [
            f"Batch API: batch {shown}; {report.requests:,} request(s) read, "
            f"{report.accepted:,} accepted as they came; re-asked via the API: {report.reasked:,}"
            + (f"; {report.left:,} article(s) left for the next run" if report.left else ""),
        ]
        if self.batch_cost is not None and self.api_cost is not None:
            more.append(
                f"Batch API cost: ${self.batch_cost:,.4f} for {report.batch_usage.total_tokens:,} "
                f"tokens at half price, ${self.api_cost:,.4f} for "
                f"{report.api_usage.total_tokens:,} re-asked through the API at full price"
            )
        return super().lines(out, errors) + [visible(line, one_line=True) for line in more]

    def _cost(self) -> str:
        """The cost line's words: the total, saying that batch tokens were priced at half."""
        if self.cost is None or self.price is None or self.model is None:
            return super()._cost()
        return (
            f"${self.cost:,.4f} (Batch API: half of {self.model} at ${self.price[0]:g} in / "
            f"${self.price[1]:g} out per million tokens; extractor.prices)"
        )


def run_openai_batch(
    items: Sequence[Readable],
    *,
    out: Path,
    settings: Settings,
    errors_file: Path | None = None,
    retry_failed: bool = False,
    offline: bool = False,
    console: Console | None = None,
    service: BatchService | None = None,
    extractor: Extractor | None = None,
) -> BatchAPISummary:
    """`extractor batch --via openai-batch`: the articles of `items` not yet in `out`, through
    the Batch API, written as `extractor.batch.run_batch` writes them (same lines, same files,
    same resume); the batch's state kept beside `out` (`state_path`). `offline` (no model
    configured, or asked for) is a `ConfigurationError`: a batch needs a model."""
    if offline:
        raise errors.ConfigurationError(
            "--via openai-batch needs a model: set OPENAI_API_KEY (or --base-url for a server "
            "that offers the Batch API); --offline runs no model"
        )
    if settings.mode is Mode.AUTO:
        from extractor.doctor import resolve_mode

        settings = load_settings(settings, mode=resolve_mode(settings))
    state_file = state_path(out)
    if retry_failed and state_file.exists():
        raise errors.ConfigurationError(
            f"a batch is in flight for {out} ({state_file}): run without --retry-failed first "
            "to collect it"
        )
    batch_run = BatchRun(
        out,
        errors_file,
        retry_failed=retry_failed,
        model=settings.model,
        prices=settings.prices,
        key=run_key(settings),
        max_chars=settings.max_chars,
    )
    summary = BatchAPISummary(model=settings.model)
    batch_run.summary = summary
    with batch_run:
        todo = batch_run.select(items)
        summary.report = run(
            todo,
            state_file,
            settings,
            batch_run.emit,
            service=service,
            extractor=extractor,
            console=console,
            flush=batch_run.flush,
        )
    summary.price_report()  # the tokens read from batches cost half
    return summary
