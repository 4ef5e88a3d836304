"""Quotations first: what the model answers for the built-in schema, and how it becomes records.

The finder (`extractor.quotations`) marks every quotation in the prompt as ``[Qn]``; the model
answers per number (`QuoteAnswer`: speaker, verb, kind, or why it is not speech) and never copies
the quoted words, so a quote's text and span come from the finder, exact by construction. Speech
reported without marks, events and commitments are copied verbatim and grounded as before.

`assemble` turns a validated `ArticleAnswer` into an `ArticleExtraction`: every quotation the
model did not answer for is still a quote, its speaker from `rule_speakers`, ``confirmed`` false;
`QuotationCoverage` says what became of each. `one_name_each` gives one person one name.
Nothing here loads openai or instructor.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, model_validator

from extractor.attribution import attribute
from extractor.merging import canonical_names
from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    Event,
    NotAQuotation,
    QuotationCoverage,
    Quote,
    QuoteKind,
    RuledOut,
)
from extractor.prompting import strip_markers
from extractor.quotations import Quotation, QuotationHint
from extractor.spans import LibrarySpan, Span, Verbatim

__all__ = [
    "AnswerKind",
    "ArticleAnswer",
    "QuoteAnswer",
    "assemble",
    "one_name_each",
    "rule_speakers",
]

TOOL_NAME = "ArticleExtraction"
"""The name the model sees for `ArticleAnswer` (the tool it fills)."""


class AnswerKind(str, Enum):
    """How a quote is given, or why marked words are not speech."""

    DIRECT = "direct"
    PARTIAL = "partial"
    REPORTED = "reported"
    TITLE = "title"
    SCARE = "scare"
    NAME = "name"
    TERM = "term"


_NOT_SPEECH = {
    AnswerKind.TITLE: NotAQuotation.TITLE,
    AnswerKind.SCARE: NotAQuotation.SCARE,
    AnswerKind.NAME: NotAQuotation.NAME,
    AnswerKind.TERM: NotAQuotation.TERM,
}
_FROM_HINT = {
    QuotationHint.TITLE: NotAQuotation.TITLE,
    QuotationHint.SCARE: NotAQuotation.SCARE,
    QuotationHint.NAME: NotAQuotation.NAME,
    QuotationHint.TERM: NotAQuotation.TERM,
}
PRONOUNS = frozenset(
    {"he", "she", "they", "it", "we", "i", "you", "him", "her", "them", "his", "their"}
)


class QuoteAnswer(BaseModel):
    """A marked quotation by its number n, or speech reported without marks by its words."""

    n: int | None = Field(default=None, description="Number from [Qn].")
    text: Verbatim | None = Field(
        default=None, description="Reported speech only: its words, copied exactly."
    )
    speaker: Actor | None = Field(default=None, description="Who said it.")
    kind: AnswerKind = Field(
        description="direct: whole sentence; partial: fragment; reported: no marks; title, "
        "scare, name, term: marked words that are not speech."
    )
    verb: str | None = Field(default=None, description="As written: 'said'.")
    span: LibrarySpan


class ArticleAnswer(BaseModel):
    """Every event, quote and commitment in the article. Leave a list empty if none apply."""

    events: list[Event] = Field(default_factory=list)
    quotes: list[QuoteAnswer] = Field(default_factory=list)
    commitments: list[Commitment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _without_markers(self) -> ArticleAnswer:
        """The ``[Qn]`` markers are the prompt's, not the article's: drop any copied back.

        Runs before grounding (a subclass's validators run after this class's).
        """
        _unmark(self)
        return self

    def reask_problems(self, context: Any) -> list[str]:
        """Numbers that name no quotation (and then those skipped), for the re-ask message.

        Named once a call: after a failed attempt, numbers that name nothing are dropped
        (`assemble` ignores them) rather than asked about again.
        """
        if getattr(context, "partials", None):
            return []
        count = len(getattr(context, "quotations", ()))
        lines = []
        for i, answer in enumerate(self.quotes):
            if answer.n is not None and not 1 <= answer.n <= count:
                known = f"[Q1] to [Q{count}]" if count else "none: use text"
                lines.append(f"- quotes[{i}].n: there is no [Q{answer.n}] (numbers: {known})")
            elif answer.n is None and not answer.text:
                lines.append(f"- quotes[{i}]: give n for a marked quotation, or text")
        if not lines:
            return []
        answered = {a.n for a in self.quotes}
        skipped = [f"[Q{n}]" for n in range(1, count + 1) if n not in answered]
        head = ["These quote answers name no quotation of the article:"]
        tail = [f"Also answer the quotations you skipped: {', '.join(skipped)}."] if skipped else []
        return head + lines + tail


def _unmark(obj: Any) -> None:
    """Strip markers from every string field of the models inside `obj`, in place."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if isinstance(value, str) and "[Q" in value:
                object.__setattr__(obj, name, strip_markers(value))
            else:
                _unmark(value)
    elif isinstance(obj, list):
        for item in obj:
            _unmark(item)


# --- rule-based speakers ---------------------------------------------------------------------


def rule_speakers(
    text: str, quotations: Sequence[Quotation]
) -> list[tuple[Actor | None, str | None]]:
    """(speaker, verb) for each quotation from `extractor.attribution`'s rules (None: no rule).

    The model is the attribution; these only fill what it skipped or gave as a pronoun.
    """
    out: list[tuple[Actor | None, str | None]] = []
    for found in attribute(text, list(quotations)):
        if found.speaker is None:
            out.append((None, found.verb))
            continue
        actor = Actor(name=found.speaker, role=found.role, organization=found.organization)
        out.append((actor, found.verb))
    return out


# --- assembling the records ------------------------------------------------------------------


def _content_span(text: str, q: Quotation) -> Span:
    return Span(start=q.start, end=q.end, text=text[q.start : q.end])


def _numbered(answer: ArticleAnswer, quotations: Sequence[Quotation]) -> dict[int, QuoteAnswer]:
    """Each quotation's answer by index: by n, or by a copied text that falls inside it."""
    found: dict[int, QuoteAnswer] = {}
    for a in answer.quotes:
        if a.n is not None and 1 <= a.n <= len(quotations):
            found.setdefault(a.n - 1, a)
    for a in answer.quotes:
        if a.n is None and a.span is not None:
            for i, q in enumerate(quotations):
                inside = q.start <= a.span.start and a.span.end <= q.end
                most = 5 * (a.span.end - a.span.start) >= 4 * (q.end - q.start)
                if inside and most and i not in found:
                    found[i] = a  # an answer that copied the quoted words, as models used to
                    break
    return found


def _is_name(actor: Actor | None) -> bool:
    return actor is not None and actor.name.strip().lower() not in PRONOUNS | {"", "unknown"}


def assemble(
    answer: ArticleAnswer, text: str, quotations: Sequence[Quotation], *, unanswered: bool = True
) -> ArticleExtraction:
    """The records of a validated answer: a quote for every quotation, and coverage.

    `unanswered=False` leaves out the quotations the model did not answer (for a failed
    attempt's partial records: only what the model said).
    """
    numbered = _numbered(answer, quotations)
    rules = rule_speakers(text, quotations)
    coverage = QuotationCoverage(found=len(quotations))
    quotes: list[Quote] = []
    for i, q in enumerate(quotations):
        span = _content_span(text, q)
        a = numbered.get(i)
        if a is not None and a.kind in _NOT_SPEECH:
            coverage.ruled_out.append(RuledOut(span=span, reason=_NOT_SPEECH[a.kind], by="model"))
            continue
        rule_speaker, rule_verb = rules[i]
        if a is None and not unanswered:
            continue
        if a is None and rule_speaker is None and q.hint in _FROM_HINT:
            coverage.ruled_out.append(RuledOut(span=span, reason=_FROM_HINT[q.hint], by="finder"))
            continue
        confirmed = a is not None and _is_name(a.speaker)
        if a is not None and a.speaker is not None and confirmed:
            speaker = a.speaker
        elif rule_speaker is not None:
            speaker = rule_speaker
        else:
            speaker = Actor(name="unknown")
        if confirmed:
            coverage.attributed += 1
        else:
            coverage.unattributed.append(span)
        if a is not None and a.kind in (AnswerKind.DIRECT, AnswerKind.PARTIAL):
            kind = QuoteKind(a.kind.value)
        else:
            kind = QuoteKind.PARTIAL if q.partial else QuoteKind.DIRECT
        verb = a.verb if a is not None and a.verb else rule_verb
        quote = Quote(text=span.text, speaker=speaker, kind=kind, verb=verb, span=span)
        quote.confirmed = confirmed
        quotes.append(quote)
    used = {id(a) for a in numbered.values()}
    for a in answer.quotes:
        if id(a) in used or a.n is not None or a.text is None or a.kind in _NOT_SPEECH:
            continue
        speaker = a.speaker or Actor(name="unknown")
        kind = QuoteKind(a.kind.value)  # reported, or a fragment of a quotation copied out
        quotes.append(Quote(text=a.text, speaker=speaker, kind=kind, verb=a.verb, span=a.span))
    quotes.sort(key=lambda quote: quote.span.start if quote.span else len(text))
    return ArticleExtraction(
        events=answer.events,
        quotes=quotes,
        commitments=answer.commitments,
        coverage=coverage,
    )


_FULL_NAME = r"\b([A-Z][\w'\u2019-]+)\s+{last}\b"
_NOT_FIRST_NAMES = frozenset(
    re.findall(
        r"\S+",
        """The A An And But Or If When While As After Before During On In At Then So Yet Also Mr
        Mrs Ms Dr President Minister Secretary Chancellor Senator Sen Rep Gov Governor General
        Gen King Queen Prince Pope Prime Foreign Defense Russian American French British German
        Ukrainian Chinese Kremlin White House Former Vice Chief Spokesman Spokeswoman Judge""",
    )
)


def _fullest_in_text(text: str, name: str) -> str | None:
    """'Donald Trump' for a bare 'Trump' when the article writes a first name before it."""
    if len(name.split()) != 1 or not name[:1].isupper():
        return None
    counts: dict[str, int] = {}
    for m in re.finditer(_FULL_NAME.format(last=re.escape(name)), text):
        if m.group(1) not in _NOT_FIRST_NAMES and not m.group(1).endswith(("'s", "\u2019s")):
            counts[m.group(0)] = counts.get(m.group(0), 0) + 1
    return max(counts, key=lambda k: counts[k]) if len(counts) == 1 else None


def one_name_each(result: ArticleExtraction, text: str) -> ArticleExtraction:
    """One person, one name: each actor's name becomes the fullest the article uses (in place)."""
    actors: list[Actor] = []
    for quote in result.quotes:
        actors.append(quote.speaker)
    for commitment in result.commitments:
        actors.append(commitment.actor)
    for event in result.events:
        actors.extend(event.actors)
    names = {actor.name for actor in actors}
    renames = canonical_names(names)
    for name in names:
        if name not in renames:
            full = _fullest_in_text(text, name)
            if full is not None:
                renames[name] = full
    for actor in actors:
        if actor.name in renames:
            object.__setattr__(actor, "name", renames[actor.name])
    # An actor described once (role, organization, country) is described in every record.
    fullest: dict[str, Actor] = {}
    for actor in actors:
        known = fullest.get(actor.name)
        if known is None or _details(actor) > _details(known):
            fullest[actor.name] = actor
    for actor in actors:
        described = fullest[actor.name]
        for field in ("role", "organization", "country"):
            if getattr(actor, field) is None and getattr(described, field) is not None:
                object.__setattr__(actor, field, getattr(described, field))
    return result


def _details(actor: Actor) -> int:
    return sum(getattr(actor, f) is not None for f in ("role", "organization", "country"))
