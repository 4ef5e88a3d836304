"""What a batch yields and writes: an outcome per article, and the JSON lines of its two files.

The shape, for code built on it::

    outcome = ArticleOutcome(...)        # what Extractor.extract_many / aextract_many yield
    outcome.id, outcome.ok               # the article's id; whether it was extracted
    outcome.result                       # ArticleExtraction (or Extraction) when ok, else None
    outcome.error                        # the ExtractorError when not ok, else None
    outcome.usage, outcome.timing        # tokens spent (failed attempts too); started, seconds
    outcome.article                      # the Article as read (text, offset...), None if unread

    # one line of the output file (results.jsonl), per article extracted:
    {"id": "2025/a.txt", "fingerprint": "9f2c4e1a0b7d3c58", "source": "news/2025/a.txt",
     "url": null, "title": null, "result": {... `extractor extract --format json` ...},
     "usage": {...},
     "timing": {"started": "2026-11-29T21:40:00.123456Z", "seconds": 1.234}}
    # one line of the errors file (results.errors.jsonl), per article that failed:
    {"id": ..., "source": ..., "url": ..., "title": ...,
     "error": "ExtractionError", "message": "one line, secrets redacted",
     "partial": {... what an earlier reply grounded ...} or null, "usage": {...}, "timing": {...}}

`ResultLine` and `ErrorLine` are those lines as pydantic models; `result_line` / `error_line`
build them from an outcome (spans moved onto the file, as ``extract`` prints them), `dump_line`
writes one as a line of JSON (UTF-8 as it is, C1 controls escaped as ``extract --format json``
does, never a raw newline, so a line is a line), `line_id` reads a line's id back.
Model-free: imports neither openai nor instructor.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from extractor.articles import Article
from extractor.errors import ExtractorError
from extractor.models import ArticleExtraction, Extraction, SourceText, Usage
from extractor.redaction import redact
from extractor.render import JSON_ESCAPES, against_source, visible

__all__ = [
    "ArticleOutcome",
    "ErrorLine",
    "ResultLine",
    "Timing",
    "dump_line",
    "error_line",
    "line_id",
    "result_line",
]


class Timing(BaseModel):
    """When an article's extraction started (UTC) and how long it took, reading included."""

    started: dt.datetime
    seconds: float = Field(ge=0)


@dataclass(frozen=True)
class ArticleOutcome:
    """One article's outcome in a batch: its result, or the error and what it kept."""

    id: str
    result: ArticleExtraction | Extraction[Any] | None
    error: ExtractorError | None
    usage: Usage
    timing: Timing
    article: Article | None = None

    @property
    def ok(self) -> bool:
        """Whether the article was extracted."""
        return self.error is None and self.result is not None

    @property
    def cached(self) -> bool:
        """Whether any of its replies came from the response cache."""
        return getattr(self.usage, "cached_requests", 0) > 0


class ResultLine(BaseModel):
    """A line of a batch's output file: one article extracted."""

    id: str
    fingerprint: str | None = Field(
        default=None,
        description="Hash of the article's text and date with the model, mode, max_tokens and "
        "schema: a resumed run redoes the article when it differs.",
    )
    source: str = Field(description="Where the article is: its file, or 'dump.jsonl:12'.")
    url: str | None = None
    title: str | None = None
    result: ArticleExtraction = Field(description="As `extractor extract --format json` prints.")
    usage: Usage
    timing: Timing


class ErrorLine(BaseModel):
    """A line of a batch's errors file: one article that failed, why, and what it kept."""

    id: str
    source: str
    url: str | None = None
    title: str | None = None
    error: str = Field(description="The error's class, e.g. 'ExtractionError', 'InputError'.")
    message: str = Field(description="What went wrong, on one line, secrets redacted.")
    partial: ArticleExtraction | None = Field(
        default=None, description="The records an earlier reply grounded, if any."
    )
    usage: Usage
    timing: Timing


def _placed(
    result: ArticleExtraction | Extraction[Any] | None, article: Article | None, source: str
) -> ArticleExtraction | None:
    """`result` with spans into the source as given (a file's text), and `source` set."""
    if not isinstance(result, ArticleExtraction):
        return None
    if article is None:
        return result.model_copy(update={"source": SourceText(path=source, length=0)})
    return against_source(result, article)


def result_line(
    outcome: ArticleOutcome,
    *,
    source: str,
    url: str | None = None,
    title: str | None = None,
    fingerprint: str | None = None,
) -> ResultLine:
    """The output line of an article extracted (built-in schema)."""
    placed = _placed(outcome.result, outcome.article, source)
    if placed is None:
        raise TypeError("result_line needs an ArticleExtraction result (the built-in schema)")
    return ResultLine(
        id=outcome.id,
        fingerprint=fingerprint,
        source=source,
        url=url,
        title=title,
        result=placed,
        usage=outcome.usage,
        timing=outcome.timing,
    )


def error_line(
    outcome: ArticleOutcome, *, source: str, url: str | None = None, title: str | None = None
) -> ErrorLine:
    """The errors-file line of an article that failed: the reason on one line, redacted."""
    error = outcome.error
    name = type(error).__name__ if error is not None else "ExtractorError"
    message = visible(redact(str(error) if error is not None else "no result"), one_line=True)
    partial = _placed(error.partial if error is not None else None, outcome.article, source)
    return ErrorLine(
        id=outcome.id,
        source=source,
        url=url,
        title=title,
        error=name,
        message=message,
        partial=partial,
        usage=outcome.usage,
        timing=outcome.timing,
    )


def dump_line(line: BaseModel) -> str:
    """`line` as one line of JSON, newline included; nothing in it can break the line."""
    text = json.dumps(line.model_dump(mode="json"), ensure_ascii=False)
    # DEL and C1 controls are legal raw in JSON but not safe to print (as `extract --format
    # json` escapes them); a lone surrogate (a JSONL id may hold one) cannot be UTF-8 at all.
    return text.translate(JSON_ESCAPES) + "\n"


def line_id(line: bytes) -> str | None:
    """The id of a complete JSON line, or None if it is not a JSON object with a string id."""
    try:
        row = json.loads(line)
    except ValueError:
        return None
    value = row.get("id") if isinstance(row, dict) else None
    return value if isinstance(value, str) else None
