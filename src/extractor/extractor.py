"""`Extractor`: the public entry point; `extract` runs the steps of `extractor.pipeline` in order.

read -> find quotations -> plan chunks -> for each chunk (and pass): prompt -> call -> ground ->
resolve dates, a reply cut at max_tokens keeping what it grounded and its rest asked again,
smaller (cut); then merge -> result. `aextract` asks the chunks concurrently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager
from typing import Any, TypeVar, overload

import openai
from pydantic import BaseModel, SecretStr

from extractor import pipeline
from extractor.articles import Article
from extractor.batch_inputs import Readable, as_readable
from extractor.batch_lines import ArticleOutcome, Timing
from extractor.cache import repeats_scope
from extractor.chunking import Chunk
from extractor.errors import ConfigurationError, ExtractorError, IncompleteOutputError
from extractor.inference import ModelClient
from extractor.models import ArticleExtraction, Extraction, Usage
from extractor.quotations import Quotation
from extractor.ratelimit import Limiter
from extractor.settings import Mode, Settings, load_settings

__all__ = ["Extractor"]

logger = logging.getLogger(__name__)

T = TypeVar("T", bound=BaseModel)


class Extractor:
    """Extracts grounded records from article text with an OpenAI-compatible model.

    Each call costs at least one request; a reply that fails validation or grounding costs one
    more per re-ask (``max_reasks``), and transient faults one more per retry.
    """

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | SecretStr | None = None,
        mode: Mode | str | None = None,
        settings: Settings | None = None,
        client: openai.OpenAI | None = None,
        async_client: openai.AsyncOpenAI | None = None,
        limiter: Limiter | None = None,
        **options: Any,
    ) -> None:
        """Settings come from `settings` (or the environment), then these arguments.

        Pass `client`/`async_client` to use your own OpenAI clients (e.g. ``openai.AzureOpenAI``,
        or one with a proxy); their base URL and key are used and `base_url`/`api_key` ignored.
        `limiter` (an `extractor.ratelimit.Limiter`, e.g. one shared by a cluster's workers)
        books this Extractor's requests instead of one made from ``requests_per_minute`` and
        ``tokens_per_minute``; it applies to the clients the Extractor builds, not to yours.
        """
        overrides = {"model": model, "base_url": base_url, "api_key": api_key, "mode": mode}
        self.settings = load_settings(settings, **overrides, **options)
        self._client = ModelClient(self.settings, client, async_client, limiter)

    def close(self) -> None:
        """Close the connections this Extractor opened (not clients passed in); reusable after."""
        self._client.close()

    async def aclose(self) -> None:
        """Async twin of `close`: waits until this event loop's connections are closed."""
        await self._client.aclose()

    def __enter__(self) -> Extractor:
        """``with Extractor(...) as extractor:`` closes its connections at the end."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the connections."""
        self.close()

    async def __aenter__(self) -> Extractor:
        """``async with Extractor(...) as extractor:`` closes its connections at the end."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the connections."""
        await self.aclose()

    def _done(self, article: pipeline.ArticleInput, usage: Usage) -> None:
        logger.info(
            "extracted %s with %s: %d request(s), %d tokens",
            article.schema.__name__,
            self.settings.model,
            usage.requests,
            usage.total_tokens,
        )

    def _plan(
        self,
        article: pipeline.ArticleInput,
        quotations: tuple[Quotation, ...],
        *,
        concurrent: bool = False,
    ) -> list[Chunk]:
        # concurrent: chunks answered side by side, more and smaller ones are done sooner
        return pipeline.plan_article(article, quotations, self.settings, concurrent=concurrent)

    def extract_chunk(
        self,
        article: pipeline.ArticleInput,
        chunk: Chunk,
        quotations: tuple[Quotation, ...],
        progress: pipeline.Progress,
    ) -> None:
        """One planned chunk (`pipeline.plan_article`) of `article`, as `extract` asks it: its
        grounded part and usage added to `progress`; `ExtractorError` when it fails."""
        self._chunk(article, chunk, quotations, progress)

    def _chunk(
        self,
        article: pipeline.ArticleInput,
        chunk: Chunk,
        quotations: tuple[Quotation, ...],
        progress: pipeline.Progress,
    ) -> None:
        """prompt -> call -> ground -> resolve dates for one chunk; a cut reply's rest again."""
        request = pipeline.prompt(article, chunk, quotations)
        try:
            reply, record = self._client.complete(
                request.messages, request.response_model, request.context.as_validation_context()
            )
        except IncompleteOutputError as error:
            rest = pipeline.cut(article, request, error, quotations)
            progress.add(rest.kept, error.usage)
            if rest.stuck:
                raise
            for piece in rest.again:
                self._chunk(article, piece, quotations, progress)
            return
        except ExtractorError as error:
            pipeline.failed(article, progress, request, error)
            raise
        part = pipeline.ground(article, request, reply)
        progress.add(pipeline.resolve_dates(part, article.published), record.usage)

    async def _achunk(
        self,
        article: pipeline.ArticleInput,
        chunk: Chunk,
        quotations: tuple[Quotation, ...],
        progress: pipeline.Progress,
        slots: AbstractAsyncContextManager[Any],
    ) -> None:
        """Async twin of `_chunk`: the call waits for one of `slots`; a cut reply's rest at once."""
        request = pipeline.prompt(article, chunk, quotations)
        try:
            async with slots:
                reply, record = await self._client.acomplete(
                    request.messages,
                    request.response_model,
                    request.context.as_validation_context(),
                )
        except IncompleteOutputError as error:
            rest = pipeline.cut(article, request, error, quotations)
            progress.add(rest.kept, error.usage)
            if rest.stuck:
                raise
            await _all(
                self._achunk(article, piece, quotations, progress, slots) for piece in rest.again
            )
            return
        except ExtractorError as error:
            pipeline.failed(article, progress, request, error)
            raise
        part = pipeline.ground(article, request, reply)
        progress.add(pipeline.resolve_dates(part, article.published), record.usage)

    @overload
    def extract(
        self, text: str, *, published: str | dt.date | None = None, schema: None = None
    ) -> ArticleExtraction: ...

    @overload
    def extract(
        self, text: str, *, published: str | dt.date | None = None, schema: type[T]
    ) -> Extraction[T]: ...

    def extract(
        self,
        text: str,
        *,
        published: str | dt.date | None = None,
        schema: type[BaseModel] | None = None,
    ) -> ArticleExtraction | Extraction[Any]:
        """Extract events, quotes and commitments (or `schema`) from one article's text.

        An article longer than the model can read and answer at once (``context_tokens``,
        ``max_tokens``) is extracted in chunks, one request each, one after another.
        """
        article, quotations, progress = self._begin(text, published, schema)
        # repeats_scope: each pass's identical requests get their own cache entries
        with _keeping_partial(article, quotations, progress), repeats_scope():
            for chunk in self._plan(article, quotations):
                self._chunk(article, chunk, quotations, progress)
        return self._finish(article, quotations, progress)

    def _begin(
        self, text: str, published: str | dt.date | None, schema: type[BaseModel] | None
    ) -> tuple[pipeline.ArticleInput, tuple[Quotation, ...], pipeline.Progress]:
        """read -> find: the article checked, its quotations, and an empty progress."""
        article = pipeline.read(
            text, published, schema or ArticleExtraction, max_chars=self.settings.max_chars
        )
        return article, pipeline.find(article), pipeline.Progress()

    def _finish(
        self,
        article: pipeline.ArticleInput,
        quotations: tuple[Quotation, ...],
        progress: pipeline.Progress,
    ) -> ArticleExtraction | Extraction[Any]:
        """merge -> result: every chunk's records as one article's result."""
        merged = pipeline.merge(article, progress.parts, quotations)
        self._done(article, progress.usage)
        return pipeline.result(article, merged, progress.usage)

    @overload
    async def aextract(
        self, text: str, *, published: str | dt.date | None = None, schema: None = None
    ) -> ArticleExtraction: ...

    @overload
    async def aextract(
        self, text: str, *, published: str | dt.date | None = None, schema: type[T]
    ) -> Extraction[T]: ...

    async def aextract(
        self,
        text: str,
        *,
        published: str | dt.date | None = None,
        schema: type[BaseModel] | None = None,
    ) -> ArticleExtraction | Extraction[Any]:
        """Async twin of `extract`: an article's chunks are asked concurrently, at most
        ``max_concurrency`` at once."""
        return await self._aextract(text, published, schema, shared=None)

    async def _aextract(
        self,
        text: str,
        published: str | dt.date | None,
        schema: type[BaseModel] | None,
        *,
        shared: asyncio.Semaphore | None,
    ) -> ArticleExtraction | Extraction[Any]:
        """`aextract`; each request also takes one of `shared` (a run's cap on requests)."""
        article, quotations, progress = self._begin(text, published, schema)
        slots = _Slots(asyncio.Semaphore(self.settings.max_concurrency), shared)
        with _keeping_partial(article, quotations, progress), repeats_scope():
            await _all(
                self._achunk(article, chunk, quotations, progress, slots)
                for chunk in self._plan(article, quotations, concurrent=True)
            )
        return self._finish(article, quotations, progress)

    # Many articles (extractor batch): results as they complete, at most `concurrency` at once.

    async def aextract_many(
        self,
        articles: Iterable[str | tuple[str, str] | Readable],
        *,
        concurrency: int | None = None,
        schema: type[BaseModel] | None = None,
    ) -> AsyncIterator[ArticleOutcome]:
        """Extract many articles, yielding each one's `ArticleOutcome` as it completes.

        `articles`: strings (id: their position), (id, text) pairs, or items with ``.id`` and
        ``.read()`` (`extractor.batch_inputs`), read lazily in a thread, one as a worker takes
        it. At most `concurrency` articles (default ``batch_concurrency``) are in flight at
        once, and at most `concurrency` requests in all: a long article asks its chunks as
        `aextract` does (``max_concurrency`` at once) within that shared cap. An article that
        fails is an outcome with its error (and ``error.partial``), never an exception: one bad
        article stops nothing.
        """
        limit = concurrency or self.settings.batch_concurrency
        if limit < 1:
            raise ConfigurationError(f"concurrency must be at least 1, not {limit}")
        queue = enumerate(articles)
        running: set[asyncio.Task[ArticleOutcome]] = set()
        requests = asyncio.Semaphore(limit)  # shared by every article: requests in flight
        try:
            while True:
                for index, item in queue:
                    one = self._one(item, index, schema, requests)
                    running.add(asyncio.ensure_future(one))
                    if len(running) >= limit:
                        break
                if not running:
                    return
                done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    yield task.result()
        finally:
            for task in running:
                task.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)

    def extract_many(
        self,
        articles: Iterable[str | tuple[str, str] | Readable],
        *,
        concurrency: int | None = None,
        schema: type[BaseModel] | None = None,
    ) -> Iterator[ArticleOutcome]:
        """Sync twin of `aextract_many`: its event loop runs in a thread; outcomes as they come.

        Stop iterating (``break``) and the articles still in flight are cancelled.
        """
        outcomes: queue.Queue[ArticleOutcome | BaseException | None] = queue.Queue()
        started: queue.Queue[tuple[asyncio.AbstractEventLoop, asyncio.Task[None]]] = queue.Queue()

        async def produce() -> None:
            async for outcome in self.aextract_many(
                articles, concurrency=concurrency, schema=schema
            ):
                outcomes.put(outcome)

        def run() -> None:
            async def main() -> None:
                task = asyncio.ensure_future(produce())
                started.put((asyncio.get_running_loop(), task))
                await task

            try:
                asyncio.run(main())
                outcomes.put(None)
            except BaseException as exc:  # handed to the caller's thread, raised there
                outcomes.put(exc)

        worker = threading.Thread(target=run, name="extract_many", daemon=True)
        worker.start()
        loop, task = started.get()
        try:
            while (got := outcomes.get()) is not None:
                if isinstance(got, BaseException):
                    if isinstance(got, asyncio.CancelledError):
                        return
                    raise got
                yield got
        finally:
            if worker.is_alive():
                loop.call_soon_threadsafe(task.cancel)
            worker.join()

    async def _one(
        self,
        item: str | tuple[str, str] | Readable,
        index: int,
        schema: type[BaseModel] | None,
        requests: asyncio.Semaphore,
    ) -> ArticleOutcome:
        """One article of `aextract_many`: read, extract; any failure is its outcome."""
        started, clock = dt.datetime.now(dt.timezone.utc), time.perf_counter()
        article: Article | None = None
        key = str(index)
        try:
            readable = as_readable(item, index)
            key = readable.id
            # read in a thread: a file (or a JSONL line) on a slow disk holds no other article
            article = await asyncio.to_thread(readable.read, max_chars=self.settings.max_chars)
            result = await self._aextract(article.text, article.published, schema, shared=requests)
        except ExtractorError as error:
            timing = Timing(started=started, seconds=time.perf_counter() - clock)
            return ArticleOutcome(key, None, error, error.usage or Usage(), timing, article)
        except Exception as exc:  # a bug on one article must not stop a run of thousands
            logger.debug("article %s failed unexpectedly", key, exc_info=True)
            wrapped = ExtractorError(f"unexpected {type(exc).__name__}: {exc}")
            timing = Timing(started=started, seconds=time.perf_counter() - clock)
            return ArticleOutcome(key, None, wrapped, Usage(), timing, article)
        timing = Timing(started=started, seconds=time.perf_counter() - clock)
        return ArticleOutcome(key, result, None, result.usage, timing, article)


class _Slots:
    """Semaphores taken together, always in one order (an article's own, then a run's shared
    one), released in reverse; a request holds one of each while it is asked."""

    def __init__(self, *semaphores: asyncio.Semaphore | None) -> None:
        self._semaphores = [s for s in semaphores if s is not None]

    async def __aenter__(self) -> None:
        taken: list[asyncio.Semaphore] = []
        try:
            for semaphore in self._semaphores:
                await semaphore.acquire()
                taken.append(semaphore)
        except BaseException:
            for semaphore in reversed(taken):
                semaphore.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        for semaphore in reversed(self._semaphores):
            semaphore.release()


async def _all(calls: Iterable[Awaitable[None]]) -> None:
    """Run `calls` concurrently; every one finishes, then the first error (if any) is raised."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


@contextmanager
def _keeping_partial(
    article: pipeline.ArticleInput, quotations: tuple[Quotation, ...], progress: pipeline.Progress
) -> Iterator[None]:
    """An error leaving the block carries every chunk's grounded records and the usage so far."""
    try:
        yield
    except ExtractorError as error:
        error.partial = pipeline.partial(article, progress, quotations)
        error.usage = progress.usage
        raise
