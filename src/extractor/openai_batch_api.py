"""OpenAI's Batch API over HTTP: upload a request file, create a batch, check it until it ends,
download its files. Each call is retried on transient faults as model calls are
(`extractor.retry`), and fails as an `extractor.errors` exception naming what to do; `wait` polls
(``batch_poll_interval``, ``batch_max_wait``) with a rich progress bar on a terminal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from time import monotonic
from typing import Literal, TypeVar
from urllib.parse import parse_qsl, urlsplit

import openai
from openai.types import Batch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from extractor import errors, retry
from extractor.inference import LOCAL_API_KEY, OPENAI_URL
from extractor.models import Usage
from extractor.redaction import redact, without_credentials
from extractor.render import visible
from extractor.settings import Settings, load_settings

__all__ = [
    "TERMINAL",
    "BatchJobError",
    "BatchService",
    "counting_display",
    "progress_display",
    "request_counts",
    "wait",
]

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

ENDPOINT: Literal["/v1/chat/completions"] = "/v1/chat/completions"
COMPLETION_WINDOW: Literal["24h"] = "24h"
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
TRANSFER_BYTES_PER_SECOND = 1024 * 1024
"""Uploads and downloads get at least this speed's worth of time (beyond ``timeout``)."""


class BatchJobError(errors.APIError):
    """The batch did not complete: it failed, expired or was cancelled, or is still running
    when the wait (``batch_max_wait``) ran out. Records already extracted were written."""

    def __init__(
        self,
        message: str,
        *,
        batch_id: str,
        batch_status: str,
        problems: Sequence[str] = (),
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message, usage=usage)
        self.batch_id = batch_id
        self.batch_status = batch_status
        self.problems = list(problems)


# --- the calls ------------------------------------------------------------------------------


def _server_detail(exc: openai.APIError) -> str:
    body = exc.body
    inner = body.get("error", body) if isinstance(body, dict) else None
    message = inner.get("message") if isinstance(inner, dict) else None
    return visible(redact(str(message or exc.message))[:300], one_line=True)


class BatchService:
    """The Batch API calls, each retried on transient faults as model calls are, failures as
    `extractor.errors` exceptions naming what to do."""

    def __init__(self, settings: Settings, client: openai.OpenAI | None = None) -> None:
        self.settings = settings
        self._client = client.with_options(max_retries=0) if client else None
        self._own = client is None

    def _openai(self, transfer_bytes: int = 0) -> openai.OpenAI:
        """The client; for an upload or download of `transfer_bytes`, one allowed the time and
        size that takes (a reply is otherwise capped at ``max_reply_bytes`` and ``timeout``)."""
        if self._client is not None and not transfer_bytes:
            return self._client
        settings = self.settings
        if transfer_bytes:
            seconds = settings.timeout + transfer_bytes / TRANSFER_BYTES_PER_SECOND
            settings = load_settings(
                settings,
                timeout=min(seconds, 1_000_000.0),
                max_reply_bytes=max(settings.max_reply_bytes, transfer_bytes),
            )
        if self._client is not None:
            return self._client.with_options(timeout=settings.timeout)
        from extractor.transport import http_client

        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key is None and settings.base_url is None:
            raise errors.ConfigurationError(
                "no API key: the Batch API needs OPENAI_API_KEY (or EXTRACTOR_API_KEY), or "
                "base_url / OPENAI_BASE_URL pointing at a server that offers it"
            )
        url = urlsplit(settings.base_url or OPENAI_URL)
        client = openai.OpenAI(
            api_key=key or LOCAL_API_KEY,
            # As for model calls: a query (?api-version=...) goes on every request, not the path.
            base_url=url._replace(query="").geturl(),
            default_query=dict(parse_qsl(url.query, keep_blank_values=True)),
            timeout=settings.timeout,
            max_retries=0,  # ours, below
            http_client=http_client(settings),
        )
        if not transfer_bytes:
            self._client = client
        return client

    @property
    def where(self) -> str:
        """The server's address for messages, without credentials."""
        return without_credentials(self.settings.base_url or OPENAI_URL)

    def close(self) -> None:
        """Close the client this object built."""
        if self._client is not None and self._own:
            self._client.close()
            self._client = None

    def _call(self, what: str, call: Callable[[], _T]) -> _T:
        """`call`, retried on 429, 5xx and dropped connections; our error if it still fails."""
        log = retry.RetryLog()
        try:
            for attempt in retry.transient_retrying(self.settings, log, is_async=False):
                with attempt:
                    log.sent()
                    return call()
        except errors.ExtractorError:
            raise
        except openai.APIConnectionError as exc:
            raise errors.ConnectionFailedError(
                f"{what}: the connection to {self.where} failed ({type(exc).__name__}) after "
                f"{log.attempts} attempt(s)",
                attempts=log.attempts,
            ) from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            kind: type[errors.APIError] = (
                errors.AuthenticationError
                if status in (401, 403)
                else errors.RateLimitError
                if status == 429
                else errors.ServerError
                if status >= 500
                else errors.RequestRejectedError
            )
            raise kind(
                f"{what}: {self.where} answered HTTP {status} after {log.attempts} attempt(s): "
                f"{_server_detail(exc)}",
                status=status,
                attempts=log.attempts,
            ) from None
        except (openai.APIError, ValueError) as exc:
            raise errors.BadResponseError(
                f"{what}: {self.where} answered with something unreadable ({type(exc).__name__})",
                attempts=log.attempts,
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def upload(self, path: Path) -> str:
        """Upload the request file (purpose ``batch``); its file id."""
        client = self._openai(path.stat().st_size)

        def send() -> str:
            with path.open("rb") as stream:
                return client.files.create(file=(path.name, stream), purpose="batch").id

        return self._call(f"uploading {path.name}", send)

    def find(self, input_file_id: str) -> Batch | None:
        """A batch already created from `input_file_id` (the newest), if any."""
        page = self._call("listing batches", lambda: self._openai().batches.list(limit=100))
        found = [b for b in page.data if b.input_file_id == input_file_id]
        return max(found, key=lambda b: b.created_at) if found else None

    def create(self, input_file_id: str, metadata: dict[str, str]) -> Batch:
        """Create the batch (chat completions, 24 h window), or take the one already created
        from this file (a retried or interrupted create must not make a second one)."""
        tries = [0]

        def create() -> Batch:
            tries[0] += 1
            existing = self.find(input_file_id) if tries[0] > 1 else None
            return existing or self._openai().batches.create(
                input_file_id=input_file_id,
                endpoint=ENDPOINT,
                completion_window=COMPLETION_WINDOW,
                metadata=metadata,
            )

        return self._call("creating the batch", create)

    def retrieve(self, batch_id: str) -> Batch:
        """The batch as it stands."""
        return self._call(
            f"checking batch {batch_id}", lambda: self._openai().batches.retrieve(batch_id)
        )

    def download(self, file_id: str, path: Path, max_bytes: int) -> None:
        """Save a file's content to `path`, refusing more than `max_bytes`."""
        client = self._openai(max_bytes)

        def fetch() -> None:
            with client.with_streaming_response.files.content(file_id) as response:
                written = 0
                with path.open("wb") as stream:
                    for piece in response.iter_bytes():
                        written += len(piece)
                        if written > max_bytes:
                            raise errors.BadResponseError(
                                f"file {file_id} from {self.where} is larger than "
                                f"{max_bytes:,} bytes, more than its replies can take"
                            )
                        stream.write(piece)

        self._call(f"downloading file {file_id}", fetch)


# --- polling ------------------------------------------------------------------------------------


def wait(
    service: BatchService,
    batch_id: str,
    *,
    interval: float,
    max_wait: float | None,
    on_update: Callable[[Batch], None] = lambda batch: None,
) -> Batch:
    """Check the batch every `interval` seconds until it ends (completed, failed, expired or
    cancelled); `BatchJobError` if it is still running after `max_wait` seconds."""
    started = monotonic()
    while True:
        batch = service.retrieve(batch_id)
        on_update(batch)
        if batch.status in TERMINAL:
            return batch
        waited = monotonic() - started
        if max_wait is not None and waited + interval > max_wait:
            raise BatchJobError(
                f"batch {batch_id} is still {batch.status} after waiting {waited:,.0f} s "
                f"(batch_max_wait {max_wait:g} s); nothing is lost: run the same command again "
                "to wait for it (it is not submitted again)",
                batch_id=batch_id,
                batch_status=batch.status,
            )
        retry.sleep(interval)


def request_counts(batch: Batch) -> tuple[int, int, int]:
    """The batch's requests (completed, failed, total); zeros before it counts them."""
    counts = batch.request_counts
    if counts is None:
        return 0, 0, 0
    return counts.completed, counts.failed, counts.total


@contextmanager
def progress_display(console: Console | None) -> Iterator[Callable[[Batch], None]]:
    """A callback for `wait` showing the batch's progress: a rich bar on a terminal, else a log
    line when its status changes."""
    if console is None or not console.is_terminal:
        seen: list[str] = []

        def log(batch: Batch) -> None:
            if not seen or seen[-1] != batch.status:
                seen.append(batch.status)
                done, _, total = request_counts(batch)
                logger.info("batch %s: %s (%d/%d done)", batch.id, batch.status, done, total)

        yield log
        return
    columns = (
        TextColumn("{task.description}", markup=False),  # the server's words: never markup
        BarColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("batch", total=None)

        def show(batch: Batch) -> None:
            done, failed, total = request_counts(batch)
            described = f"batch {batch.id}: {batch.status}, {done + failed}/{total} requests" + (
                f" ({failed} failed)" if failed else ""
            )
            bar.update(
                task,
                description=visible(described[:120], one_line=True),
                completed=done + failed,
                total=total or None,
            )

        yield show


@contextmanager
def counting_display(
    console: Console | None, label: str, total: int
) -> Iterator[Callable[[], None]]:
    """A callback counting one more of `total` things done: a rich bar on a terminal, else
    nothing."""
    if console is None or not console.is_terminal:
        yield lambda: None
        return
    columns = (
        TextColumn(label, markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda: bar.advance(task)
