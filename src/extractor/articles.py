"""Article input: read a file or take a string, and refuse what cannot be extracted from."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from extractor.dates import parse_date_line
from extractor.errors import InputError
from extractor.settings import Settings

__all__ = [
    "DEFAULT_MAX_CHARS",
    "Article",
    "byte_limit",
    "check_text",
    "parse_article",
    "parse_published",
    "read_article",
]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# An ISO date line whose date is invalid ('date 2025-13-45') or comes with a time ('...T10:00').
_BAD_DATE_LINE = re.compile(
    r"\s*date\s*:?\s*(\d{4}-\d{2}-\d{2})(?:[T ]?\d{1,2}:\d{2}\S*)?", re.IGNORECASE
)
_CONTROL_OK = {"\n", "\r", "\t", "\f", "\v"}
_SURROGATE = re.compile("[\ud800-\udfff]")

DEFAULT_MAX_CHARS: int = Settings.model_fields["max_chars"].default
"""`Settings.max_chars` as it is when no argument or environment variable sets it."""


@dataclass(frozen=True)
class Article:
    """An article's text and its publication date, if known.

    `text` is what to extract from, its date line removed. It sits at `offset` in its source
    (the file, or stdin) as Python reads it in text mode (``Path.read_text(encoding="utf-8")``:
    a BOM kept as U+FEFF, line ends read as ``\\n``), which is `source_length` characters long.
    """

    text: str
    published: dt.date | None
    source: str = "<text>"
    offset: int = 0
    source_length: int | None = None


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
    surrogate = _SURROGATE.search(text)
    if surrogate:
        raise InputError(
            f"{source}: the article has a lone surrogate (U+{ord(surrogate.group()):04X}) at "
            f"character {surrogate.start()}, so it is not valid Unicode (text decoded with "
            "errors='surrogateescape'?); decode it as UTF-8 with errors='replace' or fix the file"
        )
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


def read_article(path: str | Path, *, max_chars: int = DEFAULT_MAX_CHARS) -> Article:
    """Read an article file (UTF-8); a leading ``date YYYY-MM-DD`` line gives its date."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            data = read_at_most(file, byte_limit(max_chars) + 1)  # /dev/zero cannot fill memory
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not an article file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    return parse_article(data, max_chars=max_chars, source=str(path))


def read_at_most(stream: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes of `stream`, read in pieces, so a large limit reserves no memory."""
    pieces: list[bytes] = []
    size = 0
    while size < limit:
        piece = stream.read(min(1 << 20, limit - size))
        if not piece:
            break
        pieces.append(piece)
        size += len(piece)
    return b"".join(pieces)


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
        whole = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (invalid byte at offset {exc.start}); convert it to UTF-8"
        ) from None
    # The text as Python's text mode reads it, which users slice: BOM kept, '\r\n' and '\r' as '\n'.
    whole = whole.replace("\r\n", "\n").replace("\r", "\n")
    text = whole.removeprefix("\ufeff")
    published, body = parse_date_line(text)
    if published is not None:  # 'date 2025-08-27, Kyiv -' : the separator is not article text
        body = body.lstrip(",.;:-\u2013\u2014 \t\r\n")
    line = _BAD_DATE_LINE.match(text)
    if line and (published is None or line.end() > line.end(1)):
        raise InputError(
            f"{path}: the date line '{line.group(0).strip()}' is not a date (YYYY-MM-DD)"
        )
    check_text(body, max_chars=max_chars, source=str(path))
    offset = len(whole) - len(body)
    if whole[offset:] != body:  # the date line is only ever cut from the front
        raise InputError(f"{path}: could not tell where the article starts after its date line")
    return Article(
        text=body, published=published, source=str(path), offset=offset, source_length=len(whole)
    )
