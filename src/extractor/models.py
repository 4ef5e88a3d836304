"""The data contract: events, quotes and commitments extracted from one article.

Field descriptions are written for the model: they are the prompt. Fields typed `LibrarySpan` or
marked ``readOnly`` are computed by the library and never shown to the model.
"""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, Field

from extractor.dates import DatePrecision, Tense, resolve_date
from extractor.spans import (
    LibrarySpan,
    Span,
    Verbatim,
    ignored_while_grounding,
)

__all__ = [
    "Actor",
    "ArticleExtraction",
    "Commitment",
    "CommitmentKind",
    "DatePrecision",
    "Event",
    "EventKind",
    "EventStatus",
    "Extraction",
    "NotAQuotation",
    "Polarity",
    "QuotationCoverage",
    "Quote",
    "QuoteKind",
    "RuledOut",
    "SourceText",
    "Usage",
]

_READ_ONLY: dict[str, Any] = {"readOnly": True}

T = TypeVar("T", bound=BaseModel)


class Actor(BaseModel):
    """A person, group, state or organisation."""

    name: str = Field(
        description="Name as the article gives it most fully, e.g. 'Dmitry Peskov', 'Russia'."
    )
    role: str | None = Field(default=None, description="Title or job, e.g. 'spokesman'.")
    organization: str | None = Field(
        default=None, description="Body the actor speaks for, e.g. 'Kremlin'."
    )
    country: str | None = Field(default=None, description="Country the actor belongs to.")


class QuoteKind(str, Enum):
    """How the speech is reported."""

    DIRECT = "direct"  # a full sentence inside quotation marks
    PARTIAL = "partial"  # a quoted fragment inside the reporter's own sentence
    REPORTED = "reported"  # speech reported without quotation marks


class Quote(BaseModel):
    """Speech attributed to a speaker."""

    text: Verbatim = Field(
        description=(
            "The words inside the quotation marks, copied exactly, without the marks. "
            "For reported speech, the reporter's words that carry it, copied exactly."
        )
    )
    speaker: Actor = Field(description="Who said it.")
    kind: QuoteKind = Field(
        description="direct: whole sentence quoted; partial: quoted fragment; "
        "reported: no quotation marks."
    )
    verb: str | None = Field(
        default=None, description="Attribution verb as written: 'said', 'cautioned'."
    )
    span: LibrarySpan
    confirmed: Annotated[bool, ignored_while_grounding(lambda: True)] = Field(
        default=True,
        description="Whether the model attributed it; false: a quotation the article marks that "
        "the model did not answer, its speaker from the library's rules.",
        json_schema_extra=_READ_ONLY,
    )


class Polarity(str, Enum):
    """Whether the actor says it will or will not act."""

    WILL = "will"
    WILL_NOT = "will_not"


class CommitmentKind(str, Enum):
    """What sort of statement about its own future conduct the actor makes."""

    PROMISE = "promise"
    REFUSAL = "refusal"
    OFFER = "offer"  # an offer, or stated willingness
    THREAT = "threat"
    CONDITIONAL = "conditional"  # conduct that depends on a stated condition


class Commitment(BaseModel):
    """An actor's stated future conduct: a promise, refusal, offer, threat or condition."""

    actor: Actor = Field(description="Who commits (whose own future conduct it is).")
    polarity: Polarity = Field(description="will, or will_not.")
    kind: CommitmentKind
    action: str = Field(
        description="The conduct, normalised as a verb phrase without negation, "
        "e.g. 'commit American ground troops to Ukraine'."
    )
    condition: str | None = Field(
        default=None, description="Condition it depends on, e.g. 'if a peace deal is reached'."
    )
    beneficiary: str | None = Field(default=None, description="Who it is for, if anyone.")
    time_frame: str | None = Field(default=None, description="When, as stated.")
    evidence: Verbatim = Field(
        description="The shortest article passage that states it, copied exactly."
    )
    span: LibrarySpan


class EventKind(str, Enum):
    """What sort of thing happened."""

    MEETING = "meeting"
    STATEMENT = "statement"
    REPORT = "report"
    MILITARY_ACTION = "military_action"
    PROPOSAL = "proposal"
    AGREEMENT = "agreement"
    DECISION = "decision"
    NEGOTIATION = "negotiation"
    OTHER = "other"


class EventStatus(str, Enum):
    """Whether the event happened."""

    OCCURRED = "occurred"
    PLANNED = "planned"
    PROPOSED = "proposed"
    HYPOTHETICAL = "hypothetical"
    DENIED = "denied"


_TENSE: dict[EventStatus, Tense] = {
    EventStatus.OCCURRED: "past",
    EventStatus.PLANNED: "future",
    EventStatus.PROPOSED: "future",
}


class Event(BaseModel):
    """Who did what, to whom, where and when."""

    kind: EventKind
    summary: str = Field(description="One short sentence: who did what to whom.")
    actors: list[Actor] = Field(default_factory=list, description="Who took part.")
    location: str | None = Field(default=None, description="Where, as stated.")
    date_text: str | None = Field(
        default=None,
        description="When, copied as written: 'last week', 'on Feb. 24', 'Wednesday'.",
    )
    date: dt.date | None = Field(
        default=None,
        description="YYYY-MM-DD if you know it; the library resolves date_text itself.",
    )
    date_end: Annotated[dt.date | None, ignored_while_grounding()] = Field(
        default=None,
        description="Last day of the date range (equal to `date` for a single day).",
        json_schema_extra=_READ_ONLY,
    )
    precision: Annotated[DatePrecision, ignored_while_grounding(lambda: DatePrecision.UNKNOWN)] = (
        Field(
            default=DatePrecision.UNKNOWN,
            description="How precise the date is: day, week, month, year or unknown.",
            json_schema_extra=_READ_ONLY,
        )
    )
    status: EventStatus
    evidence: Verbatim = Field(
        description="The shortest article passage that reports it, copied exactly."
    )
    span: LibrarySpan

    def date_from_text(self, published: dt.date | None) -> None:
        """Date the event from `date_text` against the date line (in place; the dates step).

        The model's own ISO `date` is kept only when the text cannot be resolved (a day, then).
        """
        if self.date_text:
            tense = _TENSE.get(self.status)  # a day or month without a year leans this way
            resolved = resolve_date(self.date_text, published, tense=tense)
            if resolved.precision is not DatePrecision.UNKNOWN:
                self.date, self.date_end = resolved.start, resolved.end
                self.precision = resolved.precision
                return
        self.date_end = self.date
        self.precision = DatePrecision.DAY if self.date else DatePrecision.UNKNOWN


class Usage(BaseModel):
    """Tokens spent on one extraction, summed over every attempt, failed ones included."""

    requests: int = Field(default=0, description="Completions the server returned.")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_requests: int = Field(
        default=0,
        description="Replies replayed from the response cache: no request sent, no tokens "
        "spent, so counted neither in requests nor in the token counts.",
    )

    def add(self, other: Usage) -> Usage:
        """Return the sum of two usages."""
        return Usage(
            requests=self.requests + other.requests,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
            cached_requests=self.cached_requests + other.cached_requests,
        )

    def __sub__(self, other: Usage) -> Usage:
        """What was spent since `other` (an earlier reading of the same count)."""
        return Usage(
            requests=self.requests - other.requests,
            prompt_tokens=self.prompt_tokens - other.prompt_tokens,
            completion_tokens=self.completion_tokens - other.completion_tokens,
            total_tokens=self.total_tokens - other.total_tokens,
            cached_requests=self.cached_requests - other.cached_requests,
        )


class SourceText(BaseModel):
    """The text that every span's offsets index, when it is not the string passed to `extract`.

    The ``extractor`` command sets it: offsets then index the file as
    ``Path(path).read_text(encoding="utf-8")`` returns it (date line included, a BOM kept as
    U+FEFF, line ends read as ``\\n``), or standard input read the same way.
    """

    path: str = Field(description="The article file's path as given, or '<stdin>'.")
    length: int = Field(ge=0, description="Its length in characters, date line included.")


class NotAQuotation(str, Enum):
    """Why a passage between quotation marks is not speech."""

    TITLE = "title"  # a book, film, law, article...
    SCARE = "scare"  # scare quotes: the writer distances itself from a word
    NAME = "name"  # a nickname, or what something is called
    TERM = "term"  # a word mentioned as a word


class RuledOut(BaseModel):
    """A marked passage that is not a quotation, and why."""

    span: Span = Field(description="The words between the marks.")
    reason: NotAQuotation
    by: str = Field(description="'model', or 'finder' when the model did not answer for it.")


class QuotationCoverage(BaseModel):
    """What became of every quotation the article marks (see `extractor.quotations`)."""

    found: int = Field(default=0, description="Quotations the finder found in the text.")
    attributed: int = Field(default=0, description="Quotes whose speaker the model gave.")
    ruled_out: list[RuledOut] = Field(
        default_factory=list, description="Marked passages that are not speech, and why."
    )
    unattributed: list[Span] = Field(
        default_factory=list,
        description="Quotations the model did not answer for: kept as quotes with the speaker "
        "from the library's rules (confirmed false).",
    )


class ArticleExtraction(BaseModel):
    """Every event, quote and commitment in the article. Leave a list empty if none apply."""

    events: list[Event] = Field(default_factory=list)
    quotes: list[Quote] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)
    published: Annotated[dt.date | None, ignored_while_grounding()] = Field(
        default=None,
        description="The article's publication date, from its date line or the caller.",
        json_schema_extra=_READ_ONLY,
    )
    usage: Annotated[Usage, ignored_while_grounding(Usage)] = Field(
        default_factory=Usage,
        description="Tokens spent, summed over every attempt.",
        json_schema_extra=_READ_ONLY,
    )
    source: Annotated[SourceText | None, ignored_while_grounding()] = Field(
        default=None,
        description="The text the spans index when it is a file or stdin (set by the command "
        "line); null when they index the string passed to extract().",
        json_schema_extra=_READ_ONLY,
    )
    coverage: Annotated[QuotationCoverage | None, ignored_while_grounding()] = Field(
        default=None,
        description="What became of each quotation the article marks: found, attributed by the "
        "model, ruled out and why, or attributed by the library's rules only.",
        json_schema_extra=_READ_ONLY,
    )

    @property
    def data(self) -> ArticleExtraction:
        """The records themselves: this object (the same shape as `Extraction.data`)."""
        return self

    @property
    def spans(self) -> dict[str, Span]:
        """Span of every record by path, e.g. ``'quotes[0].text'``, as `Extraction.spans`."""
        out: dict[str, Span] = {}
        fields = (("events", "evidence"), ("quotes", "text"), ("commitments", "evidence"))
        for name, value in fields:
            for i, record in enumerate(getattr(self, name)):
                if record.span is not None:
                    out[f"{name}[{i}].{value}"] = record.span
        return out

    def to_records(self, article: str | None = None) -> list[dict[str, Any]]:
        """One flat row per record, for ``pandas.DataFrame(...)`` or CSV (`extractor.records`)."""
        from extractor.records import article_records  # it imports this module

        return article_records(self, article)


class Extraction(BaseModel, Generic[T]):
    """An extraction into a caller's own schema: the data, its spans, and what it cost.

    The built-in `ArticleExtraction` reads the same way: ``.data``, ``.spans``, ``.coverage``,
    ``.usage``, ``.published``, ``.source``.
    """

    data: T
    spans: dict[str, Span] = Field(
        default_factory=dict,
        description="Span of every verbatim field, by path, e.g. 'people[0].quote'.",
    )
    coverage: QuotationCoverage | None = Field(
        default=None, description="Quotations first is for the built-in schema only: null here."
    )
    published: dt.date | None = None
    usage: Usage = Field(default_factory=Usage)
    source: SourceText | None = Field(
        default=None, description="The text the spans index when it is a file or stdin."
    )

    def to_records(self, article: str | None = None) -> list[dict[str, Any]]:
        """One flat row per verbatim value, for ``pandas.DataFrame(...)`` (`extractor.records`)."""
        from extractor.records import extraction_records  # it imports this module

        return extraction_records(self, article)
