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
import os
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from extractor.batch_lines import line_id
from extractor.errors import InputError

__all__ = ["LineWriter", "Recovered", "compact_errors", "lock", "recover", "recover_lines"]


@dataclass
class Recovered:
    """What earlier runs left: ids with a result line; ids in the errors file (last line each)."""

    done: set[str] = field(default_factory=set)
    failed: dict[str, bytes] = field(default_factory=dict)
    torn: int = 0  # torn last lines cut off (0, 1 or 2)


def recover_lines(path: Path) -> tuple[list[bytes], bool]:
    """The complete lines of `path` (none if it does not exist), after cutting a torn last line.

    Returns the lines and whether a torn line was cut.
    """
    try:
        with path.open("rb") as stream:
            data = stream.read()
    except FileNotFoundError:
        return [], False
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    end = data.rfind(b"\n") + 1
    torn = end < len(data)
    if torn:
        try:
            with path.open("r+b") as stream:
                stream.truncate(end)
                stream.flush()
                os.fsync(stream.fileno())
        except OSError as exc:
            raise InputError(f"{path}: cannot cut its torn last line ({exc.strerror})") from None
    return [line for line in data[:end].split(b"\n") if line.strip()], torn


def recover(out: Path, errors: Path) -> Recovered:
    """What the output and errors files of earlier runs hold, torn last lines cut off."""
    lines, torn_out = recover_lines(out)
    state = Recovered(torn=int(torn_out))
    for line in lines:
        key = line_id(line)
        if key is not None:
            state.done.add(key)
    error_lines, torn_errors = recover_lines(errors)
    state.torn += int(torn_errors)
    for line in error_lines:
        key = line_id(line)
        if key is not None and key not in state.done:
            state.failed[key] = line
    return state


def compact_errors(errors: Path, done: set[str]) -> int:
    """Rewrite `errors` with the last line of each id not in `done`; the ids left (count).

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
        return 0
    if len(latest) == len(lines):  # nothing to drop: leave the file as it is
        return len(latest)
    fresh = errors.with_name(errors.name + ".tmp")
    with fresh.open("wb") as stream:
        stream.write(b"".join(line + b"\n" for line in latest.values()))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(fresh, errors)
    return len(latest)


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
