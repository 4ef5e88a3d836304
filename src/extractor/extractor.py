"""`Extractor`: the public entry point; `extract` runs the steps of `extractor.pipeline` in order.

read -> find quotations -> plan chunks -> for each chunk: prompt -> call -> ground -> resolve
dates; then merge -> result.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, TypeVar, overload

import openai
from pydantic import BaseModel, SecretStr

from extractor import pipeline
from extractor.errors import ExtractorError
from extractor.inference import ModelClient
from extractor.models import ArticleExtraction, Extraction, Usage
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
        """Extract events, quotes and commitments (or `schema`) from one article's text."""
        article = pipeline.read(
            text, published, schema or ArticleExtraction, max_chars=self.settings.max_chars
        )
        quotations = pipeline.find(article)
        parts, usage = [], Usage()
        for chunk in pipeline.plan(article, quotations):
            request = pipeline.prompt(article, chunk, quotations)
            try:
                reply, record = self._client.complete(
                    request.messages,
                    request.response_model,
                    request.context.as_validation_context(),
                )
            except ExtractorError as error:
                error.partial = pipeline.partial(article, request, error.usage)
                raise
            usage = usage.add(record.usage)
            part = pipeline.ground(article, request, reply)
            parts.append(pipeline.resolve_dates(part, article.published))
        merged = pipeline.merge(article, parts)
        self._done(article, usage)
        return pipeline.result(article, merged, usage)

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
        """Async twin of `extract`."""
        article = pipeline.read(
            text, published, schema or ArticleExtraction, max_chars=self.settings.max_chars
        )
        quotations = pipeline.find(article)
        parts, usage = [], Usage()
        for chunk in pipeline.plan(article, quotations):
            request = pipeline.prompt(article, chunk, quotations)
            try:
                reply, record = await self._client.acomplete(
                    request.messages,
                    request.response_model,
                    request.context.as_validation_context(),
                )
            except ExtractorError as error:
                error.partial = pipeline.partial(article, request, error.usage)
                raise
            usage = usage.add(record.usage)
            part = pipeline.ground(article, request, reply)
            parts.append(pipeline.resolve_dates(part, article.published))
        merged = pipeline.merge(article, parts)
        self._done(article, usage)
        return pipeline.result(article, merged, usage)
