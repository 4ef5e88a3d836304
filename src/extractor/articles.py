"""Article input: read a file or take a string, and refuse what cannot be extracted from."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from extractor.dates import parse_date_line
from extractor.errors import InputError

__all__ = [
    "Article",
    "byte_limit",
    "check_text",
    "parse_article",
    "parse_published",
    "read_article",
]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A first line that reads as a date line ('date 2025-13-45'), whether or not the date is valid.
_DATE_LINE = re.compile(r"\s*date\b:?[ \t]*\d\S*", re.IGNORECASE)
_CONTROL_OK = {"\n", "\r", "\t", "\f", "\v"}


@dataclass(frozen=True)
class Article:
    """An article's text and its publication date, if known."""

    text: str
    published: dt.date | None
    source: str = "<text>"


def check_text(text: object, *, max_chars: int, source: str = "<text>") -> str:
    """Return `text` if it can be extracted from, else raise `InputError` naming the problem."""
    if isinstance(text, bytes):
        raise InputError(f"{source}: got bytes; decode the article to str first")
    if not isinstance(text, str):
        raise InputError(f"{source}: article text must be a str, not {type(text).__name__}")
    if not text.strip():
        raise InputError(f"{source}: the article is empty")
    if "\x00" in text:
        raise InputError(f"{source}: the article looks binary (it contains NUL characters)")
    sample = text[:4096]
    control = sum(1 for ch in sample if ch < " " and ch not in _CONTROL_OK)
    if control > max(8, len(sample) // 100):
        raise InputError(f"{source}: the article looks binary ({control} control characters)")
    if len(text) > max_chars:
        raise InputError(
            f"{source}: the article has {len(text):,} characters, more than max_chars="
            f"{max_chars:,}; raise EXTRACTOR_MAX_CHARS or split it"
        )
    return text


def parse_published(value: str | dt.date | None) -> dt.date | None:
    """A publication date from an ISO string or a date; `InputError` if it is not one."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        raise InputError(f"published must be a date or a YYYY-MM-DD string, not {value!r}")
    text = value.strip()
    try:
        if not _ISO_DATE.fullmatch(text):  # the same rule on every Python (3.11 reads more forms)
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"published date '{value}' is not an ISO date (YYYY-MM-DD)") from None


def read_article(path: str | Path, *, max_chars: int) -> Article:
    """Read an article file (UTF-8); a leading ``date YYYY-MM-DD`` line gives its date."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = file.read(byte_limit(max_chars) + 1)  # /dev/zero cannot fill memory
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an article file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_article(data, max_chars=max_chars, source=str(path))


def byte_limit(max_chars: int) -> int:
    """The most bytes an article of `max_chars` characters can take in UTF-8."""
    return max_chars * 4


def parse_article(data: bytes, *, max_chars: int, source: str = "<bytes>") -> Article:
    """An article from the bytes of a file (UTF-8); a leading date line gives its date."""
    path = source
    limit = byte_limit(max_chars)
    if len(data) > limit:
        raise InputError(
            f"{path}: more than {limit:,} bytes, longer than max_chars={max_chars:,} allows; "
            "raise EXTRACTOR_MAX_CHARS or split it"
        )
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise InputError(f"{path}: UTF-16 text; convert it to UTF-8")
    if b"\x00" in data[:65536]:
        raise InputError(f"{path}: the file looks binary (it contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (invalid byte at offset {exc.start}); convert it to UTF-8"
        ) from None
    published, body = parse_date_line(text)
    line = _DATE_LINE.match(text)
    if line and (published is None or len(text) - len(body) < line.end()):
        # Looks like a date line, but its date is invalid or only partly read ('...T10:00').
        raise InputError(f"{path}: the date line '{line.group(0).strip()}' is not a valid date")
    check_text(body, max_chars=max_chars, source=str(path))
    return Article(text=body, published=published, source=str(path))
