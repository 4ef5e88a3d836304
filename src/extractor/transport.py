"""HTTP to the model server: each request bounded in time as a whole, each reply in size.

httpx applies its timeouts to each read, so a server that trickles a byte at a time (in the
headers or the body) never times out. Here every request gets a deadline: ``timeout`` seconds
from its start, or the call's ``deadline`` if that comes sooner. A network backend wrapped around
httpcore's makes every connect, read and write wait at most the time left and time out once it is
gone; the timeout surfaces as httpx's, which openai turns into ``APITimeoutError``.

Reply bodies are decompressed here, in bounded steps, and refused once they pass
``max_reply_bytes`` (counted after decompression), so a gzip bomb is stopped early and costs
little memory. Only gzip and deflate are asked for; a body in another coding is refused.

`http_client` and `async_http_client` build the clients the library gives openai; pass one as
``http_client=`` to your own ``openai.OpenAI``/``AzureOpenAI`` to get the same bounds.
"""

from __future__ import annotations

import contextlib
import time
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore2
import httpx2
import openai

from extractor import errors
from extractor.settings import Settings

__all__ = [
    "RefusedReplyError",
    "async_http_client",
    "current_deadline",
    "deadline_scope",
    "http_client",
]

ACCEPT_ENCODING = "gzip, deflate"
STEP = 64 * 1024  # most bytes decompressed at once
WRITE_STEP = 64 * 1024  # most bytes written with one wait

_DEADLINE: ContextVar[float | None] = ContextVar("extractor_deadline", default=None)


class RefusedReplyError(errors.BadResponseError, openai.OpenAIError):
    """A reply body not read to the end: larger than ``max_reply_bytes``, or in a coding not asked
    for. Also an ``openai.OpenAIError`` so that openai passes it on unwrapped; never retried."""


def current_deadline() -> float | None:
    """The `time.monotonic` instant the request or call in progress must end by, if any."""
    return _DEADLINE.get()


@contextlib.contextmanager
def deadline_scope(deadline: float | None) -> Iterator[None]:
    """Run the block with `deadline` (monotonic seconds) in force, or an earlier one already set."""
    outer = _DEADLINE.get()
    if deadline is None or (outer is not None and outer <= deadline):
        yield
        return
    token = _DEADLINE.set(deadline)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _time_left(timeout: float | None, expired: type[Exception]) -> float | None:
    """`timeout`, shortened to the time left before the deadline; `expired` once it has passed."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the request took longer than its timeout in all")
    return left if timeout is None else min(timeout, left)


# The network layer: every wait shortened to the time left.


class _Stream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _time_left(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), WRITE_STEP):  # a slow reader cannot stretch one write
            piece = buffer[start : start + WRITE_STEP]
            self._inner.write(piece, _time_left(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    def __init__(self, inner: httpcore2.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, left, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, left, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _AsyncStream(httpcore2.AsyncNetworkStream):
    def __init__(self, inner: httpcore2.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _time_left(timeout, httpcore2.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), WRITE_STEP):
            piece = buffer[start : start + WRITE_STEP]
            await self._inner.write(piece, _time_left(timeout, httpcore2.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.AsyncNetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, left))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore2.AsyncNetworkBackend):
    def __init__(self, inner: httpcore2.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        stream = await self._inner.connect_tcp(host, port, left, local_address, socket_options)
        return _AsyncStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.AsyncNetworkStream:
        left = _time_left(timeout, httpcore2.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, left, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def _bound_network(transport: object, *, is_async: bool) -> None:
    """Wrap the network backend of an httpx transport's connection pool, when it has one."""
    pool = getattr(transport, "_pool", None)  # httpx's HTTPTransport: a httpcore pool or proxy
    backend = getattr(pool, "_network_backend", None)
    if backend is None or isinstance(backend, (_Backend, _AsyncBackend)):
        return
    pool._network_backend = _AsyncBackend(backend) if is_async else _Backend(backend)  # type: ignore[union-attr]


# The reply body: decompressed in bounded steps and counted.


class _Inflater:
    """Decompresses one content coding (gzip or deflate), at most `STEP` bytes at a time."""

    def __init__(self, coding: str) -> None:
        self._deflate = coding == "deflate"
        self._started = False
        self._zlib = zlib.decompressobj(zlib.MAX_WBITS if self._deflate else zlib.MAX_WBITS | 16)

    def decode(self, data: bytes) -> Iterator[bytes]:
        """The decompressed pieces of `data`."""
        while data:
            try:
                piece = self._zlib.decompress(data, STEP)
            except zlib.error as exc:
                if self._deflate and not self._started:  # deflate without its zlib header
                    self._started = True
                    self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise httpx2.DecodingError(f"the reply body does not decompress: {exc}") from exc
            self._started = True
            if piece:
                yield piece
            data = self._zlib.unconsumed_tail

    def flush(self) -> Iterator[bytes]:
        """What the decompressor still holds."""
        try:
            rest = self._zlib.flush()
        except zlib.error as exc:
            raise httpx2.DecodingError(f"the reply body does not decompress: {exc}") from exc
        if rest:
            yield rest


def _through(pieces: Iterable[bytes], inflater: _Inflater) -> Iterator[bytes]:
    for piece in pieces:
        yield from inflater.decode(piece)


class _Body:
    """Turns raw body chunks into decoded pieces, refusing the body once it is too large."""

    def __init__(self, inflaters: list[_Inflater], max_bytes: int, where: str, status: int) -> None:
        self._inflaters = inflaters
        self._max_bytes = max_bytes
        self._where = where
        self._status = status
        self._size = 0

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """Decoded pieces of one raw chunk."""
        pieces: Iterable[bytes] = (chunk,)
        for inflater in self._inflaters:
            pieces = _through(pieces, inflater)
        yield from self._counted(pieces)

    def finish(self) -> Iterator[bytes]:
        """Decoded pieces still held by the decompressors."""
        for index, inflater in enumerate(self._inflaters):
            pieces: Iterable[bytes] = inflater.flush()
            for later in self._inflaters[index + 1 :]:
                pieces = _through(pieces, later)
            yield from self._counted(pieces)

    def _counted(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self._size += len(piece)
            if self._size > self._max_bytes:
                raise too_large(self._where, self._max_bytes, self._status)
            yield piece


def too_large(where: str, max_bytes: int, status: int) -> RefusedReplyError:
    """The error for a reply body over `max_bytes`."""
    return RefusedReplyError(
        f"the reply from {where} is larger than max_reply_bytes ({max_bytes:,} bytes, counted "
        "after decompression); not retried. Raise max_reply_bytes if such a reply is expected",
        status=status,
    )


class _BodyStream(httpx2.SyncByteStream):
    def __init__(self, inner: httpx2.SyncByteStream, body: _Body, deadline: float) -> None:
        self._inner, self._body, self._deadline = inner, body, deadline

    def __iter__(self) -> Iterator[bytes]:
        chunks = iter(self._inner)
        while True:
            with deadline_scope(self._deadline):
                chunk = next(chunks, None)
            if chunk is None:
                break
            yield from self._body.feed(chunk)
        yield from self._body.finish()

    def close(self) -> None:
        self._inner.close()


class _AsyncBodyStream(httpx2.AsyncByteStream):
    def __init__(self, inner: httpx2.AsyncByteStream, body: _Body, deadline: float) -> None:
        self._inner, self._body, self._deadline = inner, body, deadline

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = aiter(self._inner)
        while True:
            with deadline_scope(self._deadline):
                chunk = await anext(chunks, None)
            if chunk is None:
                break
            for piece in self._body.feed(chunk):
                yield piece
        for piece in self._body.finish():
            yield piece

    async def aclose(self) -> None:
        await self._inner.aclose()


def _origin(request: httpx2.Request) -> str:
    """Scheme, host and port of the request: no path, query or credentials, fit for messages."""
    url = request.url
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


def _reply_body(
    response: httpx2.Response, request: httpx2.Request, max_bytes: int
) -> tuple[httpx2.Headers, _Body]:
    """The headers to hand on (decoding done here) and the body's decoder; refuse what we can."""
    where, status = _origin(request), response.status_code
    codings = [
        coding.strip().lower()
        for coding in response.headers.get("content-encoding", "").split(",")
        if coding.strip() and coding.strip().lower() != "identity"
    ]
    unknown = [coding for coding in codings if coding not in ("gzip", "x-gzip", "deflate")]
    if unknown:
        raise RefusedReplyError(
            f"the reply from {where} is encoded as '{', '.join(unknown)}', which was not asked "
            f"for (Accept-Encoding: {ACCEPT_ENCODING})",
            status=status,
        )
    headers = response.headers.copy()
    if codings:
        del headers["content-encoding"]
        headers.pop("content-length", None)
    else:
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise too_large(where, max_bytes, status)
    inflaters = [_Inflater(coding) for coding in reversed(codings)]
    return headers, _Body(inflaters, max_bytes, where, status)


class BoundedTransport(httpx2.BaseTransport):
    """Wraps an httpx transport: each request ends within `timeout`, each reply in `max_bytes`."""

    def __init__(self, inner: httpx2.BaseTransport, *, timeout: float, max_bytes: int) -> None:
        _bound_network(inner, is_async=False)
        self._inner, self._timeout, self._max_bytes = inner, timeout, max_bytes

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send `request` with its deadline in force; the reply's body keeps it."""
        deadline = time.monotonic() + self._timeout
        request.headers["accept-encoding"] = ACCEPT_ENCODING
        with deadline_scope(deadline):
            response = self._inner.handle_request(request)
            deadline = current_deadline() or deadline  # this one, or an earlier one in force
        try:
            headers, body = _reply_body(response, request, self._max_bytes)
        except BaseException:
            response.close()
            raise
        assert isinstance(response.stream, httpx2.SyncByteStream)
        return httpx2.Response(
            response.status_code,
            headers=headers,
            stream=_BodyStream(response.stream, body, deadline),
            extensions=response.extensions,
        )

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


class AsyncBoundedTransport(httpx2.AsyncBaseTransport):
    """Async twin of `BoundedTransport`."""

    def __init__(self, inner: httpx2.AsyncBaseTransport, *, timeout: float, max_bytes: int) -> None:
        _bound_network(inner, is_async=True)
        self._inner, self._timeout, self._max_bytes = inner, timeout, max_bytes

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send `request` with its deadline in force; the reply's body keeps it."""
        deadline = time.monotonic() + self._timeout
        request.headers["accept-encoding"] = ACCEPT_ENCODING
        with deadline_scope(deadline):
            response = await self._inner.handle_async_request(request)
            deadline = current_deadline() or deadline  # this one, or an earlier one in force
        try:
            headers, body = _reply_body(response, request, self._max_bytes)
        except BaseException:
            await response.aclose()
            raise
        assert isinstance(response.stream, httpx2.AsyncByteStream)
        return httpx2.Response(
            response.status_code,
            headers=headers,
            stream=_AsyncBodyStream(response.stream, body, deadline),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


# Clients: openai's defaults, every transport (proxies from the environment too) bounded.


class _Client(openai.DefaultHttpxClient):
    def __init__(self, settings: Settings, **options: Any) -> None:
        self._whole_request, self._largest_reply = settings.timeout, settings.max_reply_bytes
        super().__init__(**{"timeout": settings.timeout, **options})

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx2.BaseTransport:
        inner = super()._init_transport(*args, **kwargs)
        return BoundedTransport(inner, timeout=self._whole_request, max_bytes=self._largest_reply)

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx2.BaseTransport:
        inner = super()._init_proxy_transport(*args, **kwargs)
        return BoundedTransport(inner, timeout=self._whole_request, max_bytes=self._largest_reply)


class _AsyncClient(openai.DefaultAsyncHttpxClient):
    def __init__(self, settings: Settings, **options: Any) -> None:
        self._whole_request, self._largest_reply = settings.timeout, settings.max_reply_bytes
        super().__init__(**{"timeout": settings.timeout, **options})

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx2.AsyncBaseTransport:
        inner = super()._init_transport(*args, **kwargs)
        return AsyncBoundedTransport(
            inner, timeout=self._whole_request, max_bytes=self._largest_reply
        )

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx2.AsyncBaseTransport:
        inner = super()._init_proxy_transport(*args, **kwargs)
        return AsyncBoundedTransport(
            inner, timeout=self._whole_request, max_bytes=self._largest_reply
        )


def http_client(settings: Settings, **options: Any) -> httpx2.Client:
    """An httpx client for ``openai.OpenAI(http_client=...)`` with the bounds of `settings`.

    Each request ends within ``timeout`` in all, and the call's ``deadline``; each reply is
    refused past ``max_reply_bytes``. `options` go to httpx (``proxy``, ``verify``, ...).
    """
    return _Client(settings, **options)


def async_http_client(settings: Settings, **options: Any) -> httpx2.AsyncClient:
    """Async twin of `http_client`, for ``openai.AsyncOpenAI(http_client=...)``."""
    return _AsyncClient(settings, **options)
