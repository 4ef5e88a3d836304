"""Secrets kept out of everything the library shows: messages, log lines, errors, raw replies.

The library knows its secrets (the API key, a URL's password, credentials in a URL's query) and
replaces each with ``[redacted]`` wherever a server or model may have repeated it: in the errors
it raises and the exceptions chained to them, in the log records of its own loggers and of
instructor, openai and the HTTP libraries beneath (a filter it installs on them), and in the raw
replies it keeps.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "install_log_filter",
    "redact",
    "redact_exception",
    "remember",
    "url_secrets",
    "visible",
    "without_credentials",
]

REDACTED = "[redacted]"
MIN_SECRET_CHARS = 8  # a shorter value ("k", "x") is no secret worth hiding in every message
# Query parameters whose values are credentials (key=, api_key=, token=, sig=, password=...).
CREDENTIAL_NAME = re.compile(r"key|token|secret|pass|pwd|auth|sig|credential|session", re.I)
LOGGERS = ("extractor", "instructor", "openai", "httpx", "httpcore", "httpx2", "httpcore2")

_secrets: tuple[str, ...] = ()  # longest first; replaced whole, so readers need no lock
_lock = threading.Lock()


def without_credentials(url: str) -> str:
    """`url` with any ``user:password@`` removed and credential query values redacted."""
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    fields = parts.query.split("&") if parts.query else []
    query = "&".join(_redacted_field(field) for field in fields)
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _redacted_field(field: str) -> str:
    name, equals, value = field.partition("=")
    return f"{name}={REDACTED}" if equals and value and CREDENTIAL_NAME.search(name) else field


def url_secrets(url: str) -> list[str]:
    """The credentials in `url`: its password and credential-named query values."""
    parts = urlsplit(url)
    found = [unquote(parts.password)] if parts.password else []
    for field in parts.query.split("&"):
        name, _, value = field.partition("=")
        if value and CREDENTIAL_NAME.search(name):
            found.append(unquote(value))
    return found


def remember(secrets: Iterable[object]) -> None:
    """Add `secrets` to those redacted everywhere (values too short to be secrets are not)."""
    global _secrets
    with _lock:
        known = set(_secrets)
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= MIN_SECRET_CHARS:
                known.update((secret, quote(secret, safe="")))  # quoted: as in a URL
        _secrets = tuple(sorted(known, key=len, reverse=True))


def redact(text: str) -> str:
    """`text` with every known secret replaced by ``[redacted]``."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_value(value: Any) -> Any:
    """`value` (strings, in dicts, lists and tuples too) with every known secret redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(item) for item in value)
    return value


def redact_exception(exc: BaseException) -> None:
    """Redact secrets from `exc` and the exceptions chained to it, in place.

    Arguments and ``message``/``body`` attributes are rewritten; an exception that still shows a
    secret after that (one whose text is computed, like pydantic's) is cut from the chain.
    """
    if not _secrets:
        return
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        _redact_one(current)
        following = current.__cause__ or current.__context__
        if following is not None:
            _redact_one(following)
            if _shows_secret(following):
                current.__cause__ = current.__context__ = None
                current.__suppress_context__ = True
                following = None
        current = following


def visible(exc: BaseException) -> BaseException | None:
    """`exc`, redacted, if it shows no secret now; else None (to leave it out of a chain)."""
    redact_exception(exc)
    return None if _secrets and _shows_secret(exc) else exc


def _redact_one(exc: BaseException) -> None:
    try:
        exc.args = tuple(redact_value(arg) for arg in exc.args)
        for name in ("message", "body"):
            if isinstance(getattr(exc, name, None), (str, dict, list)):
                setattr(exc, name, redact_value(getattr(exc, name)))
    except (AttributeError, TypeError):  # read-only attributes: the chain check cuts it
        pass


def _shows_secret(exc: BaseException) -> bool:
    try:
        shown = f"{exc}{exc!r}"
    except Exception:  # an exception whose str fails shows nothing
        return False
    return redact(shown) != shown


class RedactingFilter(logging.Filter):
    """Rewrites a log record's message and traceback text with every known secret redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact in place; never drops a record."""
        if not _secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the handler's to report
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if redact(text) != text:  # else left to the handler's own formatter
                record.exc_text = redact(text)
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


FILTER = RedactingFilter()


def install_log_filter() -> None:
    """Put the redacting filter on the library's loggers and those of the libraries beneath.

    A logger's filter sees only records logged on it, so every existing descendant gets one too;
    called again before each request, it covers loggers created since.
    """
    manager = logging.Logger.manager
    with _lock:
        names = [
            name
            for name in list(manager.loggerDict)
            if name in LOGGERS or name.split(".", 1)[0] in LOGGERS
        ]
    for name in {*LOGGERS, *names}:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
