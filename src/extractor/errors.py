"""Exceptions raised by extractor, each carrying what a caller needs to act.

The tree, so callers can catch the right level::

    ExtractorError
    ├── InputError               the text handed in cannot be extracted from
    ├── ConfigurationError       settings that cannot work (unknown mode, bad option)
    ├── APIError                 the model server failed; ``status`` and ``attempts`` say how
    │   ├── AuthenticationError      wrong or missing API key (never retried)
    │   ├── ModelNotFoundError       the server does not serve this model (never retried)
    │   ├── RequestRejectedError     the server refused the request (4xx, e.g. an unsupported mode)
    │   ├── RateLimitError           still 429 after every transient retry
    │   ├── ServerError              still 5xx (or 408/409/425) after every transient retry
    │   ├── ConnectionFailedError    refused, reset or timed out after every transient retry
    │   └── BadResponseError         a reply that is not a chat completion (garbage, no choices)
    ├── ModelRefusalError        the model declined to answer (never retried)
    ├── IncompleteOutputError    the reply was cut at ``max_tokens``
    └── ExtractionError          no reply validated and grounded within the re-ask limit

Every error keeps the token usage spent before it (``usage``) and, when an earlier reply of the
same call validated as far as grounding, the records it did ground (``partial``), so nothing
already extracted is lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from extractor.models import Usage

__all__ = [
    "APIError",
    "AuthenticationError",
    "BadResponseError",
    "ConfigurationError",
    "ConnectionFailedError",
    "ExtractionError",
    "ExtractorError",
    "FailedAttempt",
    "IncompleteOutputError",
    "InputError",
    "ModelNotFoundError",
    "ModelRefusalError",
    "RateLimitError",
    "RequestRejectedError",
    "ServerError",
    "validation_messages",
]


class ExtractorError(Exception):
    """Base class of every error extractor raises."""

    def __init__(self, message: str, *, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage = usage
        self.partial: Any = None  # records grounded before the failure, set by the Extractor

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its attributes, not its constructor's arguments (some are keyword-only),
        so an error crosses processes whole (a Dask worker sends it to the driver)."""
        return (_unpickled, (type(self), self.args), self.__dict__)


def _unpickled(kind: type[ExtractorError], args: tuple[Any, ...]) -> ExtractorError:
    """An error of `kind` with `args`, its attributes set afterwards by pickle."""
    error = kind.__new__(kind)
    Exception.__init__(error, *args)
    return error


class InputError(ExtractorError, ValueError):
    """The text cannot be extracted from: empty, binary, not UTF-8, too large or missing."""


class ConfigurationError(ExtractorError, ValueError):
    """A setting or option that cannot work."""


class APIError(ExtractorError):
    """The model server failed to give a usable answer."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        attempts: int = 1,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message, usage=usage)
        self.status = status
        self.attempts = attempts


class AuthenticationError(APIError):
    """The server rejected the API key (401/403); not retried."""


class ModelNotFoundError(APIError):
    """The server does not know the model (404); not retried."""


class RequestRejectedError(APIError):
    """The server refused the request as malformed or unsupported (400, 422)."""


class RateLimitError(APIError):
    """Still rate limited (429) after every transient retry."""


class ServerError(APIError):
    """Still failing with 5xx (or 408, 409, 425) after every transient retry."""


class ConnectionFailedError(APIError):
    """Could not reach the server, or it timed out, after every transient retry."""


class BadResponseError(APIError):
    """The server answered with something that is not a usable chat completion."""


class ModelRefusalError(ExtractorError):
    """The model declined to answer (an OpenAI ``refusal``); asking again would not help."""


class IncompleteOutputError(ExtractorError):
    """The model's reply was cut off at the token limit."""


@dataclass(frozen=True)
class FailedAttempt:
    """One attempt that did not validate: its number, the errors and the model's raw reply."""

    number: int
    errors: list[str]
    raw_reply: str | None


class ExtractionError(ExtractorError):
    """No reply validated and grounded within the re-ask limit."""

    def __init__(
        self,
        message: str,
        *,
        attempts: list[FailedAttempt],
        usage: Usage | None = None,
        partial: Any = None,
    ) -> None:
        super().__init__(message, usage=usage)
        self.attempts = attempts
        self.partial = partial

    @property
    def last_errors(self) -> list[str]:
        """The validation errors of the last attempt."""
        return self.attempts[-1].errors if self.attempts else []

    @property
    def raw_reply(self) -> str | None:
        """The model's raw reply in the last attempt."""
        return self.attempts[-1].raw_reply if self.attempts else None


def validation_messages(exc: ValidationError) -> list[str]:
    """One readable line per pydantic error: ``where: what``, without pydantic's boilerplate."""
    lines = []
    for error in exc.errors(include_url=False):
        message = str(error["msg"]).removeprefix("Value error, ")
        where = ".".join(str(part) for part in error["loc"])
        lines.append(f"{where}: {message}" if where else message)
    return lines
