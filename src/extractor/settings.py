"""Configuration: one settings object, read from arguments, then ``EXTRACTOR_*``/``OPENAI_*``."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractor.errors import ConfigurationError, validation_messages
from extractor.prices import PerMillion
from extractor.redaction import without_credentials

__all__ = ["Mode", "Settings", "load_settings", "without_credentials"]

MAX_SECONDS = 1_000_000.0  # about 11 days; larger values overflow the platform's clocks


class Mode(str, Enum):
    """How structured output is requested from the server; servers differ in what they accept."""

    TOOLS = "tools"  # function calling with the schema as the tool's parameters
    JSON = "json"  # response_format json_object, schema in the prompt
    JSON_SCHEMA = "json_schema"  # OpenAI's response_format json_schema (strict structured output)
    MD_JSON = "md_json"  # JSON in a markdown block, for servers with no structured output at all
    AUTO = "auto"  # the mode extractor.doctor recommends, probed once per server and model


class Settings(BaseSettings):
    """Every knob of an extraction. Arguments win over the environment, which wins over defaults."""

    model_config = SettingsConfigDict(
        env_prefix="EXTRACTOR_", populate_by_name=True, extra="ignore", validate_default=True
    )

    model: str = Field(default="gpt-4o-mini", description="Model name the server knows.")
    base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("EXTRACTOR_BASE_URL", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8765/v1.",
    )
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("EXTRACTOR_API_KEY", "OPENAI_API_KEY"),
        description="API key; local servers accept any value.",
    )
    mode: Mode = Field(default=Mode.TOOLS, description="Structured-output mode.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, allow_inf_nan=False)
    max_tokens: int = Field(default=4096, gt=0, description="Cap on each reply's tokens.")
    timeout: float = Field(
        default=120.0,
        gt=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="Seconds one HTTP request may take in all, headers and body (not per read).",
    )
    deadline: float | None = Field(
        default=None,
        gt=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description=(
            "Seconds one model call may take in all: requests, waits and re-asks "
            "(an article in chunks makes one call per chunk)."
        ),
    )
    max_reasks: int = Field(
        default=2, ge=0, description="Re-asks after a reply fails validation or grounding."
    )
    max_transient_retries: int = Field(
        default=4, ge=0, description="Retries after 429, 5xx, timeouts and dropped connections."
    )
    max_timeout_retries: int | None = Field(
        default=None,
        ge=0,
        description="Retries after a request timed out; unset: 1 for a server on this machine "
        "(loopback), where a retry queues behind the abandoned generation, else "
        "max_transient_retries.",
    )
    backoff_initial: float = Field(
        default=1.0,
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="First backoff, seconds.",
    )
    backoff_max: float = Field(
        default=30.0,
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="Cap on the exponential backoff (jitter comes on top).",
    )
    retry_after_max: float = Field(
        default=60.0,
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="Longest Retry-After the library will honour, seconds.",
    )
    max_reply_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        description="Largest reply body accepted, counted after decompression.",
    )
    max_chars: int = Field(
        default=200_000,
        gt=0,
        le=50_000_000,
        description="Longest article accepted, in characters: a guard against absurd input; "
        "a long article is split into chunks (context_tokens), not refused.",
    )
    # 8,192: the smallest context of the models people commonly serve themselves (Llama 3 8B's
    # native context, a usual llama.cpp/Ollama setting), so requests fit such servers. A larger
    # context changes nothing at the default max_tokens (4,096): the reply's room, not the
    # context, then bounds a chunk (about 10,900 characters either way; see
    # `extractor.pipeline.budget`).
    context_tokens: int = Field(
        default=8192,
        ge=256,
        le=10_000_000,
        description="The model's context size in tokens (prompt and reply). An article whose "
        "request would not fit it, or whose reply would not fit max_tokens, is split into "
        "chunks, one request each.",
    )
    extraction_passes: int = Field(
        default=1,
        ge=1,
        le=20,
        description="Times each chunk is extracted; records the further passes add are merged "
        "in. Each pass multiplies the requests (and tokens) by one more.",
    )
    max_concurrency: int = Field(
        default=4,
        ge=1,
        le=256,
        description="Requests for one article's chunks in flight at once (aextract only; "
        "extract sends them one after another).",
    )
    batch_concurrency: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Articles in flight at once in extract_many / aextract_many and "
        "extractor batch; also the cap on their requests in flight, all articles together.",
    )
    prices: dict[str, tuple[PerMillion, PerMillion]] = Field(
        default_factory=dict,
        description="Prices to add to extractor.prices.PRICES (or override there): model -> "
        "[input, output] US dollars per million tokens, e.g. '{\"my-model\": [0.2, 0.8]}'.",
    )

    # OpenAI's Batch API (extractor batch --via openai-batch; extractor.openai_batch).
    batch_poll_interval: float = Field(
        default=60.0,
        ge=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="Seconds between checks of a submitted batch's status (Batch API).",
    )
    batch_max_wait: float | None = Field(
        default=26 * 3600.0,
        gt=0,
        le=MAX_SECONDS,
        allow_inf_nan=False,
        description="Seconds to wait for a submitted batch before stopping (it keeps running "
        "and a new run attaches to it); unset: no limit. OpenAI ends a batch within 24 hours.",
    )

    # Response cache and rate limits (extractor.cache, extractor.ratelimit).
    cache: bool = Field(
        default=False,
        description="Answer a request identical to an earlier successful one from the response "
        "cache, sending nothing (extractor batch turns it on when this is unset; --no-cache "
        "or EXTRACTOR_CACHE=false keeps it off).",
    )
    cache_dir: Path | None = Field(
        default=None,
        description="Folder of the response cache and of mode auto's memory; "
        "unset: ~/.cache/extractor.",
    )
    requests_per_minute: float | None = Field(
        default=None,
        gt=0,
        le=1_000_000_000,
        allow_inf_nan=False,
        description="Most requests sent per minute by one Extractor (all its workers); "
        "unset: no limit.",
    )
    tokens_per_minute: float | None = Field(
        default=None,
        gt=0,
        le=1_000_000_000_000,
        allow_inf_nan=False,
        description="Most tokens (prompt estimate plus max_tokens) per minute; unset: no limit.",
    )

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _folder(cls, value: object) -> object:
        """An empty value means unset; ``~`` is the home folder."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, (str, Path)):
            return Path(value).expanduser()
        return value

    def __repr_args__(self) -> Any:
        for name, value in super().__repr_args__():
            yield name, without_credentials(value) if name == "base_url" and value else value

    @model_validator(mode="after")
    def _backoff_in_order(self) -> Settings:
        if self.backoff_max < self.backoff_initial:
            raise ValueError(
                f"backoff_max ({self.backoff_max:g}) is below backoff_initial "
                f"({self.backoff_initial:g})"
            )
        return self

    @field_validator("base_url", mode="before")
    @classmethod
    def _http_url(cls, value: object) -> object:
        """An empty value means unset; anything else must be an http(s) URL with a host."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            parts = urlsplit(value.strip())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(
                    f"'{parts._replace(netloc=parts.hostname or '').geturl()}' is not an "
                    "http(s) URL with a host, e.g. http://127.0.0.1:8765/v1"
                )
            return value.strip()
        return value


def load_settings(base: Settings | None = None, **overrides: Any) -> Settings:
    """`base` (or the environment) with `overrides` applied; `ConfigurationError` if invalid."""
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise ConfigurationError(f"unknown option(s): {', '.join(unknown)}")
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        # One step, so an argument replaces a bad environment value instead of tripping on it.
        return Settings(**{**base.model_dump(), **given}) if base else Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(validation_messages(exc))
        raise ConfigurationError(
            f"invalid settings (arguments, EXTRACTOR_* or OPENAI_* variables): {problems}"
        ) from None
