"""OpenAI's Batch API: the same extraction at half the price, for work that can wait (24 hours).

``extractor batch --via openai-batch`` runs these steps, each a function:

    plan_article (read -> find -> plan -> prompt, as `Extractor.extract`) -> request_line per
    chunk -> write_requests -> BatchService.upload + create -> wait (poll) -> BatchService.download
    -> index_replies -> finish_article (validate + ground each reply as the normal path does,
    merge, result; a reply that fails is asked again through the normal API) -> emit an
    `extractor.batch_lines.ArticleOutcome`, written as the normal batch's lines.

A request line's body is exactly what `Extractor` sends for that chunk: instructor builds it
(``instructor.processing.handle_response_model``) from the same messages, response model and
settings, so a reply is read back with instructor's own ``process_response`` and the library's
grounding validators. A long article is one request per chunk, ``custom_id`` ``"<id>#<chunk>"``.

Resumable: the batch's state (its input file and batch id, and a hash of every article's
request lines) is kept next to the output (`state_path`) from the moment it is uploaded, so a
run killed at any point and started again with the same output attaches to the same batch,
uploading and paying nothing twice; a batch created but not yet saved is found again by its input
file. Nothing here is imported unless the Batch API is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instructor.core import IncompleteOutputException
from instructor.processing import handle_response_model, process_response
from openai.types import Batch
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError
from rich.console import Console

from extractor import errors, pipeline
from extractor.articles import Article
from extractor.batch import BatchRun, BatchSummary, run_key
from extractor.batch_inputs import Readable
from extractor.batch_lines import ArticleOutcome, Timing
from extractor.chunking import Chunk
from extractor.extractor import Extractor
from extractor.inference import (
    INSTRUCTOR_MODES,
    CallRecord,
    instructor_model,
    merge_tool_calls,
)
from extractor.json_reply import json_in_reply
from extractor.models import ArticleExtraction, Usage
from extractor.openai_batch_api import (
    ENDPOINT,
    BatchJobError,
    BatchService,
    counting_display,
    progress_display,
    request_counts,
    wait,
)
from extractor.prices import cost
from extractor.quotations import Quotation
from extractor.redaction import redact
from extractor.render import visible
from extractor.settings import Mode, Settings, load_settings

__all__ = [
    "BATCH_PRICE_SHARE",
    "BatchAPISummary",
    "BatchJobError",
    "BatchReport",
    "BatchService",
    "BatchState",
    "Planned",
    "Reply",
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

MAX_REQUESTS = 50_000
"""Most requests in one batch (OpenAI's limit); more articles make several batches in turn."""
MAX_INPUT_BYTES = 190 * 1024 * 1024
"""Largest request file uploaded (OpenAI takes 200 MB; some room kept for the multipart)."""
BATCH_PRICE_SHARE = 0.5
"""What a token costs through the Batch API, as a share of the normal price (half)."""
REPLY_LINE_BYTES = 64 * 1024
"""Room per request in the output file besides the reply's tokens (envelope, escaping)."""


# --- planning and request lines ----------------------------------------------------------------


@dataclass(frozen=True)
class Planned:
    """One article ready to ask: as read, checked, its quotations and one prompt per chunk."""

    item: Readable
    article: Article
    input: pipeline.ArticleInput
    quotations: tuple[Quotation, ...]
    prompts: tuple[pipeline.Prompt, ...]


def plan_article(item: Readable, settings: Settings) -> Planned:
    """read -> find -> plan -> prompt, exactly as `Extractor.extract` does for the article.

    Planned as `extract` plans (the fewest chunks the budget allows), not as `aextract`, which
    makes more, smaller chunks of a long article to answer them side by side sooner
    (`pipeline.parallel_budget`): a batch does not wait on replies, so smaller chunks would
    only cost their prompts' overhead again.
    """
    article = item.read(max_chars=settings.max_chars)
    checked = pipeline.read(
        article.text, article.published, ArticleExtraction, max_chars=settings.max_chars
    )
    quotations = pipeline.find(checked)
    budget = pipeline.budget(
        checked, quotations, context_tokens=settings.context_tokens, max_tokens=settings.max_tokens
    )
    chunks = pipeline.plan(checked, quotations, budget, passes=settings.extraction_passes)
    prompts = tuple(pipeline.prompt(checked, chunk, quotations) for chunk in chunks)
    return Planned(item, article, checked, quotations, prompts)


def custom_id(article_id: str, index: int) -> str:
    """The request's id in the batch: the article's id and its chunk's number, ``"a.txt#0"``."""
    return f"{article_id}#{index}"


def _instructor_request(
    prompt: pipeline.Prompt, settings: Settings
) -> tuple[type[BaseModel], dict[str, Any]]:
    """The response model instructor parses with and the request body it would send."""
    model, body = handle_response_model(
        instructor_model(prompt.response_model),
        mode=INSTRUCTOR_MODES[settings.mode],
        messages=prompt.messages,
        model=settings.model,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
    )
    assert model is not None  # a response model was given
    return model, body


def request_body(prompt: pipeline.Prompt, settings: Settings) -> dict[str, Any]:
    """The chat-completions body `Extractor` would send for `prompt` (tools or response_format
    as instructor builds them for the mode; model, max_tokens, temperature)."""
    return _instructor_request(prompt, settings)[1]


def request_line(planned: Planned, index: int, settings: Settings) -> str:
    """One line of the batch's request file (JSON, newline included)."""
    line = {
        "custom_id": custom_id(planned.item.id, index),
        "method": "POST",
        "url": ENDPOINT,
        "body": request_body(planned.prompts[index], settings),
    }
    return json.dumps(line, ensure_ascii=False) + "\n"


def article_lines(planned: Planned, settings: Settings) -> tuple[str, str]:
    """The article's request lines and their SHA-256 (to check them again on resume)."""
    text = "".join(request_line(planned, i, settings) for i in range(len(planned.prompts)))
    return text, hashlib.sha256(text.encode()).hexdigest()


# --- state kept next to the output --------------------------------------------------------------


class BatchState(BaseModel):
    """A batch in flight, saved next to the output so a new run attaches to it."""

    version: int = 1
    request_file: str
    requests: int
    articles: dict[str, str]  # article id -> SHA-256 of its request lines
    model: str
    input_file_id: str | None = None
    batch_id: str | None = None
    submitted: dt.datetime | None = None


def state_path(output: Path) -> Path:
    """Where the state of the batch writing `output` is kept: beside it."""
    return output.with_name(output.name + ".openai-batch.json")


def _sidecar(state_file: Path, suffix: str) -> Path:
    """A file kept beside the state file: the request file, the downloaded replies."""
    return state_file.with_name(state_file.name.removesuffix(".json") + suffix)


def load_state(path: Path) -> BatchState | None:
    """The saved state, or None when there is none; `ConfigurationError` if it is unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise errors.ConfigurationError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        return BatchState.model_validate_json(raw)
    except ValidationError:
        raise errors.ConfigurationError(
            f"{path} is not a batch state this version can read; if no batch is in flight for "
            "this output, delete it to submit anew"
        ) from None


def save_state(path: Path, state: BatchState) -> None:
    """Write the state atomically (a crash leaves the old state or the new, never half)."""
    _write_atomically(path, state.model_dump_json(indent=1).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, path)


def write_requests(
    items: Sequence[Readable],
    settings: Settings,
    path: Path,
    *,
    failed: Callable[[Readable, errors.ExtractorError], None],
) -> tuple[dict[str, str], int]:
    """Plan articles and write their request lines to `path` until a batch is full.

    Returns the articles taken (id -> hash of their lines) and the number of lines. An article
    that cannot be planned (bad input, a schema that cannot be chunked) is handed to `failed`
    and left out; one that would pass the batch's limits is left for the next batch.
    """
    taken: dict[str, str] = {}
    lines = size = 0
    with path.open("w", encoding="utf-8") as stream:
        for item in items:
            try:
                planned = plan_article(item, settings)
            except errors.ExtractorError as error:
                failed(item, error)
                continue
            text, digest = article_lines(planned, settings)
            count, length = len(planned.prompts), len(text.encode())
            if taken and (lines + count > MAX_REQUESTS or size + length > MAX_INPUT_BYTES):
                break
            stream.write(text)
            taken[item.id] = digest
            lines, size = lines + count, size + length
        stream.flush()
        os.fsync(stream.fileno())  # on disk before the state that names it
    return taken, lines


# --- replies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One request's answer in the batch: the completion, or why there is none."""

    custom_id: str
    completion: dict[str, Any] | None
    problem: str | None = None
    expired: bool = False  # the batch ended before this request was run


def index_replies(path: Path, file_id: str, max_line: int) -> dict[str, tuple[int, int]]:
    """Where each request's line is in a downloaded output or error file: custom_id ->
    (start, length). `BadResponseError` naming the file and line if a line is not one, or is
    longer than `max_line` bytes (more than a reply of max_tokens can take)."""
    index: dict[str, tuple[int, int]] = {}
    start = 0
    with path.open("rb") as stream:
        for number, raw in enumerate(iter(lambda: stream.readline(max_line + 1), b""), start=1):
            here, start = start, start + len(raw)
            if len(raw) > max_line:
                raise errors.BadResponseError(
                    f"line {number} of the batch's file {file_id} is longer than {max_line:,} "
                    "bytes, more than a reply can take; nothing was written for its articles"
                )
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except ValueError:
                row = None
            key = row.get("custom_id") if isinstance(row, dict) else None
            if not isinstance(key, str):
                raise errors.BadResponseError(
                    f"line {number} of the batch's file {file_id} is not a JSON object with a "
                    f"custom_id ({visible(raw[:80].decode('utf-8', 'replace'), one_line=True)}); "
                    "nothing was written for its articles: run the same command again to "
                    "download it again"
                )
            index[key] = (here, len(raw))
    return index


def read_reply(path: Path, where: tuple[int, int]) -> Reply:
    """The reply on one line of a downloaded file (see `index_replies`)."""
    with path.open("rb") as stream:
        stream.seek(where[0])
        row = json.loads(stream.read(where[1]))
    key = row["custom_id"]
    response = row.get("response") if isinstance(row.get("response"), dict) else {}
    body, status = response.get("body"), response.get("status_code")
    if row.get("error") is None and status == 200 and isinstance(body, dict):
        return Reply(key, body)
    info = row.get("error") or (body.get("error") if isinstance(body, dict) else body)
    if not isinstance(info, dict):
        info = {"message": info}
    code, message = info.get("code"), info.get("message")
    problem = f"HTTP {status}, {code}: {message}" if status else f"{code}: {message}"
    return Reply(
        key,
        None,
        visible(redact(str(problem))[:300], one_line=True),
        expired=code == "batch_expired",
    )


class RejectedReply(Exception):
    """A batch reply the normal path would not have accepted as it is (asked again)."""

    def __init__(self, why: str, usage: Usage) -> None:
        super().__init__(why, usage)
        self.why, self.usage = why, usage


class CutReply(RejectedReply):
    """A batch reply cut at max_tokens: what it grounded is kept, its rest asked again."""

    def __init__(self, completion: ChatCompletion, usage: Usage) -> None:
        super().__init__("cut at max_tokens (finish_reason length)", usage)
        self.completion = completion


def accept(
    planned: Planned, index: int, completion: dict[str, Any], settings: Settings
) -> tuple[pipeline.Part, Usage]:
    """Validate and ground one batch reply exactly as a first reply of the normal path is:
    the same checks, instructor's parsing, the library's grounding validators; then ground and
    resolve dates. `RejectedReply` (with its usage) when the normal path would have asked again
    or given up (invalid, ungrounded, cut at max_tokens, refused)."""
    prompt = planned.prompts[index]
    try:
        response = ChatCompletion.model_validate(completion)
    except ValidationError as exc:
        raise RejectedReply("not a chat completion", Usage()) from exc
    record = CallRecord()
    record.on_response(response)
    usage = record.usage
    if not response.choices:
        raise RejectedReply("no choices", usage)
    choice = response.choices[0]
    message = choice.message
    if message.refusal:
        raise RejectedReply(f"refused: {message.refusal[:200]}", usage)
    message.refusal = None  # some servers send "" for none
    if choice.finish_reason == "content_filter":
        raise RejectedReply("stopped by the content filter", usage)
    if choice.finish_reason == "length":
        raise CutReply(response, usage)
    if len(message.tool_calls or []) > 1 and not merge_tool_calls(message):
        raise RejectedReply("several tool calls that cannot be merged", usage)
    if settings.mode is Mode.MD_JSON and isinstance(message.content, str):
        message.content = json_in_reply(message.content) or ""
    model, _ = _instructor_request(prompt, settings)
    try:
        reply = process_response(
            response,
            response_model=model,
            stream=False,
            validation_context=prompt.context.as_validation_context(),
            strict=True,
            mode=INSTRUCTOR_MODES[settings.mode],
        )
    except Exception as exc:  # anything instructor or validation raises: the normal path re-asks
        raise RejectedReply(f"{type(exc).__name__}: {str(exc)[:300]}", usage) from exc
    part = pipeline.ground(planned.input, prompt, reply)
    return pipeline.resolve_dates(part, planned.input.published), usage


@dataclass
class Finished:
    """One article's outcome and what it took: batch replies accepted, chunks asked again
    through the normal API, and the tokens of each."""

    outcome: ArticleOutcome
    accepted: int = 0
    reasked: int = 0
    batch_usage: Usage = field(default_factory=Usage)
    api_usage: Usage = field(default_factory=Usage)


def finish_article(
    planned: Planned,
    replies: Sequence[Reply],
    settings: Settings,
    extractor: Extractor,
) -> Finished:
    """The article's result from its batch replies (one per chunk, in order), as
    `Extractor.extract` makes it: each reply accepted as the normal path accepts a first reply;
    one cut at max_tokens keeps what it grounded and its rest is asked again, smaller
    (`pipeline.cut`); any other is asked again through the normal API (its usual re-asks,
    retries and cut handling); then merged and dated. Asked again through the API = re-asked."""
    started = dt.datetime.now(dt.timezone.utc)
    clock = time.monotonic()
    article, quotations = planned.input, planned.quotations
    progress = pipeline.Progress()
    done = Finished(_outcome(planned, None, None, Usage(), started, clock))

    def ask_api(chunk: Chunk) -> None:
        done.reasked += 1
        before = progress.usage
        try:  # the normal path's own step for one chunk: call, re-asks, cut replies
            extractor._chunk(article, chunk, quotations, progress)
        finally:
            done.api_usage = done.api_usage.add(_minus(progress.usage, before))

    try:
        for index, reply in enumerate(replies):
            prompt = planned.prompts[index]
            try:
                if reply.completion is None:
                    raise RejectedReply(reply.problem or "no reply", Usage())
                part, usage = accept(planned, index, reply.completion, settings)
            except CutReply as cut:
                done.batch_usage = done.batch_usage.add(cut.usage)
                error = errors.IncompleteOutputError(
                    f"the reply was cut off at max_tokens={settings.max_tokens} "
                    "(finish_reason 'length'); raise max_tokens or split the article into chunks",
                    usage=cut.usage,
                )
                error.__cause__ = IncompleteOutputException(last_completion=cut.completion)
                rest = pipeline.cut(article, prompt, error, quotations)
                progress.add(rest.kept, cut.usage)
                logger.info(
                    "%s: batch reply cut; %d part(s) asked again through the API",
                    reply.custom_id,
                    len(rest.again),
                )
                if rest.stuck:
                    raise error from None
                for piece in rest.again:
                    ask_api(piece)
                continue
            except RejectedReply as rejected:
                done.batch_usage = done.batch_usage.add(rejected.usage)
                progress.add(None, rejected.usage)
                logger.info(
                    "%s: batch reply not accepted (%s); asking the API",
                    reply.custom_id,
                    visible(rejected.why, one_line=True),
                )
                ask_api(prompt.chunk)
                continue
            done.accepted += 1
            done.batch_usage = done.batch_usage.add(usage)
            progress.add(part, usage)
    except errors.ExtractorError as error:
        error.partial = pipeline.partial(article, progress, quotations)
        error.usage = progress.usage
        done.outcome = _outcome(planned, None, error, progress.usage, started, clock)
        return done
    merged = pipeline.merge(article, progress.parts, quotations)
    result = pipeline.result(article, merged, progress.usage)
    done.outcome = _outcome(planned, result, None, progress.usage, started, clock)
    return done


def _minus(after: Usage, before: Usage) -> Usage:
    return Usage(
        requests=after.requests - before.requests,
        prompt_tokens=after.prompt_tokens - before.prompt_tokens,
        completion_tokens=after.completion_tokens - before.completion_tokens,
        total_tokens=after.total_tokens - before.total_tokens,
    )


def _outcome(
    planned: Planned,
    result: Any,
    error: errors.ExtractorError | None,
    usage: Usage,
    started: dt.datetime,
    clock: float,
) -> ArticleOutcome:
    timing = Timing(started=started, seconds=time.monotonic() - clock)
    return ArticleOutcome(planned.item.id, result, error, usage, timing, planned.article)


def failed_outcome(item: Readable, error: errors.ExtractorError) -> ArticleOutcome:
    """The outcome of an article that could not be asked at all (bad input)."""
    now = dt.datetime.now(dt.timezone.utc)
    return ArticleOutcome(item.id, None, error, Usage(), Timing(started=now, seconds=0.0))


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
    request_file = _sidecar(state_file, ".requests.jsonl")
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
        path = _sidecar(state_file, f".{name}.jsonl")
        service.download(file_id, path, limit)
        replies.update((key, (path, at)) for key, at in index_replies(path, file_id, line).items())
    return replies


def _forget(state: BatchState, state_file: Path) -> None:
    """The batch is read: remove its state and the files kept beside it."""
    for suffix in (".requests.jsonl", ".output.jsonl", ".errors.jsonl"):
        _sidecar(state_file, suffix).unlink(missing_ok=True)
    state_file.unlink(missing_ok=True)


# --- through extractor batch's files and summary ------------------------------------------------


@dataclass
class BatchAPISummary(BatchSummary):
    """`extractor.batch.BatchSummary` with what the Batch API did and its half-price cost."""

    report: BatchReport = field(default_factory=BatchReport)

    def lines(self, out: Path, errors: Path) -> list[str]:
        """The batch summary's lines, then the Batch API's (batches, re-asks, cost)."""
        report = self.report
        shown = ", ".join(report.batches) or "none"
        more = [
            f"Batch API: batch {shown}; {report.requests:,} request(s) read, "
            f"{report.accepted:,} accepted as they came; re-asked via the API: {report.reasked:,}"
            + (f"; {report.left:,} article(s) left for the next run" if report.left else ""),
        ]
        if self.price is not None and self.model is not None:
            batch = cost(report.batch_usage, self.model, {self.model: self.price}) or 0.0
            api = cost(report.api_usage, self.model, {self.model: self.price}) or 0.0
            more.append(
                f"Batch API cost: ${batch * BATCH_PRICE_SHARE:,.4f} for "
                f"{report.batch_usage.total_tokens:,} tokens at half price, ${api:,.4f} for "
                f"{report.api_usage.total_tokens:,} re-asked through the API at full price"
            )
        return super().lines(out, errors) + [visible(line, one_line=True) for line in more]

    def _cost(self) -> str:
        """The cost line's words: the total, saying that batch tokens were priced at half."""
        listed = super()._cost()
        if self.cost is None or self.price is None:
            return listed
        return listed.replace(" (", " (Batch API: half of ", 1)


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
    if summary.price is not None:  # the tokens read from batches cost half
        report = summary.report
        full = {settings.model: summary.price}
        batch = cost(report.batch_usage, settings.model, full) or 0.0
        api = cost(report.api_usage, settings.model, full) or 0.0
        summary.cost = batch * BATCH_PRICE_SHARE + api
    return summary
