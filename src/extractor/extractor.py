"""`Extractor`: the public entry point; `extract` runs the steps of `extractor.pipeline` in order.

read -> find quotations -> plan chunks -> for each chunk (and pass): prompt -> call -> ground ->
resolve dates, a reply cut at max_tokens keeping what it grounded and its rest asked again,
smaller (cut); then merge -> result. `aextract` asks the chunks concurrently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar, overload

import openai
from pydantic import BaseModel, SecretStr

from extractor import pipeline
from extractor.chunking import Chunk
from extractor.errors import ExtractorError, IncompleteOutputError
from extractor.inference import ModelClient
from extractor.models import ArticleExtraction, Extraction, Usage
from extractor.quotations import Quotation
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
        **options: Any,
    ) -> None:
        """Settings come from `settings` (or the environment), then these arguments.

        Pass `client`/`async_client` to use your own OpenAI clients (e.g. ``openai.AzureOpenAI``,
        or one with a proxy); their base URL and key are used and `base_url`/`api_key` ignored.
        """
        overrides = {"model": model, "base_url": base_url, "api_key": api_key, "mode": mode}
        self.settings = load_settings(settings, **overrides, **options)
        self._client = ModelClient(self.settings, client, async_client)

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
        self, article: pipeline.ArticleInput, quotations: tuple[Quotation, ...]
    ) -> list[Chunk]:
        settings = self.settings
        budget = pipeline.budget(
            article,
            quotations,
            context_tokens=settings.context_tokens,
            max_tokens=settings.max_tokens,
        )
        return pipeline.plan(article, quotations, budget, passes=settings.extraction_passes)

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
        slots: asyncio.Semaphore,
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
        article = pipeline.read(
            text, published, schema or ArticleExtraction, max_chars=self.settings.max_chars
        )
        quotations = pipeline.find(article)
        progress = pipeline.Progress()
        try:
            for chunk in self._plan(article, quotations):
                self._chunk(article, chunk, quotations, progress)
        except ExtractorError as error:
            error.partial, error.usage = (
                pipeline.partial(article, progress, quotations),
                progress.usage,
            )
            raise
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
        article = pipeline.read(
            text, published, schema or ArticleExtraction, max_chars=self.settings.max_chars
        )
        quotations = pipeline.find(article)
        progress = pipeline.Progress()
        slots = asyncio.Semaphore(self.settings.max_concurrency)
        try:
            await _all(
                self._achunk(article, chunk, quotations, progress, slots)
                for chunk in self._plan(article, quotations)
            )
        except ExtractorError as error:
            error.partial, error.usage = (
                pipeline.partial(article, progress, quotations),
                progress.usage,
            )
            raise
        merged = pipeline.merge(article, progress.parts, quotations)
        self._done(article, progress.usage)
        return pipeline.result(article, merged, progress.usage)


async def _all(calls: Iterable[Awaitable[None]]) -> None:
    """Run `calls` concurrently; every one finishes, then the first error (if any) is raised."""
    outcomes = await asyncio.gather(*calls, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
