"""Batch inputs: article files, folders and JSONL dumps as a list of articles with stable ids.

The shape, for code built on it (``extractor batch``, `Extractor.extract_many`, cluster examples)::

    items = read_inputs(["news/", "dump.jsonl", "one.txt"], glob="*.txt")  # list[BatchItem]
    item.id       # stable id: a file's path relative to the folder given ('2025/a.txt'), a
                  # file given alone: its path as given, normalised (os.path.normpath: './a.txt'
                  # and 'x/../a.txt' are 'a.txt'); a JSONL line (a .jsonl/.ndjson file given
                  # or found in a folder): its "id" (a number -> str);
                  # a JSONL line with no usable id: 'dump.jsonl:12' (file:line)
    item.source   # where it is: the file's path, or 'dump.jsonl:12'
    item.url, item.title, item.published   # from a JSONL line (str or None); None for files
    article = item.read(max_chars=200_000)  # extractor.articles.Article; InputError if it
                  # cannot be extracted from (binary file, bad JSONL line: an error for that
                  # article only, raised when it is read, not when the inputs are listed)

`read_inputs` reads no article text: it lists files (folders recursively, sorted, with the glob)
and scans JSONL files line by line for their ids, keeping where each line is, so a dump of any
size costs memory for its ids only. It raises `InputError` for the whole run only when an input
path does not exist, nothing was found, or two articles share an id (named, with where they are:
a resumable run needs ids that say which article is which).

Offsets index the article's text as given: for a file, as ``Path.read_text(encoding="utf-8")``
returns it (`read` gives an `Article` whose ``text`` has the date line taken off, at ``offset``:
see `extractor.render.against_source`, which moves spans back onto the file, as ``extractor
extract`` does); for a JSONL line, its ``text`` value exactly (offset 0; a date line at its start
is read as the date when the line has no ``published``, and stays in the text).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from extractor.articles import DEFAULT_MAX_CHARS, Article, check_text, parse_published, read_article
from extractor.errors import InputError

__all__ = [
    "JSONL_SUFFIXES",
    "BatchItem",
    "Readable",
    "TextItem",
    "as_readable",
    "read_inputs",
]

JSONL_SUFFIXES = (".jsonl", ".ndjson")
"""A file with one of these suffixes (given by name or found in a folder) is read as JSON Lines,
one article a line."""

MAX_LINE_BYTES = 64 * 1024 * 1024
"""A longer JSONL line is refused (that line only) instead of being read into memory."""


@runtime_checkable
class Readable(Protocol):
    """An article with an id that is read when its turn comes (`BatchItem`, `TextItem`)."""

    @property
    def id(self) -> str:
        """The article's stable id."""

    def read(self, *, max_chars: int = DEFAULT_MAX_CHARS) -> Article:
        """The article's text and date; `InputError` if it cannot be extracted from."""


@dataclass(frozen=True)
class TextItem:
    """An article handed in as a string: its id, text and date (offsets index `text`)."""

    id: str
    text: str
    published: str | None = None

    def read(self, *, max_chars: int = DEFAULT_MAX_CHARS) -> Article:
        """The text as given (offset 0); `InputError` if it cannot be extracted from."""
        check_text(self.text, max_chars=max_chars, source=self.id)
        return Article(
            text=self.text,
            published=parse_published(self.published),
            source=self.id,
            offset=0,
            source_length=len(self.text),
        )


@dataclass(frozen=True)
class BatchItem:
    """One article of a batch's inputs: a file, or a line of a JSONL file (read lazily)."""

    id: str
    source: str
    path: Path
    line: int | None = None  # JSONL: the line number (1-based); None for an article file
    start: int = 0  # JSONL: the line's first byte in the file
    size: int = 0  # JSONL: the line's length in bytes
    url: str | None = None
    title: str | None = None
    published: str | None = None
    problem: str | None = field(default=None, compare=False)  # a JSONL line that is no article

    def read(self, *, max_chars: int = DEFAULT_MAX_CHARS) -> Article:
        """The article's text and date; `InputError` naming the problem if it has none."""
        if self.problem is not None:
            raise InputError(f"{self.source}: {self.problem}")
        if self.line is None:
            return read_article(self.path, max_chars=max_chars)
        text = _line_text(self.path, self.start, self.size, self.source)
        check_text(text, max_chars=max_chars, source=self.source)
        try:
            published = parse_published(self.published)
        except InputError as error:
            raise InputError(f"{self.source}: {error}") from None
        return Article(
            text=text,
            published=published,
            source=self.source,
            offset=0,
            source_length=len(text),
        )


def as_readable(item: object, index: int) -> Readable:
    """`item` as a `Readable`: a str (id: its position), an (id, text) pair, or a `Readable`."""
    if isinstance(item, (BatchItem, TextItem)):  # before the Protocol check, which is slow
        return item
    if isinstance(item, Readable):
        return item
    if isinstance(item, str):
        return TextItem(id=str(index), text=item)
    if (
        isinstance(item, tuple)
        and len(item) == 2
        and isinstance(item[0], str)
        and isinstance(item[1], str)
    ):
        return TextItem(id=item[0], text=item[1])
    raise InputError(
        f"article {index}: expected a str, an (id, text) pair or an item with .id and .read(), "
        f"not {type(item).__name__}"
    )


def read_inputs(
    paths: Iterable[str | Path], *, glob: str = "*.txt", skip: Iterable[Path] = ()
) -> list[BatchItem]:
    """Every article in `paths` (files, folders searched recursively with `glob`, JSONL files).

    Files in `skip` (a run's own output files, which a folder may hold) are left out.
    `InputError` if a path does not exist, nothing is found, or two articles share an id.
    """
    items: list[BatchItem] = []
    ours = {Path(p).resolve() for p in skip}
    for given in paths:
        path = Path(os.path.normpath(given))  # 'a.txt', './a.txt', 'x/../a.txt': one id
        if ours and path.resolve() in ours:
            continue
        if path.is_dir():
            found_files = (p for p in path.rglob(glob) if p.is_file())
            for found in sorted(p for p in found_files if p.resolve() not in ours):
                if _is_jsonl(found):  # a dump in the folder: one article a line
                    items += list(_jsonl_items(found))
                else:
                    key = found.relative_to(path).as_posix()
                    items.append(BatchItem(id=key, source=str(found), path=found))
        elif path.is_file() or path.exists():
            if _is_jsonl(path):
                items += list(_jsonl_items(path))
            else:
                items.append(BatchItem(id=str(path), source=str(path), path=path))
        else:
            raise InputError(f"{path}: no such file or folder")
    if not items:
        where = ", ".join(str(p) for p in paths) or "no input"
        raise InputError(f"no articles found in {where} (folders are searched for '{glob}')")
    _refuse_duplicates(items)
    return items


def _is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in JSONL_SUFFIXES


def _refuse_duplicates(items: list[BatchItem]) -> None:
    seen: dict[str, BatchItem] = {}
    clashes: list[str] = []
    for item in items:
        first = seen.setdefault(item.id, item)
        if first is not item:
            clashes.append(f"'{item.id}' ({first.source} and {item.source})")
    if clashes:
        shown = "; ".join(clashes[:5]) + (
            f"; and {len(clashes) - 5} more" if len(clashes) > 5 else ""
        )
        raise InputError(
            f"{len(clashes)} duplicate article id(s): {shown}; every article needs its own id "
            "(give each JSONL line a unique 'id', or run folders with the same file names apart)"
        )


def _jsonl_items(path: Path) -> Iterator[BatchItem]:
    """One item per non-blank line; a line that is no article is an item with a `problem`."""
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    with stream:
        start = 0
        for number, (raw, size) in enumerate(_lines(stream), start=1):
            here = start
            start += size
            if not raw.strip():
                continue
            source = f"{path}:{number}"
            yield _jsonl_item(raw, path=path, source=source, line=number, start=here, size=size)


def _lines(stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Each line (split on b"\n" only) and its size; an over-long line's bytes are not kept."""
    while line := stream.readline(MAX_LINE_BYTES + 1):
        size = len(line)
        if size > MAX_LINE_BYTES and not line.endswith(b"\n"):
            line = b"x"  # read on in pieces to the line's end, holding none of it
            while (more := stream.readline(1 << 20)) and not more.endswith(b"\n"):
                size += len(more)
            size += len(more)
        yield line, size


def _jsonl_item(
    raw: bytes, *, path: Path, source: str, line: int, start: int, size: int
) -> BatchItem:
    def item(
        key: str, problem: str | None, extras: dict[str, str | None] | None = None
    ) -> BatchItem:
        extras = extras or {}
        return BatchItem(
            id=key,
            source=source,
            path=path,
            line=line,
            start=start,
            size=size,
            url=extras.get("url"),
            title=extras.get("title"),
            published=extras.get("published"),
            problem=problem,
        )

    if size > MAX_LINE_BYTES:
        return item(source, f"line longer than {MAX_LINE_BYTES:,} bytes")
    try:
        row = json.loads(_decoded(raw, first=start == 0))
    except UnicodeDecodeError as exc:
        return item(source, f"not UTF-8 (invalid byte at {exc.start})")
    except json.JSONDecodeError as exc:
        return item(source, f"not JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(row, dict):
        return item(source, "not a JSON object")
    raw_id = row.get("id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)) or str(raw_id) == "":
        return item(source, "no 'id' (a non-empty string or a number)")
    text = row.get("text")
    problem = None if isinstance(text, str) else "no 'text' string"
    extras: dict[str, str | None] = {}
    for key in ("url", "title", "published"):
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            problem = problem or f"'{key}' is not a string"
            value = None
        extras[key] = value
    return item(str(raw_id), problem, extras)


def _decoded(raw: bytes, *, first: bool) -> str:
    """A line as text; the file's first line loses a byte-order mark (editors on Windows)."""
    text = raw.decode("utf-8")
    return text.removeprefix("\ufeff") if first else text


def _line_text(path: Path, start: int, size: int, source: str) -> str:
    try:
        with path.open("rb") as stream:
            stream.seek(start)
            raw = stream.read(size)
        row = json.loads(_decoded(raw, first=start == 0))
    except (OSError, ValueError) as exc:  # changed since it was listed
        raise InputError(f"{source}: cannot be read again ({exc})") from None
    text = row.get("text") if isinstance(row, dict) else None
    if not isinstance(text, str):
        raise InputError(f"{source}: no 'text' string")
    return text
