"""HTTP to the model server: each request bounded in time as a whole, each reply in size.

httpx applies its timeouts to each read, so a server that trickles a byte at a time (in the
headers or the body) never times out. Here every request gets a deadline: ``timeout`` seconds
from its start, or the call's ``deadline`` if that comes sooner. A network backend wrapped around
httpcore's makes every connect, read and write wait at most the time left and time out once it is
gone; the timeout surfaces as httpx's, which openai turns into ``APITimeoutError``.

Reply bodies are decompressed here, in bounded steps, and refused once they pass
``max_reply_bytes`` (counted after decompression), so a gzip bomb is stopped early and costs
little memory. Only gzip and deflate are asked for; a body in another coding is refused.

Above those bounds, `ControlledTransport` answers a request from the response cache when it can
(`extractor.cache`, on with ``cache``), else books it with the rate limiter (`extractor.ratelimit`,
on with ``requests_per_minute``/``tokens_per_minute``) before sending it, retries and re-asks
included, and tells the limiter and the cache what the server answered.

`http_client` and `async_http_client` build the clients the library gives openai; pass one as
``http_client=`` to your own ``openai.OpenAI``/``AzureOpenAI`` to get the same bounds, cache and
limits (``limiter=`` to share a limiter, e.g. one hosted for a whole cluster).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import zlib
from collections.abc import AsyncIterator, Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore2
import httpx2
import openai

from extractor import errors
from extractor.cache import (
    CACHE_HEADER,
    ResponseCache,
    StoredReply,
    current_ledger,
    current_repeats,
    request_key,
)
from extractor.ratelimit import Limiter, RateLimiter, estimate_tokens
from extractor.redaction import redact, url_secrets
from extractor.settings import Settings

__all__ = [
    "RateLimitWaitError",
    "RefusedReplyError",
    "async_http_client",
    "current_deadline",
    "deadline_scope",
    "http_client",
    "rate_limiter",
    "response_cache",
]

ACCEPT_ENCODING = "gzip, deflate"
STEP = 64 * 1024  # most bytes decompressed at once
WRITE_STEP = 64 * 1024  # most bytes written with one wait

_DEADLINE: ContextVar[float | None] = ContextVar("extractor_deadline", default=None)


class RefusedReplyError(errors.BadResponseError, openai.OpenAIError):
    """A reply body not read to the end: larger than ``max_reply_bytes``, or in a coding not asked
    for. Also an ``openai.OpenAIError`` so that openai passes it on unwrapped; never retried."""


class RateLimitWaitError(errors.RateLimitError, openai.OpenAIError):
    """The rate limits allow the next request only after the call's deadline; not retried."""


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


# Above the bounds: the response cache and the rate limiter.


def rate_limiter(settings: Settings) -> RateLimiter | None:
    """A limiter for `settings`' requests and tokens per minute; None if neither is set."""
    if settings.requests_per_minute is None and settings.tokens_per_minute is None:
        return None
    return RateLimiter(
        settings.requests_per_minute,
        settings.tokens_per_minute,
        max_pause=settings.retry_after_max,
    )


def response_cache(settings: Settings) -> ResponseCache | None:
    """The response cache in `settings`' ``cache_dir``, not yet opened; None if ``cache`` is off."""
    return ResponseCache(settings.cache_dir) if settings.cache else None


class _Controls:
    """What `ControlledTransport` and its async twin share: the cache, the limiter, the rules."""

    def __init__(
        self, settings: Settings, limiter: Limiter | None, cache: ResponseCache | None
    ) -> None:
        self.limiter, self.cache, self.max_tokens = limiter, cache, settings.max_tokens
        self.passes = settings.extraction_passes
        self.limits = (
            f"requests_per_minute={settings.requests_per_minute}, "
            f"tokens_per_minute={settings.tokens_per_minute}"
        )

    def key(self, request: httpx2.Request) -> str | None:
        """The request's cache key, if the cache is on and the request is one it keeps."""
        if self.cache is None or request.method != "POST":
            return None
        key = request_key(request.method, str(request.url), _content(request))
        repeats = current_repeats()
        if repeats is None:  # no article scope: repeated passes cannot be told apart
            return key if self.passes == 1 else None
        return repeats.take(key)

    def release(self, key: str | None) -> None:
        """`key`'s request got no reply to keep: a repeat's number is free for its retry."""
        repeats = current_repeats()
        if key is not None and repeats is not None:
            repeats.give_back(key)

    def replayed(self, key: str, stored: StoredReply | None) -> httpx2.Response | None:
        """The cached reply as a response marked as a hit, counted in the call's ledger."""
        if stored is None or self.cache is None:
            return None
        ledger = current_ledger()
        if ledger is not None:
            ledger.hit(self.cache, key)
        headers = {"content-type": stored.content_type, CACHE_HEADER: "hit"}
        return httpx2.Response(stored.status, headers=headers, content=stored.body)

    def booking(self, request: httpx2.Request) -> tuple[int, float | None]:
        """The request's cost in tokens, and the longest the limiter may make it wait."""
        cost = estimate_tokens(_content(request), self.max_tokens)
        deadline = current_deadline()
        return cost, None if deadline is None else max(0.0, deadline - time.monotonic())

    def too_late(self, max_wait: float | None) -> RateLimitWaitError:
        """The error for a request the limits allow only after the call's deadline."""
        return RateLimitWaitError(
            f"the rate limit ({self.limits}) allows the next request only after the call's "
            f"deadline ({max_wait or 0:.1f}s left); raise deadline, or the limits"
        )

    def wants_body(self, response: httpx2.Response) -> bool:
        """Whether the reply's body must be read here: to store it or to count its tokens."""
        if response.status_code != 200 or (self.cache is None and self.limiter is None):
            return False
        if self.cache is None and isinstance(self.limiter, RateLimiter):
            return self.limiter.limits[1] is not None  # tokens counted only under a token limit
        return True

    def after(
        self,
        request: httpx2.Request,
        response: httpx2.Response,
        body: bytes | None,
        key: str | None,
        ticket: int | None,
    ) -> None:
        """Tell the limiter what the server answered; store a 200 reply in the cache."""
        if self.limiter is not None:
            tokens = _total_tokens(body) if body is not None else None
            headers = {name.lower(): value for name, value in response.headers.items()}
            self.limiter.observe(ticket, response.status_code, headers, tokens)
        if response.status_code != 200:
            self.release(key)
        if self.cache is None or key is None or body is None or response.status_code != 200:
            return
        if _shows_secret(body, request):
            return  # a server that echoes a credential: its reply never reaches the disk
        content_type = response.headers.get("content-type", "application/json")
        if self.cache.put(key, StoredReply(200, content_type, body)):
            ledger = current_ledger()
            if ledger is not None:
                ledger.stored(self.cache, key)

    def failed(self, key: str | None, ticket: int | None) -> None:
        """The request got no reply: close its booking, free its repeat number."""
        self.release(key)
        if self.limiter is not None and ticket is not None:
            self.limiter.observe(ticket, 0, {})


def _content(request: httpx2.Request) -> bytes:
    """The request's body, or nothing if it is streamed."""
    try:
        return request.content
    except httpx2.RequestNotRead:
        return b""


def _total_tokens(body: bytes) -> int | None:
    """``usage.total_tokens`` of a chat-completion body, if it holds a sensible one."""
    try:
        usage = json.loads(body).get("usage") or {}
        total = usage.get("total_tokens")
    except (ValueError, AttributeError):
        return None
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= 10**9:
        return None
    return total


def _shows_secret(body: bytes, request: httpx2.Request) -> bool:
    """Whether a credential of `request`, or any secret the library knows, is in `body`."""
    text = body.decode("utf-8", "replace")
    secrets = url_secrets(str(request.url))
    authorization = request.headers.get("authorization", "")
    secrets.append(authorization.partition(" ")[2] or authorization)
    secrets.append(request.headers.get("api-key", ""))
    return any(secret and secret in text for secret in secrets) or redact(text) != text


class ControlledTransport(httpx2.BaseTransport):
    """Wraps a transport: cached replies without a request, the rest sent within the limits."""

    def __init__(
        self,
        inner: httpx2.BaseTransport,
        settings: Settings,
        *,
        limiter: Limiter | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self._inner, self._controls = inner, _Controls(settings, limiter, cache)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer `request` from the cache, or send it once the limiter allows."""
        controls = self._controls
        key = controls.key(request)
        if key is not None and controls.cache is not None:
            replayed = controls.replayed(key, controls.cache.get(key))
            if replayed is not None:
                return replayed
        ticket, booked = None, None
        if controls.limiter is not None:
            cost, max_wait = controls.booking(request)
            booked = controls.limiter.reserve(cost, max_wait)
            if booked is None:
                raise controls.too_late(max_wait)
            ticket = booked.ticket
        try:
            if booked is not None and booked.wait > 0:
                sleep(booked.wait)  # cancelled here: the booking is closed below
            response = self._inner.handle_request(request)
            body = None
            if controls.wants_body(response):
                body = response.read()
                response = _with_body(response, body)
        except BaseException:
            controls.failed(key, ticket)
            raise
        controls.after(request, response, body, key, ticket)
        return response

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()


class AsyncControlledTransport(httpx2.AsyncBaseTransport):
    """Async twin of `ControlledTransport` (cache reads and writes run in a worker thread)."""

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport,
        settings: Settings,
        *,
        limiter: Limiter | None = None,
        cache: ResponseCache | None = None,
    ) -> None:
        self._inner, self._controls = inner, _Controls(settings, limiter, cache)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Answer `request` from the cache, or send it once the limiter allows."""
        controls = self._controls
        key = controls.key(request)
        if key is not None and controls.cache is not None:
            stored = await asyncio.to_thread(controls.cache.get, key)
            replayed = controls.replayed(key, stored)
            if replayed is not None:
                return replayed
        ticket, booked = None, None
        # A limiter hosted elsewhere answers over the network: asked from a worker thread.
        remote = controls.limiter is not None and not isinstance(controls.limiter, RateLimiter)
        if controls.limiter is not None:
            cost, max_wait = controls.booking(request)
            if remote:
                booked = await asyncio.to_thread(controls.limiter.reserve, cost, max_wait)
            else:
                booked = controls.limiter.reserve(cost, max_wait)
            if booked is None:
                raise controls.too_late(max_wait)
            ticket = booked.ticket
        try:
            if booked is not None and booked.wait > 0:
                await asleep(booked.wait)  # cancelled here: the booking is closed below
            response = await self._inner.handle_async_request(request)
            body = None
            if controls.wants_body(response):
                body = await response.aread()
                response = _with_body(response, body)
        except BaseException:
            controls.failed(key, ticket)
            raise
        if remote or (body is not None and controls.cache is not None):
            await asyncio.to_thread(controls.after, request, response, body, key, ticket)
        else:
            controls.after(request, response, body, key, ticket)
        return response

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()


def _with_body(response: httpx2.Response, body: bytes) -> httpx2.Response:
    """`response` again, its body read into memory (already decoded and bounded)."""
    headers = response.headers.copy()
    headers.pop("transfer-encoding", None)
    headers["content-length"] = str(len(body))
    return httpx2.Response(
        response.status_code, headers=headers, content=body, extensions=response.extensions
    )


def sleep(seconds: float) -> None:
    """Block for `seconds` before a request the limiter delayed (replaceable by tests)."""
    time.sleep(seconds)


async def asleep(seconds: float) -> None:
    """Wait `seconds` before a request the limiter delayed, without blocking the loop."""
    await asyncio.sleep(seconds)


# Clients: openai's defaults, every transport (proxies from the environment too) bounded.


class _Client(openai.DefaultHttpxClient):
    def __init__(
        self,
        settings: Settings,
        limiter: Limiter | None,
        cache: ResponseCache | None,
        **options: Any,
    ) -> None:
        self._settings, self._limiter, self._cache = settings, limiter, cache
        super().__init__(**{"timeout": settings.timeout, **options})

    def _wrapped(self, inner: httpx2.BaseTransport) -> httpx2.BaseTransport:
        settings = self._settings
        bounded = BoundedTransport(
            inner, timeout=settings.timeout, max_bytes=settings.max_reply_bytes
        )
        if self._limiter is None and self._cache is None:
            return bounded
        return ControlledTransport(bounded, settings, limiter=self._limiter, cache=self._cache)

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx2.BaseTransport:
        return self._wrapped(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx2.BaseTransport:
        return self._wrapped(super()._init_proxy_transport(*args, **kwargs))


class _AsyncClient(openai.DefaultAsyncHttpxClient):
    def __init__(
        self,
        settings: Settings,
        limiter: Limiter | None,
        cache: ResponseCache | None,
        **options: Any,
    ) -> None:
        self._settings, self._limiter, self._cache = settings, limiter, cache
        super().__init__(**{"timeout": settings.timeout, **options})

    def _wrapped(self, inner: httpx2.AsyncBaseTransport) -> httpx2.AsyncBaseTransport:
        settings = self._settings
        bounded = AsyncBoundedTransport(
            inner, timeout=settings.timeout, max_bytes=settings.max_reply_bytes
        )
        if self._limiter is None and self._cache is None:
            return bounded
        return AsyncControlledTransport(bounded, settings, limiter=self._limiter, cache=self._cache)

    def _init_transport(self, *args: Any, **kwargs: Any) -> httpx2.AsyncBaseTransport:
        return self._wrapped(super()._init_transport(*args, **kwargs))

    def _init_proxy_transport(self, *args: Any, **kwargs: Any) -> httpx2.AsyncBaseTransport:
        return self._wrapped(super()._init_proxy_transport(*args, **kwargs))


def http_client(
    settings: Settings,
    *,
    limiter: Limiter | None = None,
    cache: ResponseCache | None = None,
    **options: Any,
) -> httpx2.Client:
    """An httpx client for ``openai.OpenAI(http_client=...)`` with the bounds of `settings`.

    Each request ends within ``timeout`` in all, and the call's ``deadline``; each reply is
    refused past ``max_reply_bytes``. Requests go through `limiter` (default: a new one for
    `settings`' ``requests_per_minute``/``tokens_per_minute``, if set) and `cache` (default: the
    store in ``cache_dir`` when ``cache`` is on), which is opened now (`ConfigurationError` if it
    cannot be). `options` go to httpx (``proxy``, ``verify``, ...).
    """
    limiter = limiter if limiter is not None else rate_limiter(settings)
    cache = cache if cache is not None else response_cache(settings)
    return _Client(settings, limiter, cache.open() if cache else None, **options)


def async_http_client(
    settings: Settings,
    *,
    limiter: Limiter | None = None,
    cache: ResponseCache | None = None,
    **options: Any,
) -> httpx2.AsyncClient:
    """Async twin of `http_client`, for ``openai.AsyncOpenAI(http_client=...)``."""
    limiter = limiter if limiter is not None else rate_limiter(settings)
    cache = cache if cache is not None else response_cache(settings)
    return _AsyncClient(settings, limiter, cache.open() if cache else None, **options)
