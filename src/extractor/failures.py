"""Failures: whatever openai or instructor raised, turned into our own errors.

Each error names the server (without credentials), the model and what to do, and carries the
tokens spent (``usage``) and, for API errors, the tries of the request that failed (``attempts``).
"""

from __future__ import annotations

from typing import Any

import openai
from instructor.core import IncompleteOutputException, InstructorRetryException
from pydantic import ValidationError

from extractor import errors
from extractor.models import Usage
from extractor.redaction import redact, redact_exception
from extractor.retry import TRANSIENT_STATUS
from extractor.settings import Settings

__all__ = ["api_error", "error_lines", "reply_text", "translate"]


def reply_text(response: Any) -> str | None:
    """The model's raw reply: tool-call arguments, or the message content."""
    try:
        message = response.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    calls = getattr(message, "tool_calls", None) or []
    if calls:
        return "\n".join(str(call.function.arguments) for call in calls)
    content = getattr(message, "content", None)
    return content if isinstance(content, str) else None


def translate(
    exc: Exception,
    settings: Settings,
    where: str,
    attempts: int,
    usage: Usage,
    *,
    problems: dict[int, str] | None = None,
    originals: dict[int, str] | None = None,
) -> errors.ExtractorError:
    """Our own error for whatever instructor or openai raised, naming the server and model.

    `problems` and `originals` map replies (by ``id()``) the library found unusable as they came
    to a line saying why, and to the raw text it replaced before instructor read them. Known
    secrets a server or model repeated are redacted from the error and the exceptions behind it.
    """
    error = _translate(exc, settings, where, attempts, usage, problems or {}, originals or {})
    redact_exception(exc)
    error.message = redact(error.message)
    error.args = (error.message,)
    if isinstance(error, errors.ExtractionError):
        error.attempts = [
            errors.FailedAttempt(
                number=attempt.number,
                errors=[redact(line) for line in attempt.errors],
                raw_reply=None if attempt.raw_reply is None else redact(attempt.raw_reply),
            )
            for attempt in error.attempts
        ]
    return error


def _translate(
    exc: Exception,
    settings: Settings,
    where: str,
    attempts: int,
    usage: Usage,
    problems: dict[int, str],
    originals: dict[int, str],
) -> errors.ExtractorError:
    if isinstance(exc, errors.ExtractorError):
        return exc
    if isinstance(exc, IncompleteOutputException):
        return errors.IncompleteOutputError(
            f"the reply was cut off at max_tokens={settings.max_tokens} "
            "(finish_reason 'length'); raise max_tokens or split the article into chunks",
            usage=usage,
        )
    cause = exc.__cause__ if isinstance(exc, InstructorRetryException) else exc
    if isinstance(cause, errors.ExtractorError):
        return cause
    if isinstance(cause, openai.APIError):
        return api_error(cause, settings, where, attempts, usage)
    if isinstance(exc, InstructorRetryException) and exc.failed_attempts:
        failed = [
            errors.FailedAttempt(
                number=attempt.attempt_number,
                errors=[problems[id(attempt.completion)]]
                if id(attempt.completion) in problems
                else error_lines(attempt.exception),
                raw_reply=originals.get(id(attempt.completion)) or reply_text(attempt.completion),
            )
            for attempt in exc.failed_attempts
        ]
        last = shorten(" ".join("; ".join(failed[-1].errors).split()), 600)
        return errors.ExtractionError(
            f"no reply from {settings.model} validated and grounded after "
            f"{len(failed)} attempt(s) (mode {settings.mode.value}); "
            f"last errors: {last}",
            attempts=failed,
            usage=usage,
        )
    return errors.BadResponseError(
        shorten(f"could not use the reply from {where}: {type(cause).__name__}: {cause}", 600),
        attempts=attempts,
        usage=usage,
    )


def shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters, marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def error_lines(exc: BaseException) -> list[str]:
    """Readable lines for a validation failure, one per error."""
    if isinstance(exc, ValidationError):
        return errors.validation_messages(exc)
    return [f"{type(exc).__name__}: {exc}"]


def api_error(
    exc: openai.APIError, settings: Settings, where: str, attempts: int, usage: Usage
) -> errors.APIError:
    """Map an openai error to ours, naming the server, model and what to do."""
    if isinstance(exc, openai.APIConnectionError):
        if isinstance(exc, openai.APITimeoutError):
            what = f"timed out (timeout {settings.timeout:g}s)"
        else:
            root = exc.__cause__ or exc
            what = f"failed: {type(root).__name__}: {str(root)[:200] or 'connection error'}"
        return errors.ConnectionFailedError(
            f"the connection to {where} {what}, after {attempts} attempt(s)",
            attempts=attempts,
            usage=usage,
        )
    status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
    detail = _server_message(exc)
    mode = settings.mode.value
    kind: type[errors.APIError]
    if status in (401, 403):
        kind = errors.AuthenticationError
        message = (
            f"the server at {where} rejected the API key (HTTP {status}); check OPENAI_API_KEY"
        )
    elif status == 404:
        kind = errors.ModelNotFoundError
        message = f"unknown model '{settings.model}' at {where} (HTTP 404): {detail}"
    elif status == 429:
        kind = errors.RateLimitError
        message = f"still rate limited by {where} after {attempts} attempt(s) (HTTP 429)"
    elif status is not None and (status >= 500 or status in TRANSIENT_STATUS):
        kind = errors.ServerError
        message = (
            f"the server at {where} failed with HTTP {status} after {attempts} attempt(s) "
            f"(mode {mode}; if it persists, try another --mode): {detail}"
        )
    else:
        kind = errors.RequestRejectedError
        message = (
            f"the server at {where} refused the request (HTTP {status}, mode {mode}): {detail}"
        )
        if _is_context_overflow(exc, detail):
            message += "; the article is too long for this model's context: split it"
    return kind(message, status=status, attempts=attempts, usage=usage)


def _is_context_overflow(exc: openai.APIError, detail: str) -> bool:
    """Whether the server refused because the prompt does not fit the model's context."""
    lowered = detail.lower()
    return exc.code == "context_length_exceeded" or (
        "context" in lowered and ("exceed" in lowered or "maximum" in lowered)
    )


def _server_message(exc: openai.APIError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = inner.get("message") if isinstance(inner, dict) else inner
        return str(message)[:300]
    return str(exc.message)[:300]
