"""The Batch API's replies (one job: what came back): indexed, read, and accepted or asked again.

index_replies (where each request's line is in a downloaded file; lines read one at a time) ->
read_reply -> finish_article: each reply validated and grounded exactly as the normal path
accepts a first reply (`accept`: the same checks, instructor's parsing through
`extractor.openai_batch_instructor`, the library's grounding validators); one cut at max_tokens
keeps what it grounded and its rest is asked again; any other is asked again through the normal
API (`Extractor.extract_chunk`); then merged and dated into an `ArticleOutcome`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instructor.core import IncompleteOutputException
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from extractor import errors, pipeline
from extractor.batch_inputs import Readable
from extractor.batch_lines import ArticleOutcome, Timing
from extractor.chunking import Chunk
from extractor.extractor import Extractor
from extractor.inference import CallRecord, merge_tool_calls
from extractor.json_reply import json_in_reply
from extractor.models import Usage
from extractor.openai_batch_instructor import parse_reply
from extractor.openai_batch_state import Planned
from extractor.redaction import redact
from extractor.render import visible
from extractor.settings import Mode, Settings

__all__ = [
    "CutReply",
    "Finished",
    "RejectedReply",
    "Reply",
    "accept",
    "failed_outcome",
    "finish_article",
    "index_replies",
    "read_reply",
]

logger = logging.getLogger(__name__)


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
    try:
        reply = parse_reply(response, prompt, settings)
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
            extractor.extract_chunk(article, chunk, quotations, progress)
        finally:
            done.api_usage = done.api_usage.add(progress.usage - before)

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
