"""Result files read back: ``extract --format json`` output, ``batch`` lines, errors-file lines.

One reader for every command that takes results (``extractor eval --pred``, ``extractor view``,
the benchmarks), so they accept the same files and refuse the same ones with the same words:

- a file is UTF-8 (a byte order mark is allowed and dropped), holding one JSON document (a
  result, a batch line, or a list of them) or JSON Lines (one per line, blank lines skipped);
- a folder stands for every ``.json`` and ``.jsonl`` file in it, by name;
- an object is a result (``extractor extract --format json``: ``events``, ``quotes``,
  ``commitments``, ...), a line of a batch's output file (``{"id", "source", "result", ...}``,
  `extractor.batch_lines.ResultLine`), or a line of its errors file (``{"id", "source",
  "error", "message", "partial"}``, `extractor.batch_lines.ErrorLine`), whose result is what it
  kept (``partial``), or None when it kept nothing.

Every problem is an `InputError` naming the file and line (``results.jsonl:3``): not found, not
UTF-8, empty, not JSON, not an object, not a result (``extract --format jsonl`` output named as
such). Model-free: imports neither openai nor instructor.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from extractor.errors import InputError
from extractor.models import ArticleExtraction

__all__ = ["ResultItem", "parse_item", "read_objects", "read_result_files", "result_files"]

_RECORD_KEYS = frozenset({"events", "quotes", "commitments"})
_JSONL_TYPES = frozenset({"source", "quote", "event", "commitment", "usage", "coverage"})
_EXPECTED = "expected 'extractor extract --format json' output or 'extractor batch' lines"


@dataclass(frozen=True)
class ResultItem:
    """One result read from a file, with what names it and, for a failed article, why."""

    file: Path  # the result file it was read from
    where: str  # the file, and its line or item: 'results.jsonl:3'
    item: dict[str, Any]  # the object as read (a batch line, or the result itself)
    raw: dict[str, Any]  # the result's own object ({} for a failed line that kept nothing)
    result: ArticleExtraction | None  # None: a failed article that kept nothing
    id: str | None = None  # a batch line's id
    source_path: str | None = None  # the article's file (or 'dump.jsonl:12')
    title: str | None = None  # a batch line's title
    failure: str | None = None  # an errors-file line's 'ExtractionError: message'


def result_files(path: Path) -> list[Path]:
    """`path` itself, or the ``.json`` and ``.jsonl`` files in a folder, by name."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in {".json", ".jsonl"} and p.is_file())
        if not files:
            raise InputError(f"{path}: the folder holds no .json or .jsonl file")
        return files
    return [path]


def read_objects(path: Path) -> Iterator[tuple[str, Any]]:
    """Each JSON value in a result file with where it is: one document (a list: each item),
    or JSON lines."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a result file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 (byte {exc.start}), so not a result file") from None
    if not text.strip():
        raise InputError(f"{path}: empty; {_EXPECTED}")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if len(lines) < 2:
            raise InputError(f"{path}: not JSON ({exc.msg}, line {exc.lineno})") from None
        for number, line in lines:
            try:
                value = json.loads(line)
            except json.JSONDecodeError as line_exc:
                raise InputError(
                    f"{path}:{number}: not JSON ({line_exc.msg}); expected one result per line "
                    "('extractor batch' output)"
                ) from None
            yield f"{path}:{number}", value
        return
    if isinstance(whole, list):
        for number, value in enumerate(whole):
            yield f"{path}[{number}]", value
    else:
        yield str(path), whole


def _failure(item: dict[str, Any]) -> str | None:
    """An errors-file line's reason ('ExtractionError: ...'), or None for a result."""
    error, message = item.get("error"), item.get("message")
    if "result" in item or not isinstance(error, str):
        return None
    return f"{error}: {message}" if isinstance(message, str) and message else error


def _text(value: Any) -> str | None:
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    return None


def parse_item(value: Any, where: str, file: Path | None = None) -> ResultItem:
    """A result, batch line or errors-file line, validated; `InputError` naming `where`."""
    if not isinstance(value, dict):
        kind = type(value).__name__
        raise InputError(f"{where}: a JSON {kind}, not a result object; {_EXPECTED}")
    failure = _failure(value)
    raw = value.get("partial") if failure is not None else value.get("result", value)
    result: ArticleExtraction | None = None
    if failure is None or raw is not None:
        if not isinstance(raw, dict) or not _RECORD_KEYS & raw.keys():
            hint = ""
            if isinstance(raw, dict) and raw.get("type") in _JSONL_TYPES:
                hint = " (this looks like 'extract --format jsonl' output: use --format json)"
            raise InputError(
                f"{where}: not an extraction result: no events, quotes or commitments{hint}; "
                f"{_EXPECTED}"
            )
        try:
            result = ArticleExtraction.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(part) for part in first["loc"]) or "the result"
            raise InputError(f"{where}: not an extraction result: {loc}: {first['msg']}") from None
    source = value.get("source") if raw is not value else None
    source_path = source.get("path") if isinstance(source, dict) else _text(source)
    if source_path is None and result is not None and result.source is not None:
        source_path = result.source.path
    title = value.get("title")
    return ResultItem(
        file=file if file is not None else Path(where),
        where=where,
        item=value,
        raw=raw if isinstance(raw, dict) else {},
        result=result,
        id=_text(value.get("id")) if raw is not value else None,
        source_path=source_path,
        title=title if isinstance(title, str) else None,
        failure=failure,
    )


def read_result_files(path: Path) -> list[ResultItem]:
    """Every result in a result file, or in the result files of a folder (`result_files`)."""
    files = result_files(path)
    return [parse_item(value, where, file) for file in files for where, value in read_objects(file)]
