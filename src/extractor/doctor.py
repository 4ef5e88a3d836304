"""Which structured-output modes a server honours, and ``mode="auto"`` built on the answer.

`diagnose` sends one tiny request per mode (the same request through the library's own client,
`extractor.inference.ModelClient`, with no re-ask) and one plain chat request capped at
`LIMIT_TOKENS` tokens that needs more, and reports:

- per mode: whether the reply validated against `ProbeAnswer`, how long it took, and why not
  (the server's refusal, a reply off the schema, garbage) in one escaped line;
- whether the server enforces ``max_tokens`` (finish_reason ``length`` and no more completion
  tokens than asked) and reports usage (token counts present and consistent);
- the recommended mode: the first that works in `ORDER`.

`resolve_mode` is what ``mode="auto"`` runs where the client is built: the mode remembered for
this server and model (an SQLite file under ``cache_dir``), or, on first use, the recommendation
of the mode probes, then remembered. `extractor doctor` (`extractor.cli_doctor`) prints a report.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
from pydantic import BaseModel, ConfigDict

from extractor import errors
from extractor.failures import translate
from extractor.inference import OPENAI_URL, ModelClient, token_count
from extractor.models import Usage
from extractor.redaction import without_credentials
from extractor.render import visible
from extractor.settings import Mode, Settings, load_settings

__all__ = [
    "ORDER",
    "Check",
    "Diagnosis",
    "ModeResult",
    "ProbeAnswer",
    "diagnose",
    "memory_path",
    "probe_limits",
    "probe_mode",
    "recommend",
    "remember_mode",
    "remembered_mode",
    "resolve_mode",
]

logger = logging.getLogger(__name__)

# Most reliable first. tools and json_schema have the server hold the reply to the schema (a
# grammar on llama.cpp servers, function calling or structured outputs on hosted APIs); tools
# first as the library's default, the mode its recordings and tests cover most. json only
# promises some JSON object (the schema is in the prompt); md_json promises nothing: the JSON is
# dug out of free text.
ORDER = (Mode.TOOLS, Mode.JSON_SCHEMA, Mode.JSON, Mode.MD_JSON)
WHY = {
    Mode.TOOLS: "the server holds the reply to the schema (function calling); the default",
    Mode.JSON_SCHEMA: "the server holds the reply to the schema (response_format json_schema)",
    Mode.JSON: "the server promises JSON, but only the prompt asks for the schema",
    Mode.MD_JSON: "nothing is enforced: the JSON is read out of free text",
}

PROBE_TOKENS = 256  # room for the tiny answer, and for a model that rambles, to show it does
LIMIT_TOKENS = 8  # the cap of the max_tokens probe, whose answer needs several times more
DETAIL_CHARS = 200  # longest detail shown per line
PROBE_TEXT = "The Red Cross convention was signed in Geneva in 1864."
PROBE_MESSAGES = [
    {"role": "system", "content": "Extract the requested fields from the user's text."},
    {"role": "user", "content": f"{PROBE_TEXT}\n\nGive the city and the year."},
]
LIMIT_MESSAGES = [
    {"role": "user", "content": "Count from 1 to 100 in words, separated by commas."},
]
# Failures that make every probe pointless: nothing else is tried after one.
FATAL = (
    errors.AuthenticationError,
    errors.ModelNotFoundError,
    errors.ConnectionFailedError,
)
MEMORY_FILE = "modes.sqlite3"


class ProbeAnswer(BaseModel):
    """The tiny schema every mode probe asks for: a reply validates or it does not."""

    model_config = ConfigDict(extra="forbid")

    city: str
    year: int


@dataclass(frozen=True)
class ModeResult:
    """One mode's probe: did the reply validate, how long it took, and what came back or why not."""

    mode: Mode
    works: bool
    seconds: float
    detail: str


@dataclass(frozen=True)
class Check:
    """A yes/no finding about the server (None: the probe could not tell), and why."""

    ok: bool | None
    detail: str


@dataclass(frozen=True)
class Diagnosis:
    """What `diagnose` found about one server and model."""

    server: str
    model: str
    modes: tuple[ModeResult, ...]
    max_tokens: Check
    usage: Check
    recommended: Mode | None

    def to_dict(self) -> dict[str, Any]:
        """The diagnosis as JSON-ready data (``extractor doctor --format json``)."""
        return {
            "server": self.server,
            "model": self.model,
            "modes": [
                {
                    "mode": r.mode.value,
                    "works": r.works,
                    "seconds": round(r.seconds, 3),
                    "detail": r.detail,
                }
                for r in self.modes
            ],
            "max_tokens": {"enforced": self.max_tokens.ok, "detail": self.max_tokens.detail},
            "usage": {"reported": self.usage.ok, "detail": self.usage.detail},
            "recommended": self.recommended.value if self.recommended else None,
            "order": [mode.value for mode in ORDER],
        }


def one_line(text: str) -> str:
    """`text` on one line, control characters escaped, at most `DETAIL_CHARS` characters."""
    shown = visible(" ".join(text.split()), one_line=True)
    return shown if len(shown) <= DETAIL_CHARS else shown[: DETAIL_CHARS - 1] + "…"


def server_of(settings: Settings) -> str:
    """The server `settings` talk to, as shown and remembered: without credentials."""
    return without_credentials(settings.base_url or OPENAI_URL)


def _probe_settings(settings: Settings, **overrides: Any) -> Settings:
    """`settings` for one probe: no re-ask, at most one transient retry (none after a timeout),
    never answered from the response cache (the server is what is being asked)."""
    return load_settings(
        settings,
        cache=False,
        max_reasks=0,
        max_transient_retries=min(settings.max_transient_retries, 1),
        max_timeout_retries=0,
        **overrides,
    )


def probe_mode(settings: Settings, mode: Mode) -> ModeResult:
    """Ask for `ProbeAnswer` in `mode` once; `FATAL` errors but a timeout are raised, the rest
    reported (a mode whose grammar is slow may time out where others answer)."""
    client = ModelClient(_probe_settings(settings, mode=mode, max_tokens=PROBE_TOKENS))
    started = time.monotonic()
    try:
        answer, _ = client.complete(PROBE_MESSAGES, ProbeAnswer, {})
    except errors.ExtractorError as error:
        if isinstance(error, FATAL) and not _timed_out(error):
            raise
        return ModeResult(mode, False, time.monotonic() - started, one_line(why_not(error)))
    finally:
        client.close()
    return ModeResult(mode, True, time.monotonic() - started, one_line(answer.model_dump_json()))


def _causes(error: BaseException) -> Iterator[BaseException]:
    """`error`'s causes: instructor's error, then openai's (a few links at most)."""
    cause = error.__cause__
    for _ in range(5):
        if cause is None:
            return
        yield cause
        cause = cause.__cause__


def _timed_out(error: BaseException) -> bool:
    """Whether `error` comes from a request that timed out (not one that could not connect)."""
    return any(isinstance(cause, openai.APITimeoutError) for cause in _causes(error))


def why_not(error: errors.ExtractorError) -> str:
    """What went wrong in a mode probe, in the fewest words that say it."""
    if isinstance(error, errors.ExtractionError):
        reply = f"; reply: {error.raw_reply[:60]}" if error.raw_reply else ""
        return f"reply off the schema: {'; '.join(error.last_errors)}{reply}"
    if isinstance(error, errors.IncompleteOutputError):
        return f"the reply ran past max_tokens={PROBE_TOKENS} (finish_reason 'length')"
    if isinstance(error, errors.APIError) and error.status not in (None, 200):
        return f"HTTP {error.status}: {_server_says(error)}"
    return str(error)


def _server_says(error: errors.APIError) -> str:
    """The server's own message behind `error` (down its chain to openai's), else the error's."""
    for cause in _causes(error):
        body = getattr(cause, "body", None)
        if isinstance(body, dict):
            inner = body.get("error", body)
            message = inner.get("message") if isinstance(inner, dict) else inner
            if message:
                return str(message)
    return str(error)


def probe_limits(settings: Settings) -> tuple[Check, Check]:
    """Whether the server enforces ``max_tokens`` and reports usage, from one plain request.

    The request asks for far more than `LIMIT_TOKENS` tokens with ``max_tokens`` at that cap.
    Unreachable, key rejected or model unknown: raised (`FATAL`), since no probe can work.
    """
    probe = _probe_settings(settings, max_tokens=LIMIT_TOKENS)
    owner = ModelClient(probe)
    # The library's client options: its bounded transport, key handling and base URL query.
    options = owner._client_options()
    with openai.OpenAI(**options) as client:
        try:
            response = client.chat.completions.create(
                model=probe.model,
                messages=LIMIT_MESSAGES,  # type: ignore[arg-type]
                max_tokens=LIMIT_TOKENS,
                temperature=probe.temperature,
            )
        except Exception as exc:
            error = translate(exc, probe, server_of(probe), 1, Usage())
            if isinstance(error, FATAL):
                raise error from None
            unknown = Check(None, one_line(f"the plain request failed: {why_not(error)}"))
            return unknown, unknown
    return max_tokens_check(response), usage_check(response)


def max_tokens_check(response: Any) -> Check:
    """Whether a reply to a request needing more than `LIMIT_TOKENS` tokens was cut there."""
    choices = getattr(response, "choices", None) or []
    finish = getattr(choices[0], "finish_reason", None) if choices else None
    used = token_count(getattr(getattr(response, "usage", None), "completion_tokens", None))
    said = f"asked for at most {LIMIT_TOKENS} tokens: finish_reason {str(finish)[:20]!r}"
    if used is not None and used > LIMIT_TOKENS:
        return Check(False, one_line(f"{said}, {used} completion tokens"))
    if finish == "length":
        count = "no token count" if used is None else f"{used} completion tokens"
        return Check(True, one_line(f"{said}, {count}"))
    if used is None:
        return Check(None, one_line(f"{said}, no token count: cannot tell"))
    return Check(None, one_line(f"{said}, {used} completion tokens: the reply ended by itself"))


def usage_check(response: Any) -> Check:
    """Whether the reply carries token counts that can be right (prompt > 0, total = sum)."""
    usage = getattr(response, "usage", None)
    if usage is None:
        return Check(False, "no usage in the reply: token counts and costs will read 0")
    raw = {n: getattr(usage, n, None) for n in ("prompt_tokens", "completion_tokens")}
    counts = {n: token_count(v) for n, v in raw.items()}
    bad = [f"{n}={str(raw[n])[:20]!r}" for n, c in counts.items() if c is None]
    prompt, completion = counts["prompt_tokens"], counts["completion_tokens"]
    if bad or prompt is None or completion is None:
        return Check(False, one_line(f"token counts that cannot be right: {', '.join(bad)}"))
    total = token_count(getattr(usage, "total_tokens", None))
    if prompt == 0:
        return Check(False, "prompt_tokens 0 for a prompt of several words")
    if total is not None and total != prompt + completion:
        return Check(False, f"total_tokens {total} is not {prompt} + {completion}")
    return Check(True, f"{prompt} prompt + {completion} completion tokens")


def recommend(results: tuple[ModeResult, ...] | list[ModeResult]) -> Mode | None:
    """The first mode of `ORDER` whose probe worked, or None if none did."""
    working = {result.mode for result in results if result.works}
    return next((mode for mode in ORDER if mode in working), None)


def diagnose(settings: Settings) -> Diagnosis:
    """Probe the server of `settings` for every mode and its limits; see the module docstring.

    Raises `FATAL` errors (unreachable, key rejected, model unknown) and `ConfigurationError`
    (no key and no base URL).
    """
    max_tokens, usage = probe_limits(settings)
    modes = tuple(probe_mode(settings, mode) for mode in ORDER)
    return Diagnosis(
        server=server_of(settings),
        model=settings.model,
        modes=modes,
        max_tokens=max_tokens,
        usage=usage,
        recommended=recommend(modes),
    )


# mode="auto": the recommendation, remembered per server and model.

_resolving = threading.Lock()  # one probe at a time in a process: concurrent first calls wait


def memory_path(settings: Settings) -> Path:
    """The SQLite file where ``mode="auto"`` remembers each server's and model's mode."""
    folder = settings.cache_dir or Path.home() / ".cache" / "extractor"
    return folder / MEMORY_FILE


@contextlib.contextmanager
def _memory(settings: Settings) -> Iterator[sqlite3.Connection]:
    path = memory_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=10)
    try:
        with connection:
            connection.execute(
                "CREATE TABLE IF NOT EXISTS modes (server TEXT, model TEXT, mode TEXT, "
                "probed TEXT, PRIMARY KEY (server, model))"
            )
            yield connection
    finally:
        connection.close()


def remembered_mode(settings: Settings) -> Mode | None:
    """The mode remembered for this server and model, or None (never probed, or unreadable)."""
    try:
        with _memory(settings) as memory:
            row = memory.execute(
                "SELECT mode FROM modes WHERE server = ? AND model = ?",
                (server_of(settings), settings.model),
            ).fetchone()
    except (OSError, sqlite3.Error) as exc:
        logger.warning("mode auto: cannot read %s (%s); probing", memory_path(settings), exc)
        return None
    if row is None or row[0] not in {mode.value for mode in ORDER}:
        return None
    return Mode(row[0])


def remember_mode(settings: Settings, mode: Mode) -> None:
    """Remember `mode` for this server and model; a file that cannot be written is logged."""
    probed = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    try:
        with _memory(settings) as memory:
            memory.execute(
                "INSERT OR REPLACE INTO modes VALUES (?, ?, ?, ?)",
                (server_of(settings), settings.model, mode.value, probed),
            )
    except (OSError, sqlite3.Error) as exc:
        logger.warning(
            "mode auto: cannot remember %s in %s (%s)", mode.value, memory_path(settings), exc
        )


def resolve_mode(settings: Settings) -> Mode:
    """The mode to use: `settings.mode`, or for ``auto`` the remembered or probed recommendation.

    The first ``auto`` call for a server and model probes every mode (one tiny request each,
    said in a log line) and remembers the recommendation; later calls read it. No mode working
    is a `ConfigurationError` naming each mode's reason; nothing is remembered then.
    """
    if settings.mode is not Mode.AUTO:
        return settings.mode
    with _resolving:
        found = remembered_mode(settings)
        if found is not None:
            logger.debug("mode auto: %s, remembered for %s", found.value, server_of(settings))
            return found
        logger.info(
            "mode auto: probing %s with model %s for a structured-output mode (first use; "
            "remembered in %s)",
            server_of(settings),
            settings.model,
            memory_path(settings),
        )
        probe_limits(settings)  # unreachable, key rejected, model unknown: raised at once
        results = [probe_mode(settings, mode) for mode in ORDER]
        mode = recommend(results)
        if mode is None:
            reasons = "; ".join(f"{r.mode.value}: {r.detail}" for r in results)
            raise errors.ConfigurationError(
                f"mode auto: no structured-output mode worked with {settings.model} at "
                f"{server_of(settings)} ({reasons}); see 'extractor doctor'"
            )
        logger.info("mode auto: using %s for %s", mode.value, server_of(settings))
        remember_mode(settings, mode)
        return mode
