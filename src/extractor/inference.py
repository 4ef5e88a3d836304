"""One structured completion against an OpenAI-compatible server, with retries and usage.

instructor turns the reply into the response model and re-asks on validation errors (at most
``max_reasks`` times); beneath it, every HTTP request is retried on transient faults by
`extractor.retry`. Usage is summed from every completion the server returned, through instructor's
``completion:response`` hook. Failures leave as `extractor.errors` exceptions (`failures`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit

import instructor
import openai
from instructor.core import AsyncInstructor, Hooks, Instructor
from instructor.processing.function_calls import response_schema
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from extractor import errors
from extractor.cache import call_ledger
from extractor.failures import translate
from extractor.json_reply import json_in_reply
from extractor.models import Usage
from extractor.ratelimit import Limiter
from extractor.redaction import (
    install_log_filter,
    remember,
    url_secrets,
    visible,
    without_credentials,
)
from extractor.retry import RetryLog, transient_retrying
from extractor.settings import Mode, Settings
from extractor.transport import rate_limiter, response_cache

__all__ = ["CallRecord", "ModelClient"]

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)

INSTRUCTOR_MODES = {
    Mode.TOOLS: instructor.Mode.TOOLS,
    Mode.JSON: instructor.Mode.JSON,
    Mode.JSON_SCHEMA: instructor.Mode.JSON_SCHEMA,
    Mode.MD_JSON: instructor.Mode.MD_JSON,
}

OPENAI_URL = "https://api.openai.com/v1"
LOCAL_API_KEY = "not-needed"  # sent to servers configured by base_url when no key is set


MAX_TOKEN_COUNT = 10**9  # more tokens than any model's context: a server's count above is nonsense


def token_count(value: Any) -> int | None:
    """A server's token count as a whole number from 0 to `MAX_TOKEN_COUNT`, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not (0 <= value <= MAX_TOKEN_COUNT) or value != int(value):  # NaN fails both
        return None
    return int(value)


def merge_tool_calls(message: Any) -> bool:
    """Make a reply's several tool calls one, so no call's records are dropped; True if merged.

    Calls to the same tool whose arguments are JSON objects merge: lists are concatenated, other
    values must agree. Otherwise the one call left carries a JSON array of every call's
    arguments, which fails validation and is re-asked (instructor would read only the first).
    """
    calls = message.tool_calls
    texts = [str(call.function.arguments) for call in calls]
    merged = _merged({call.function.name for call in calls}, texts)
    joined = json.dumps(merged) if merged is not None else "[" + ", ".join(texts) + "]"
    function = calls[0].function.model_copy(update={"arguments": joined})
    message.tool_calls = [calls[0].model_copy(update={"function": function})]
    if merged is not None:
        logger.info("merged the records of %d tool calls in one reply", len(calls))
    return merged is not None


def _merged(names: set[str], texts: list[str]) -> dict[str, Any] | None:
    """The calls' argument objects as one (lists concatenated), or None if they do not merge."""
    if len(names) > 1:
        return None
    merged: dict[str, Any] = {}
    for text in texts:
        try:
            item = json.loads(text)
        except ValueError:
            return None
        if not isinstance(item, dict):
            return None
        for key, value in item.items():
            if key not in merged:
                merged[key] = value
            elif isinstance(merged[key], list) and isinstance(value, list):
                merged[key] = [*merged[key], *value]
            elif merged[key] != value:
                return None
    return merged


@dataclass
class CallRecord:
    """What one extraction cost: usage over every completion, and the transient retries."""

    usage: Usage = field(default_factory=Usage)
    retries: RetryLog = field(default_factory=RetryLog)
    # Told the reported counts that were nonsense (a string, 1e30, negative): counted as 0.
    on_bad_usage: Callable[[dict[str, Any]], None] | None = None
    # Replies (by id()) that could not be used as they came: why, and the raw text we replaced.
    problems: dict[int, str] = field(default_factory=dict)
    originals: dict[int, str] = field(default_factory=dict)
    # Replies (by id()) replayed from the response cache: counted apart, their tokens not spent.
    cached: set[int] = field(default_factory=set)

    def on_response(self, response: Any) -> None:
        """instructor ``completion:response`` hook: count the completion and its tokens."""
        if id(response) in self.cached:
            self.usage = self.usage.add(Usage(cached_requests=1))
            return
        usage = getattr(response, "usage", None)
        names = ("prompt_tokens", "completion_tokens", "total_tokens")
        reported = {name: getattr(usage, name, None) for name in names}
        counts = {name: token_count(value) for name, value in reported.items()}
        bad = {n: v for n, v in reported.items() if v is not None and counts[n] is None}
        prompt, completion = counts["prompt_tokens"] or 0, counts["completion_tokens"] or 0
        total = counts["total_tokens"]
        self.usage = self.usage.add(
            Usage(
                requests=1,
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion if total is None else total,
            )
        )
        if bad and self.on_bad_usage is not None:
            self.on_bad_usage(bad)

    def hooks(self) -> Hooks:
        """Per-call instructor hooks feeding this record."""
        hooks = Hooks()
        hooks.on("completion:response", self.on_response)
        hooks.on(
            "parse:error",
            lambda error, **meta: logger.info(
                "attempt %s did not validate: %s", meta.get("attempt_number"), error
            ),
        )
        return hooks


@cache
def instructor_model(schema: type[T]) -> type[T]:
    """`schema` as instructor's response schema, built once: instructor would wrap it anew on
    every call (a new class each time, so its own schema cache never hits)."""
    return cast(type[T], response_schema(schema))


class ModelClient:
    """Sends structured-output requests for one `Settings`; clients are built on first use."""

    def __init__(
        self,
        settings: Settings,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
        limiter: Limiter | None = None,
    ) -> None:
        self.settings = settings
        # Callers' own clients (Azure, proxies, custom TLS) keep their options, minus retries;
        # they are the caller's to close.
        self._sync = client.with_options(max_retries=0) if client else None
        self._own_sync = client is None
        self._close_sync: Callable[[], Any] = lambda: None
        self._building = threading.Lock()
        self._callers_async = async_client.with_options(max_retries=0) if async_client else None
        # Our own async clients, one per event loop (a pooled connection belongs to the loop
        # that opened it), each with the task that closes it when its loop's runner ends.
        self._async: dict[asyncio.AbstractEventLoop, tuple[openai.AsyncOpenAI, asyncio.Task[None]]]
        self._async = {}
        self._usage_warned = False
        # One rate limiter and one response cache for all of this object's own clients; a
        # `limiter` given (one a cluster's workers share, extractor.cluster) replaces settings'.
        self._limiter = limiter if limiter is not None else rate_limiter(settings)
        self._cache = response_cache(settings)
        # Secrets a server or model may repeat, redacted from errors, logs and raw replies.
        key = settings.api_key.get_secret_value() if settings.api_key else None
        callers = [c.api_key for c in (client, async_client) if c is not None]
        remember([key, *callers, *url_secrets(settings.base_url or "")])
        install_log_filter()

    def _bad_usage(self, bad: dict[str, Any]) -> None:
        """Say once per client that the server's token counts are nonsense; debug after that."""
        level = logging.DEBUG if self._usage_warned else logging.WARNING
        self._usage_warned = True
        shown = ", ".join(f"{name}={str(value)[:40]!r}" for name, value in bad.items())
        logger.log(
            level,
            "the server at %s reported token counts that cannot be right (%s); "
            "counted as 0 (unknown)",
            without_credentials(self.settings.base_url or OPENAI_URL),
            shown,
        )

    def close(self) -> None:
        """Close the clients this object built; the next call builds new ones."""
        if self._sync is not None and self._own_sync:
            self._close_sync()
            self._sync = None
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, (_, closer) in list(self._async.items()):
            del self._async[loop]
            if loop is running:
                closer.cancel()  # it closes the client as soon as this loop gets control
            elif not loop.is_closed():
                loop.call_soon_threadsafe(closer.cancel)

    async def aclose(self) -> None:
        """Close the clients this object built, waiting for this loop's client to close."""
        entry = self._async.pop(asyncio.get_running_loop(), None)
        self.close()
        if entry is not None:
            entry[1].cancel()
            await entry[1]

    def _async_client(self) -> tuple[openai.AsyncOpenAI, bool]:
        """The async client for the running loop, and whether it is for this call only."""
        if self._callers_async is not None:
            return self._callers_async, False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not an asyncio loop (trio): a client for this call only
            return openai.AsyncOpenAI(**self._client_options(is_async=True)), True
        for old in [old for old in self._async if old.is_closed()]:
            del self._async[old]  # its loop closed without cancelling its tasks
        if loop not in self._async:
            client = openai.AsyncOpenAI(**self._client_options(is_async=True))
            self._async[loop] = (client, loop.create_task(self._close_at_loop_end(loop, client)))
        return self._async[loop][0], False

    async def _close_at_loop_end(
        self, loop: asyncio.AbstractEventLoop, client: openai.AsyncOpenAI
    ) -> None:
        """Wait until cancelled (by `close`, or by asyncio.run at its end), then close `client`."""
        try:
            await loop.create_future()
        except asyncio.CancelledError:
            pass
        finally:
            if loop in self._async and self._async[loop][0] is client:
                del self._async[loop]
            try:
                await client.close()
            except Exception as exc:  # closing is best effort; never an unretrieved exception
                logger.debug("closing the async client failed: %r", exc)

    def _client_options(self, is_async: bool = False) -> dict[str, Any]:
        from extractor.transport import async_http_client, http_client

        key = self.settings.api_key.get_secret_value() if self.settings.api_key else None
        base_url = self.settings.base_url or OPENAI_URL
        if key is None and self.settings.base_url is None:
            raise errors.ConfigurationError(
                "no API key: set OPENAI_API_KEY (or EXTRACTOR_API_KEY), or point base_url / "
                "OPENAI_BASE_URL at an OpenAI-compatible server"
            )
        return {
            "api_key": key or LOCAL_API_KEY,
            # Always explicit: openai would otherwise read OPENAI_BASE_URL itself, behind our back.
            # A query (?key=..., ?api-version=...) goes on every request, not into the path.
            "base_url": urlsplit(base_url)._replace(query="").geturl(),
            "default_query": dict(parse_qsl(urlsplit(base_url).query, keep_blank_values=True)),
            "timeout": self.settings.timeout,
            "max_retries": 0,  # transient retries are ours (extractor.retry), counted and logged
            # Each request bounded as a whole by timeout, each reply by max_reply_bytes.
            "http_client": (async_http_client if is_async else http_client)(
                self.settings, limiter=self._limiter, cache=self._cache
            ),
        }

    def _request(self, messages: list[dict[str, str]], schema: type[T], context: Any) -> Any:
        return {
            "messages": messages,
            "response_model": instructor_model(schema),
            "model": self.settings.model,
            "max_retries": self.settings.max_reasks,
            "context": context,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
        }

    def _resolve_mode(self) -> None:
        """Mode auto becomes the mode `extractor.doctor` recommends (remembered, or probed once)."""
        if self.settings.mode is Mode.AUTO:
            from extractor.doctor import resolve_mode  # doctor builds ModelClients of its own

            self.settings = self.settings.model_copy(update={"mode": resolve_mode(self.settings)})

    def complete(
        self, messages: list[dict[str, str]], schema: type[T], context: dict[str, Any]
    ) -> tuple[T, CallRecord]:
        """Ask for `schema`; return the validated instance and what the call cost."""
        with self._building:  # threads sharing this object (a Dask worker's) build one client
            self._resolve_mode()
            if self._sync is None:
                self._sync = openai.OpenAI(**self._client_options())
                # Closed by close(), or with this object if it is never closed.
                self._close_sync = weakref.finalize(self, self._sync.close)
            client = self._sync
        install_log_filter()  # again: loggers created since are covered
        record = CallRecord(on_bad_usage=self._bad_usage)

        def create(*args: Any, **kwargs: Any) -> Any:
            record.retries.start_request()
            for attempt in transient_retrying(self.settings, record.retries, is_async=False):
                with attempt:
                    record.retries.sent()
                    hits = ledger.hits
                    try:
                        response = client.chat.completions.create(*args, **kwargs)
                    except ValueError as exc:  # a 200 whose JSON body does not parse
                        raise self._not_json(exc, record, client) from exc
            if ledger.hits > hits:  # the response cache answered: no request was sent
                record.cached.add(id(response))
            return self._checked(response, record, client)

        mode = INSTRUCTOR_MODES[self.settings.mode]
        patched = instructor.patch(create=create, mode=mode)
        structured = Instructor(client=client, create=patched, mode=mode)
        with call_ledger() as ledger:
            try:
                result = structured.chat.completions.create(
                    **self._request(messages, schema, context), hooks=record.hooks()
                )
            except Exception as exc:
                ledger.forget()  # a failed call's replies are asked again next time
                error = self._failure(exc, record, client)
            else:
                return result, record
        raise error  # outside the handler: no implicit context; _failure set the cause

    async def acomplete(
        self, messages: list[dict[str, str]], schema: type[T], context: dict[str, Any]
    ) -> tuple[T, CallRecord]:
        """Async twin of `complete`."""
        if self.settings.mode is Mode.AUTO:  # probing blocks: off the event loop if asyncio's
            try:
                asyncio.get_running_loop()
            except RuntimeError:  # not an asyncio loop (trio)
                self._resolve_mode()
            else:
                await asyncio.to_thread(self._resolve_mode)
        client, temporary = self._async_client()
        try:
            return await self._acomplete(client, messages, schema, context)
        finally:
            if temporary:
                await client.close()

    async def _acomplete(
        self,
        client: openai.AsyncOpenAI,
        messages: list[dict[str, str]],
        schema: type[T],
        context: dict[str, Any],
    ) -> tuple[T, CallRecord]:
        install_log_filter()  # again: loggers created since are covered
        record = CallRecord(on_bad_usage=self._bad_usage)

        async def create(*args: Any, **kwargs: Any) -> Any:
            record.retries.start_request()
            async for attempt in transient_retrying(self.settings, record.retries, is_async=True):
                with attempt:
                    record.retries.sent()
                    hits = ledger.hits
                    try:
                        response = await client.chat.completions.create(*args, **kwargs)
                    except ValueError as exc:  # a 200 whose JSON body does not parse
                        raise self._not_json(exc, record, client) from exc
            if ledger.hits > hits:  # the response cache answered: no request was sent
                record.cached.add(id(response))
            return self._checked(response, record, client)

        mode = INSTRUCTOR_MODES[self.settings.mode]
        patched = instructor.patch(create=create, mode=mode)
        structured = AsyncInstructor(client=client, create=patched, mode=mode)
        with call_ledger() as ledger:
            try:
                result = await structured.chat.completions.create(
                    **self._request(messages, schema, context), hooks=record.hooks()
                )
            except Exception as exc:
                ledger.forget()  # a failed call's replies are asked again next time
                error = self._failure(exc, record, client)
            else:
                return result, record
        raise error  # outside the handler: no implicit context; _failure set the cause

    def _failure(
        self, exc: Exception, record: CallRecord, client: openai.OpenAI | openai.AsyncOpenAI
    ) -> errors.ExtractorError:
        """Our error for `exc`, secrets redacted, chained to `exc` unless that would show one."""
        error = translate(
            exc,
            self.settings,
            self._where(client),
            record.retries.attempts,
            record.usage,
            problems=record.problems,
            originals=record.originals,
        )
        if error is not exc and error is not exc.__cause__:
            error.__cause__ = visible(exc)
            error.__suppress_context__ = True
        return error

    @staticmethod
    def _where(client: openai.OpenAI | openai.AsyncOpenAI) -> str:
        """The address of the server a client talks to, for messages: without credentials."""
        query = urlencode(client.default_query, doseq=True)
        url = str(client.base_url).rstrip("/") + "?" + query if query else str(client.base_url)
        return without_credentials(url)

    def _not_json(
        self, exc: ValueError, record: CallRecord, client: openai.OpenAI | openai.AsyncOpenAI
    ) -> errors.BadResponseError:
        return errors.BadResponseError(
            f"the server at {self._where(client)} answered HTTP 200 with a body that is not JSON "
            f"({exc}); is base_url an OpenAI-compatible /v1 endpoint?",
            status=200,
            attempts=record.retries.attempts,
            usage=record.usage,
        )

    def _checked(
        self, response: Any, record: CallRecord, client: openai.OpenAI | openai.AsyncOpenAI
    ) -> Any:
        """The response if it is a usable chat completion; else ours to raise, usage counted."""
        if not isinstance(response, ChatCompletion):
            preview = str(response)[:80].replace("\n", " ")
            raise errors.BadResponseError(
                f"the server at {self._where(client)} answered with something that is not a chat "
                f"completion ({type(response).__name__}: '{preview}'); is base_url an "
                "OpenAI-compatible /v1 endpoint?",
                status=200,
                attempts=record.retries.attempts,
                usage=record.usage,
            )
        if not response.choices:
            record.on_response(response)
            raise errors.BadResponseError(
                f"the server at {self._where(client)} returned a completion with no choices",
                status=200,
                attempts=record.retries.attempts,
                usage=record.usage,
            )
        message = response.choices[0].message
        if message.refusal == "":  # some servers send "" for none; instructor reads it as one
            message.refusal = None
        if message.refusal:
            record.on_response(response)
            raise errors.ModelRefusalError(
                f"{self.settings.model} refused to answer: {message.refusal[:300]}",
                usage=record.usage,
            )
        if response.choices[0].finish_reason == "content_filter":  # Azure, OpenAI moderation
            record.on_response(response)
            raise errors.ModelRefusalError(
                f"the server's content filter stopped the reply of {self.settings.model}",
                usage=record.usage,
            )
        calls = len(message.tool_calls or [])
        functions = all(getattr(call, "function", None) for call in message.tool_calls or [])
        if calls > 1 and functions and not merge_tool_calls(message):
            record.problems[id(response)] = (
                f"the reply made {calls} tool calls that cannot be merged into one (different "
                "tools, values that disagree, or arguments that are not JSON objects)"
            )
        if self.settings.mode is Mode.MD_JSON and isinstance(message.content, str):
            found = json_in_reply(message.content)
            if found != message.content:
                record.originals[id(response)] = message.content
                # Only the JSON, so instructor reads it at once; nothing, to have it re-asked.
                message.content = found or ""
            if found is None:
                record.problems[id(response)] = (
                    "the reply held no JSON object that could be read (mode md_json)"
                )
        return response
