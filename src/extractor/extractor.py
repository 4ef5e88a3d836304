"""`Extractor`: the public entry point tying input checks, prompting, inference and grounding."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, TypeVar, overload

import openai
from pydantic import BaseModel, SecretStr

from extractor.alignment import ArticleIndex
from extractor.articles import check_text, parse_published
from extractor.dates import parse_date_line
from extractor.errors import ConfigurationError, ExtractorError
from extractor.inference import CallRecord, ModelClient
from extractor.models import ArticleExtraction, Extraction
from extractor.prompting import build_messages
from extractor.response_model import GroundingContext, response_model_for, to_schema
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

    def _prepare(
        self, text: str, published: str | dt.date | None, schema: type[BaseModel]
    ) -> tuple[list[dict[str, str]], type[BaseModel], GroundingContext]:
        if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
            raise ConfigurationError(f"schema must be a Pydantic model class, not {schema!r}")
        check_text(text, max_chars=self.settings.max_chars)
        date = parse_published(published) or parse_date_line(text)[0]
        grounding = GroundingContext(ArticleIndex(text), date)
        return build_messages(text, schema, date), response_model_for(schema), grounding

    def _finish(
        self, schema: type[T], result: BaseModel, record: CallRecord, grounding: GroundingContext
    ) -> T | Extraction[T]:
        data = to_schema(result, schema)
        logger.info(
            "extracted %s with %s: %d request(s), %d tokens",
            schema.__name__,
            self.settings.model,
            record.usage.requests,
            record.usage.total_tokens,
        )
        if isinstance(data, ArticleExtraction):
            data.published, data.usage = grounding.published, record.usage
            return data
        return Extraction[schema](  # type: ignore[valid-type]
            data=data, spans=grounding.spans, published=grounding.published, usage=record.usage
        )

    def _keep_partial(
        self, error: ExtractorError, schema: type[T], grounding: GroundingContext
    ) -> None:
        """Attach the records the last attempt did ground, so nothing extracted is lost."""
        if grounding.partial is None:
            return
        partial = to_schema(grounding.partial, schema)
        if isinstance(partial, ArticleExtraction):
            partial.published = grounding.published
            if error.usage is not None:
                partial.usage = error.usage
        error.partial = partial

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
        target = schema or ArticleExtraction
        messages, response_model, grounding = self._prepare(text, published, target)
        try:
            result, record = self._client.complete(
                messages, response_model, grounding.as_validation_context()
            )
        except ExtractorError as error:
            self._keep_partial(error, target, grounding)
            raise
        return self._finish(target, result, record, grounding)

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
        target = schema or ArticleExtraction
        messages, response_model, grounding = self._prepare(text, published, target)
        try:
            result, record = await self._client.acomplete(
                messages, response_model, grounding.as_validation_context()
            )
        except ExtractorError as error:
            self._keep_partial(error, target, grounding)
            raise
        return self._finish(target, result, record, grounding)
