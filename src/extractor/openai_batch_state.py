"""The Batch API's request lines and the state kept beside the output (one job: what is sent).

plan_article (read -> find -> `pipeline.plan_article` -> prompt, as `Extractor.extract`) ->
request_line per chunk (the body instructor builds for the normal path,
`extractor.openai_batch_instructor`) -> write_requests (a batch's request file, fsync-ed) and
`BatchState` (its input file, batch id and a hash of every article's request lines), saved
atomically next to the output (`state_path`) so a run started again attaches to the same batch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from extractor import errors, pipeline
from extractor.articles import Article
from extractor.batch_inputs import Readable
from extractor.models import ArticleExtraction
from extractor.openai_batch_api import ENDPOINT
from extractor.openai_batch_instructor import request as instructor_request
from extractor.quotations import Quotation
from extractor.settings import Settings

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_REQUESTS",
    "BatchState",
    "Planned",
    "article_lines",
    "custom_id",
    "load_state",
    "plan_article",
    "request_body",
    "request_line",
    "save_state",
    "sidecar",
    "state_path",
    "write_requests",
]

MAX_REQUESTS = 50_000
"""Most requests in one batch (OpenAI's limit); more articles make several batches in turn."""
MAX_INPUT_BYTES = 190 * 1024 * 1024
"""Largest request file uploaded (OpenAI takes 200 MB; some room kept for the multipart)."""


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
    chunks = pipeline.plan_article(checked, quotations, settings)
    prompts = tuple(pipeline.prompt(checked, chunk, quotations) for chunk in chunks)
    return Planned(item, article, checked, quotations, prompts)


def custom_id(article_id: str, index: int) -> str:
    """The request's id in the batch: the article's id and its chunk's number, ``"a.txt#0"``."""
    return f"{article_id}#{index}"


def request_body(prompt: pipeline.Prompt, settings: Settings) -> dict[str, Any]:
    """The chat-completions body `Extractor` would send for `prompt` (tools or response_format
    as instructor builds them for the mode; model, max_tokens, temperature)."""
    return instructor_request(prompt, settings)[1]


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


def sidecar(state_file: Path, suffix: str) -> Path:
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
    # The same write-fsync-replace as extractor.batch_files.compact_errors (owned by the batch
    # run); a shared helper there would serve both.
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
