"""A batch's two JSON Lines files, crash-safe: what a run killed at any moment leaves is resumable.

- `recover` opens the output file (and the errors file) of an earlier run: a torn last line (a
  run killed while writing it) is cut off by truncating the file to its last complete line, and
  the ids of the complete lines are read back (`Recovered`). Lines are split on ``\\n`` bytes only
  (a line's JSON may hold U+2028 and other characters Python's ``splitlines`` would split on).
- `LineWriter` appends lines from one thread of its own: whatever lines are waiting are written
  with one ``write``, then flushed and ``fsync``-ed, so a kill leaves a prefix of what was asked
  (at worst a torn last line, which `recover` cuts) and the workers never wait for the disk.
- `compact_errors` rewrites the errors file (atomically: a new file renamed over it) with the
  last line of each id still failing, so ``--retry-failed`` leaves only what failed again.
- `lock` takes an exclusive advisory lock on the output file, so two runs cannot write into one.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from extractor.batch_lines import line_id
from extractor.errors import InputError

__all__ = [
    "LineWriter",
    "Recovered",
    "compact_errors",
    "compact_output",
    "cut_torn",
    "iter_lines",
    "line_key",
    "lock",
    "recover",
    "recover_lines",
]


@dataclass
class Recovered:
    """What earlier runs left: ids with a result line, ids in the errors file."""

    done: dict[str, str | None] = field(default_factory=dict)  # id -> its last line's fingerprint
    failed: set[str] = field(default_factory=set)
    repeated: set[str] = field(default_factory=set)  # ids with more than one result line
    torn: int = 0  # torn last lines cut off (0, 1 or 2)


_TAIL = 1 << 16
# The start of a line as `dump_line` writes it: its id, then its fingerprint (or none).
_HEAD = re.compile(rb'\{"id": ("(?:[^"\\]|\\.)*")(?:, "fingerprint": (?:"([0-9a-f]{1,64})"|null))?')


def cut_torn(path: Path) -> bool:
    """Cut a torn last line off `path` (truncate it after its last newline); whether one was.

    Reads the file's tail only, backwards, never the whole file.
    """
    try:
        with path.open("r+b") as stream:
            size = stream.seek(0, os.SEEK_END)
            end = size
            while end > 0:
                start = max(0, end - _TAIL)
                stream.seek(start)
                newline = stream.read(end - start).rfind(b"\n")
                if newline >= 0:
                    end = start + newline + 1
                    break
                end = start
            if end == size:
                return False
            stream.truncate(end)
            stream.flush()
            os.fsync(stream.fileno())
            return True
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise InputError(f"{path}: cannot cut its torn last line ({exc.strerror})") from None


def iter_lines(path: Path) -> Iterator[bytes]:
    """The non-blank lines of `path` one at a time (split on ``\\n`` only); none if missing."""
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    with stream:
        for line in stream:
            if line.strip():
                yield line.rstrip(b"\n")


def line_key(line: bytes) -> tuple[str, str | None] | None:
    """A complete line's id and fingerprint (None when it has none); None if it has no id.

    A line as `dump_line` writes it is not parsed whole: its id and fingerprint are at its
    start. Any other line is parsed as JSON.
    """
    head = _HEAD.match(line)
    if head is not None and line.rstrip().endswith(b"}"):
        try:
            key = json.loads(head.group(1))
        except ValueError:
            key = None
        if isinstance(key, str):
            mark = head.group(2)
            return key, mark.decode("ascii") if mark is not None else None
    try:
        row = json.loads(line)
    except ValueError:
        return None
    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        return None
    fingerprint = row.get("fingerprint")
    return row["id"], fingerprint if isinstance(fingerprint, str) else None


def recover_lines(path: Path) -> tuple[list[bytes], bool]:
    """The complete lines of `path` (none if it does not exist), after cutting a torn last line.

    Returns the lines and whether a torn line was cut (for small files: the errors file).
    """
    torn = cut_torn(path)
    return list(iter_lines(path)), torn


def recover(out: Path, errors: Path) -> Recovered:
    """What the output and errors files of earlier runs hold, torn last lines cut off.

    Both are read a line at a time, keeping ids and fingerprints only.
    """
    state = Recovered(torn=int(cut_torn(out)))
    for line in iter_lines(out):
        found = line_key(line)
        if found is not None:
            if found[0] in state.done:
                state.repeated.add(found[0])
            state.done[found[0]] = found[1]
    state.torn += int(cut_torn(errors))
    for line in iter_lines(errors):
        found = line_key(line)
        if found is not None and found[0] not in state.done:  # not redone since
            state.failed.add(found[0])
    return state


def compact_output(out: Path, drop: set[str]) -> None:
    """Rewrite `out` with the last line of each id, and none of the ids in `drop`.

    Streams the file twice (once for where each id's last line is, once to copy); the new
    file replaces the old one in one rename, so a kill leaves one or the other whole.
    """
    last: dict[str, int] = {}
    for number, line in enumerate(iter_lines(out)):
        found = line_key(line)
        if found is not None:
            last[found[0]] = number
    fresh = out.with_name(out.name + ".tmp")
    with fresh.open("wb") as stream:
        for number, line in enumerate(iter_lines(out)):
            found = line_key(line)
            if found is None or (found[0] not in drop and last[found[0]] == number):
                stream.write(line + b"\n")
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(fresh, out)


def compact_errors(errors: Path, done: set[str]) -> set[str]:
    """Rewrite `errors` with the last line of each id not in `done`; the ids left.

    With none left, the file is removed.
    The new file replaces the old one in one rename, so a kill leaves one or the other whole.
    """
    lines, _ = recover_lines(errors)
    latest: dict[str, bytes] = {}
    for line in lines:
        key = line_id(line)
        if key is not None and key not in done:
            latest.pop(key, None)
            latest[key] = line
    if not latest:  # nothing failing: no errors file
        errors.unlink(missing_ok=True)
        return set()
    if len(latest) == len(lines):  # nothing to drop: leave the file as it is
        return set(latest)
    fresh = errors.with_name(errors.name + ".tmp")
    with fresh.open("wb") as stream:
        stream.write(b"".join(line + b"\n" for line in latest.values()))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(fresh, errors)
    return set(latest)


@contextlib.contextmanager
def lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if missing); `InputError` if taken."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, the files stay line-safe
        yield
        return
    try:
        stream = path.open("ab")
    except OSError as exc:
        raise InputError(f"{path}: cannot be written ({exc.strerror})") from None
    with stream:
        try:
            fcntl.flock(stream.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise InputError(
                f"{path}: another run is writing to it; wait for it or choose another --out"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(stream.fileno(), fcntl.LOCK_UN)


_CLOSE = object()


class LineWriter:
    """Appends lines to a file from its own thread: each group in one write, flushed, fsync-ed."""

    def __init__(self, path: Path) -> None:
        """Open `path` for appending (created if missing); `InputError` if it cannot be."""
        try:
            self._file: IO[bytes] = path.open("ab")
        except OSError as exc:
            raise InputError(f"{path}: cannot be written ({exc.strerror})") from None
        self.path = path
        self.written = 0
        self.failure: OSError | None = None
        self._queue: queue.Queue[bytes | object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"write {path.name}", daemon=True)
        self._thread.start()

    def put(self, line: str) -> None:
        """Queue one line (its own newline included) to be written soon.

        `InputError` once a write has failed (a full disk): the run stops instead of going on
        with nothing written; a torn line it left is cut off when the run starts again.
        """
        if self.failure is not None:
            raise self._error(self.failure)
        self._queue.put(line.encode("utf-8"))

    def _error(self, failure: OSError) -> InputError:
        return InputError(f"{self.path}: cannot be written ({failure.strerror or failure})")

    def flush(self) -> None:
        """Wait until every line queued so far is written and fsync-ed; `InputError` if not."""
        if self._thread.is_alive():
            written = threading.Event()
            self._queue.put(written)
            written.wait()
        if self.failure is not None:
            raise self._error(self.failure)

    def close(self) -> None:
        """Write what is queued, close the file; raise the write's `OSError` as an InputError."""
        self._queue.put(_CLOSE)
        self._thread.join()
        try:
            self._file.close()
        except OSError as exc:  # what a failed write left in the buffer fails again
            self.failure = self.failure or exc
        if self.failure is not None:
            raise self._error(self.failure)

    def _run(self) -> None:
        closing = False
        while not closing:
            group = [self._queue.get()]
            while True:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            closing = _CLOSE in group
            data = b"".join(item for item in group if isinstance(item, bytes))
            if data and self.failure is None:
                try:
                    self._file.write(data)
                    self._file.flush()
                    os.fsync(self._file.fileno())
                    self.written += sum(1 for item in group if isinstance(item, bytes))
                except OSError as exc:
                    self.failure = exc
            for item in group:  # flush() waiting on what came before it
                if isinstance(item, threading.Event):
                    item.set()
