"""The response cache: a model request identical to an earlier successful one is answered from
disk, sending nothing, so a re-run over unchanged input costs no tokens.

`extractor.transport` consults it for every request when ``cache`` is on (``extractor batch``
turns it on); a hit's reply goes through instructor's validation and the library's grounding
exactly as the first time, and is marked with the header ``x-extractor-cache: hit``.

- Store: one SQLite file, ``responses.sqlite3`` in ``cache_dir`` (default ``~/.cache/extractor``),
  through the standard library's sqlite3 in WAL mode: safe for several threads and processes at
  once (each write one short transaction; readers do not block the writer). No dependency is
  needed for one table; diskcache would add one and pickles its values by default.
- Key: SHA-256 of the request's method, URL (scheme, host, port, path, and the query without
  credential-like parameters) and its JSON body with keys sorted. The body holds everything that
  changes the answer: model, messages, tools or response_format (the schema), tool_choice,
  temperature, max_tokens. Headers (``Authorization``, ``api-key``, the SDK's retry count) are
  left out, so no key or secret reaches the disk and none changes the key.
- Stored: replies with status 200 only (never an error), their body and content type; a body in
  which a secret of the request appears (an API key echoed by a server) is not stored.
- Bounded: ``max_bytes`` (default 1 GiB); past it, the least recently used replies go.
  `ResponseCache.clear` (``extractor cache clear``) empties it; deleting the folder does too.
- Repeats: each extraction pass asks every chunk again with the very same request. Within one
  article (`repeats_scope`, opened by the Extractor for each article) the first such request has
  the plain key, the second the key numbered 1, and so on, so every pass has its own reply and a
  re-run replays them all. Outside such a scope, with ``extraction_passes`` above 1, the cache is
  not used (every pass would get the first pass's reply).
- A model call that fails in the end (its replies never validated or grounded, a refusal, a cut
  reply) forgets every reply it stored or replayed (`CallLedger.forget`), so the next run asks
  the server again instead of replaying the failure. A call that succeeded after re-asks keeps
  them all: each re-ask's messages differ from the first request's, so each has its own key, and
  a re-run replays the whole exchange without a request.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from extractor import errors
from extractor.redaction import CREDENTIAL_NAME

__all__ = [
    "CACHE_HEADER",
    "CallLedger",
    "Repeats",
    "ResponseCache",
    "StoredReply",
    "call_ledger",
    "current_ledger",
    "current_repeats",
    "default_cache_dir",
    "repeats_scope",
    "request_key",
]

logger = logging.getLogger(__name__)

CACHE_HEADER = "x-extractor-cache"  # "hit" on a reply the cache gave
FILE_NAME = "responses.sqlite3"
DEFAULT_MAX_BYTES = 1024**3
BUSY_SECONDS = 10.0  # how long a write waits for another process's write to finish

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body BLOB NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_used ON responses (used);
"""


def default_cache_dir() -> Path:
    """Where the cache lives when ``cache_dir`` is unset: ``~/.cache/extractor``."""
    return Path.home() / ".cache" / "extractor"


def request_key(method: str, url: str, body: bytes) -> str:
    """The cache key of a request: SHA-256 over what changes its answer, never its headers."""
    parts = urlsplit(url)
    query = [
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not CREDENTIAL_NAME.search(name)
    ]
    host = (parts.hostname or "").lower() + (f":{parts.port}" if parts.port else "")
    where = f"{parts.scheme.lower()}://{host}{parts.path}?{urlencode(sorted(query))}"
    try:
        canonical = json.dumps(
            json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), where.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))  # lengths first: no two splits collide
        digest.update(part)
    return digest.hexdigest()


@dataclass(frozen=True)
class StoredReply:
    """A cached reply: status, content type and the (decoded) body."""

    status: int
    content_type: str
    body: bytes


class ResponseCache:
    """Successful model replies in SQLite, by request key; thread- and process-safe.

    Opened on first use (or `open`); unusable stores raise `ConfigurationError` on opening, and
    later database errors (a full disk, a lock held too long) are logged and make a miss.
    """

    def __init__(self, folder: Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.path = self.folder / FILE_NAME
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._warned = False

    def open(self) -> ResponseCache:
        """Open (and create) the store now; `ConfigurationError` naming the file if it cannot."""
        with self._lock:
            self._connect()
        return self

    def _connect(self) -> sqlite3.Connection:
        """The connection of this process, opened if need be (under the lock)."""
        if self._connection is not None and self._pid == os.getpid():
            return self._connection
        # Several processes opening a new store at once: switching it to WAL and creating the
        # table take its exclusive lock, and SQLite refuses at once, without waiting, when
        # another holds it; so a refusal here is tried again until BUSY_SECONDS have passed.
        give_up = time.monotonic() + BUSY_SECONDS
        pause = 0.01
        while True:
            try:
                connection = self._open_once()
            except sqlite3.OperationalError as exc:
                busy = "locked" in str(exc) or "busy" in str(exc)
                if not busy or time.monotonic() + pause > give_up:
                    raise self._unusable(exc) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
            except (OSError, sqlite3.Error) as exc:
                raise self._unusable(exc) from None
            else:
                break
        self._connection, self._pid = connection, os.getpid()
        return connection

    def _open_once(self) -> sqlite3.Connection:
        """A connection to the store, in WAL mode, its table created."""
        self.folder.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(
            self.path, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None
        )
        try:
            if connection.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")  # kept in the file once set
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
        except BaseException:
            connection.close()
            raise
        return connection

    def get(self, key: str) -> StoredReply | None:
        """The reply stored under `key`, if any (and mark it used)."""
        with self._lock:
            connection = self._connect()
            try:
                row = connection.execute(
                    "SELECT status, content_type, body FROM responses WHERE key = ?", (key,)
                ).fetchone()
                if row is not None:
                    connection.execute(
                        "UPDATE responses SET used = ? WHERE key = ?", (time.time(), key)
                    )
            except sqlite3.Error as exc:
                self._trouble("reading", exc)
                return None
        return None if row is None else StoredReply(row[0], row[1], bytes(row[2]))

    def put(self, key: str, reply: StoredReply) -> bool:
        """Store `reply` under `key` (a status-200 reply only); whether it was stored."""
        if reply.status != 200:
            return False
        now = time.time()
        with self._lock:
            connection = self._connect()
            try:
                connection.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key, reply.status, reply.content_type, reply.body, len(reply.body), now, now),
                )
                self._shrink(connection)
            except sqlite3.Error as exc:
                self._trouble("writing", exc)
                return False
        return True

    def forget(self, keys: list[str]) -> None:
        """Remove the replies stored under `keys`."""
        if not keys:
            return
        with self._lock:
            connection = self._connect()
            try:
                connection.executemany("DELETE FROM responses WHERE key = ?", [(k,) for k in keys])
            except sqlite3.Error as exc:
                self._trouble("writing", exc)

    def clear(self) -> int:
        """Remove every stored reply; how many there were."""
        with self._lock:
            connection = self._connect()
            try:
                count = int(connection.execute("SELECT COUNT(*) FROM responses").fetchone()[0])
                connection.execute("DELETE FROM responses")
                connection.execute("VACUUM")
            except sqlite3.Error as exc:
                raise self._unusable(exc) from None
        return count

    def stats(self) -> tuple[int, int]:
        """How many replies are stored, and their bytes."""
        with self._lock:
            try:
                row = (
                    self._connect()
                    .execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM responses")
                    .fetchone()
                )
            except sqlite3.Error as exc:
                raise self._unusable(exc) from None
        return int(row[0]), int(row[1])

    def _unusable(self, exc: Exception) -> errors.ConfigurationError:
        """The error for a store that cannot be used."""
        return errors.ConfigurationError(
            f"the response cache at {self.path} cannot be used ({exc}); set cache_dir "
            "(EXTRACTOR_CACHE_DIR) to a writable folder, delete the file, or turn the "
            "cache off (--no-cache)"
        )

    def close(self) -> None:
        """Close this process's connection; the next use opens it again."""
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None

    def _shrink(self, connection: sqlite3.Connection) -> None:
        """Drop the least recently used replies while the store is larger than `max_bytes`."""
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        size = connection.execute("PRAGMA page_size").fetchone()[0]
        if (pages - free) * size <= self.max_bytes:
            return
        total = connection.execute("SELECT COALESCE(SUM(size), 0) FROM responses").fetchone()[0]
        goal = self.max_bytes * 0.9
        while total > goal:
            rows = connection.execute(
                "SELECT key, size FROM responses ORDER BY used LIMIT 100"
            ).fetchall()
            if not rows:
                break
            connection.executemany("DELETE FROM responses WHERE key = ?", [(r[0],) for r in rows])
            total -= sum(row[1] for row in rows)

    def _trouble(self, doing: str, exc: sqlite3.Error) -> None:
        """Log a database error once as a warning (then at debug level): the cache is skipped."""
        level = logging.DEBUG if self._warned else logging.WARNING
        self._warned = True
        logger.log(level, "response cache at %s: %s failed (%s); skipped", self.path, doing, exc)


# What the cache did during one model call, so the call can count its hits and, if it fails,
# forget what it stored.


@dataclass
class CallLedger:
    """The cache's dealings during one model call: replies replayed (hits) and keys touched."""

    hits: int = 0
    touched: list[tuple[ResponseCache, str]] = field(default_factory=list)

    def hit(self, cache: ResponseCache, key: str) -> None:
        """A reply was replayed from `cache`."""
        self.hits += 1
        self.touched.append((cache, key))

    def stored(self, cache: ResponseCache, key: str) -> None:
        """A reply was stored in `cache`."""
        self.touched.append((cache, key))

    def forget(self) -> None:
        """Remove every reply this call stored or replayed: the call failed."""
        by_cache: dict[int, tuple[ResponseCache, list[str]]] = {}
        for cache, key in self.touched:
            by_cache.setdefault(id(cache), (cache, []))[1].append(key)
        for cache, keys in by_cache.values():
            cache.forget(keys)
        self.touched.clear()


_LEDGER: ContextVar[CallLedger | None] = ContextVar("extractor_cache_ledger", default=None)


def current_ledger() -> CallLedger | None:
    """The ledger of the model call in progress, if one is open."""
    return _LEDGER.get()


@contextlib.contextmanager
def call_ledger() -> Iterator[CallLedger]:
    """Open a ledger for the requests of one model call (the transport writes in it)."""
    ledger = CallLedger()
    token = _LEDGER.set(ledger)
    try:
        yield ledger
    finally:
        _LEDGER.reset(token)


# Identical requests within one article: each extraction pass repeats its chunks' requests.


class Repeats:
    """Numbers identical requests within one article, so each has its own cache entry.

    `take` gives a request the lowest number not in use for its key (0: the plain key); a request
    that gets no usable reply gives its number back (`give_back`), so its retry takes it again.
    Concurrent passes may take the numbers in any order: their requests are the same.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._taken: dict[str, set[int]] = {}
        self._numbered: dict[str, tuple[str, int]] = {}

    def take(self, key: str) -> str:
        """The cache key for the next request with `key`."""
        with self._lock:
            taken = self._taken.setdefault(key, set())
            number = 0
            while number in taken:
                number += 1
            taken.add(number)
            numbered = (
                key if number == 0 else hashlib.sha256(f"{key}#{number}".encode()).hexdigest()
            )
            self._numbered[numbered] = (key, number)
            return numbered

    def give_back(self, numbered: str) -> None:
        """The request under `numbered` got no reply to keep: its number is free again."""
        with self._lock:
            key, number = self._numbered.pop(numbered, (numbered, -1))
            self._taken.get(key, set()).discard(number)


_REPEATS: ContextVar[Repeats | None] = ContextVar("extractor_cache_repeats", default=None)


def current_repeats() -> Repeats | None:
    """The repeats of the article being extracted, if a scope is open."""
    return _REPEATS.get()


@contextlib.contextmanager
def repeats_scope() -> Iterator[Repeats]:
    """Number the identical requests made within the block (one article's extraction)."""
    repeats = Repeats()
    token = _REPEATS.set(repeats)
    try:
        yield repeats
    finally:
        _REPEATS.reset(token)
