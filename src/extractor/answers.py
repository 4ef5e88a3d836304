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

import datetime as dt
import re
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from extractor.attribution import attribute
from extractor.merging import canonical_names
from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    CommitmentKind,
    Event,
    EventKind,
    EventStatus,
    NotAQuotation,
    Polarity,
    QuotationCoverage,
    Quote,
    QuoteKind,
    RuledOut,
)
from extractor.prompting import strip_markers
from extractor.quotations import Quotation, QuotationHint
from extractor.response_model import lean_json_schema
from extractor.sentences import Sentence
from extractor.spans import (
    LibraryComputed,
    LibrarySpan,
    Span,
    Verbatim,
    grounding_state,
    ignored_while_grounding,
)

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


def _actor(value: Any) -> Actor:
    """A name as the model gives it ('Dmitry Peskov'), or an actor object, as an `Actor`."""
    if isinstance(value, Actor):
        return value
    try:
        return Actor.model_validate({"name": value} if isinstance(value, str) else value)
    except ValidationError as error:
        raise ValueError(f"give a name: {error.errors()[0]['msg']}") from None


def _quote_answers(value: Any, info: ValidationInfo) -> list[QuoteAnswer]:
    """Answers of the older shape (one per quotation) as `QuoteAnswer`s, validated alike."""
    if not isinstance(value, list):
        raise ValueError("quotes must be a list")
    try:
        return [
            v if isinstance(v, QuoteAnswer) else QuoteAnswer.model_validate(v, context=info.context)
            for v in value
        ]
    except ValidationError as error:
        raise ValueError(str(error)) from None


# Instructor walks the response model's classes seven times a call (looking for async
# validators, which these have none of), at a cost that grows with every class it reaches. So
# the fields below are typed as what they hold for type checkers, and as `Any` with a validator
# that builds the same objects for pydantic: the schema and the values are the same, and the
# walk reaches one class instead of eight (0.13 ms a walk instead of 0.45: a sixth of this
# library's CPU a call). The lists of records below `ArticleAnswer` are built the same way.
if TYPE_CHECKING:
    Name = Actor
    SpanField = LibrarySpan
    OlderQuotes = list["QuoteAnswer"]
else:
    Name = Annotated[Any, PlainValidator(_actor), WithJsonSchema({"type": "string"})]
    SpanField = Annotated[
        Any,
        LibraryComputed(),
        ignored_while_grounding(),
        Field(default=None, json_schema_extra={"readOnly": True}),
    ]
    OlderQuotes = SkipJsonSchema[Annotated[Any, PlainValidator(_quote_answers)]]


def _requires(*names: str) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` that lists `names` as required in the schema the model sees.

    For a field the model must give while a reply of the older shape (the words copied instead
    of a number) still validates.
    """

    def extra(schema: dict[str, Any]) -> None:
        schema["required"] = [*names, *schema.get("required", ())]
        for name in names:  # shown as the type it must be, not the null the older shape allows
            prop = schema["properties"][name]
            shown = [b for b in prop.pop("anyOf", ()) if b != {"type": "null"}]
            if shown:
                prop.update(shown[0])

    return extra


class Person(BaseModel):
    """A named person's details, once."""

    name: str
    role: str | None = None
    organization: str | None = None
    country: str | None = None


class QuoteAnswer(BaseModel):
    """A marked quotation by its number n, or speech reported without marks by its sentence s."""

    n: int | None = None
    s: int | None = None
    speaker: Name | None = Field(default=None, description="A name, never a pronoun.")
    verb: str | None = Field(default=None, description="As written: 'said'.")
    kind: AnswerKind | None = Field(
        default=None,
        description="Only if not speech (title, scare, name, term), or reported (no marks).",
    )
    # A model that copies the words instead of giving a number is still grounded (not shown).
    text: SkipJsonSchema[Verbatim | None] = None
    span: SpanField


class EventAnswer(BaseModel):
    """Something that happened."""

    model_config = ConfigDict(json_schema_extra=_requires("s"))

    s: int | None = None
    kind: EventKind
    summary: str | None = Field(
        default=None,
        description="Only if sentence s reports more than this: who did what, at most 8 words.",
    )
    actors: list[Name] = Field(default_factory=list)
    location: str | None = None
    date_text: str | None = Field(default=None, description="When, as written: 'last week'.")
    status: EventStatus = EventStatus.OCCURRED
    evidence: SkipJsonSchema[Verbatim | None] = None
    date: SkipJsonSchema[dt.date | None] = None
    span: SpanField


class CommitmentAnswer(BaseModel):
    """An actor's stated future conduct: promise, refusal, offer, threat, condition."""

    model_config = ConfigDict(json_schema_extra=_requires("s"))

    s: int | None = None
    actor: Name = Field(description="Whose own conduct it is.")
    polarity: Polarity
    kind: CommitmentKind
    action: str = Field(description="Verb phrase without negation.")
    condition: str | None = None
    beneficiary: str | None = None
    time_frame: str | None = None
    evidence: SkipJsonSchema[Verbatim | None] = None
    span: SpanField


class ReportedAnswer(BaseModel):
    """Speech without quotation marks."""

    s: int
    speaker: Name = Field(description="A name, never a pronoun.")
    verb: str | None = Field(default=None, description="As written: 'said'.")


def _item_problem(index: int, error: ValidationError) -> str:
    """One line for a list item that does not validate: where, and what is wrong."""
    return "; ".join(
        f"[{index}]" + "".join(f".{part}" for part in e["loc"]) + f": {e['msg']}"
        for e in error.errors()
    )


def _records_of(model: type[BaseModel]) -> Any:
    """A list of `model` records, validated one by one (with the call's validation context) and
    shown to the model with `model`'s lean schema, but typed `list[Any]` (see the note above)."""

    def validate(value: Any, info: ValidationInfo) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError("give a list")
        out = []
        for i, item in enumerate(value):
            try:
                out.append(
                    item
                    if isinstance(item, model)
                    else model.model_validate(item, context=info.context)
                )
            except ValidationError as error:
                raise ValueError(_item_problem(i, error)) from None
        return out

    items = {k: v for k, v in lean_json_schema(model.model_json_schema()).items() if k != "title"}
    shown = {"items": items, "type": "array"}
    return Annotated[list[Any], PlainValidator(validate), WithJsonSchema(shown)]


if TYPE_CHECKING:
    People = list[Person]
    Events = list[EventAnswer]
    Reported = list[ReportedAnswer]
    Commitments = list[CommitmentAnswer]
else:
    People = _records_of(Person)
    Events = _records_of(EventAnswer)
    Reported = _records_of(ReportedAnswer)
    Commitments = _records_of(CommitmentAnswer)


class ArticleAnswer(BaseModel):
    """The article's records."""

    people: People = Field(default_factory=list)
    events: Events = Field(default_factory=list)
    speakers: dict[str, Name] = Field(
        default_factory=dict, description="Each [Qn]: n -> who said it (a name, never a pronoun)."
    )
    not_speech: dict[str, NotAQuotation] = Field(
        default_factory=dict, description="[Qn] whose words are not speech: n -> why."
    )
    reported: Reported = Field(default_factory=list)
    commitments: Commitments = Field(default_factory=list)
    # The older shape, one answer per quotation (and the words copied), still read; not shown.
    quotes: OlderQuotes = Field(default_factory=list)
    _bad_keys: list[str] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _as_quotes(self, info: ValidationInfo) -> ArticleAnswer:
        """Every quotation answer as a `QuoteAnswer` in `quotes`, and the markers taken out.

        The ``[Qn]`` and sentence markers are the prompt's, not the article's: any copied back
        is dropped. Runs before grounding (a subclass's validators run after this class's).
        """
        answers: list[QuoteAnswer] = []
        for key, speaker in self.speakers.items():
            answers.append(QuoteAnswer(n=_number(key), speaker=speaker, span=None))
        for key, reason in self.not_speech.items():
            answers.append(QuoteAnswer(n=_number(key), kind=AnswerKind(reason.value), span=None))
        for bad in [*self.speakers, *self.not_speech]:
            if _number(bad) is None:
                self._bad_keys.append(bad)
        answers = [a for a in answers if a.n is not None]
        answers += [
            QuoteAnswer(s=r.s, speaker=r.speaker, verb=r.verb, kind=AnswerKind.REPORTED, span=None)
            for r in self.reported
        ]
        self.quotes = [*self.quotes, *answers]
        grounding = grounding_state(info)
        _unmark(self, grounding.index.article if grounding is not None else "")
        return self

    def reask_problems(self, context: Any) -> list[str]:
        """Numbers that name no quotation or sentence (and quotations skipped), for the re-ask.

        Named once a call: after a failed attempt, numbers that name nothing are dropped
        (`assemble` ignores them) rather than asked about again.
        """
        if getattr(context, "partials", None):
            return []
        count = len(getattr(context, "quotations", ()))
        sentences = len(getattr(context, "sentences", ()))
        quotes = f"[Q1] to [Q{count}]" if count else "none"
        lines = [f"- {key!r} is not a quotation number n" for key in self._bad_keys]
        for i, answer in enumerate(self.quotes):
            if answer.n is not None and not 1 <= answer.n <= count:
                lines.append(f"- quotes[{i}].n: there is no [Q{answer.n}] (numbers: {quotes})")
            elif answer.n is None and answer.s is None and not answer.text:
                lines.append(f"- quotes[{i}]: give n for a marked quotation, or s")
            elif answer.n is None and answer.s is not None and not 1 <= answer.s <= sentences:
                lines.append(_no_sentence(f"quotes[{i}].s", answer.s, sentences))
        for name in ("events", "commitments"):
            for i, record in enumerate(getattr(self, name)):
                if record.s is None and not record.evidence:
                    lines.append(f"- {name}[{i}]: give s, the number of its sentence")
                elif record.s is not None and not 1 <= record.s <= sentences:
                    lines.append(_no_sentence(f"{name}[{i}].s", record.s, sentences))
        if not lines:
            return []
        answered = {a.n for a in self.quotes}
        skipped = [f"[Q{n}]" for n in range(1, count + 1) if n not in answered]
        head = ["These answers name no quotation or sentence of the article:"]
        tail = [f"Also answer the quotations you skipped: {', '.join(skipped)}."] if skipped else []
        return head + lines + tail


def _number(key: str) -> int | None:
    """A quotation number given as a key: '3', 'Q3' or '[Q3]'; None when it is none."""
    digits = key.strip().strip("[]").removeprefix("Q").removeprefix("q")
    return int(digits) if digits.isdigit() else None


def _no_sentence(path: str, number: int, count: int) -> str:
    return f"- {path}: there is no sentence {number} (sentences: 1 to {count})"


def _unmark(obj: Any, article: str) -> None:
    """Strip markers from every string field of the models inside `obj`, in place."""
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if isinstance(value, str):
                unmarked = strip_markers(value, article)
                if unmarked is not value:
                    object.__setattr__(obj, name, unmarked)
            elif isinstance(value, (BaseModel, list, dict)):
                _unmark(value, article)
    elif isinstance(obj, list):
        for item in obj:
            if isinstance(item, (BaseModel, list, dict)):
                _unmark(item, article)
    elif isinstance(obj, dict):
        for item in obj.values():
            if isinstance(item, (BaseModel, list, dict)):
                _unmark(item, article)


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


def _sentence(text: str, sentences: Sequence[Sentence], number: int | None) -> Span | None:
    """The span of sentence `number` (counted from 1), or None when there is no such sentence."""
    if number is None or not 1 <= number <= len(sentences):
        return None
    found = sentences[number - 1]
    return Span(start=found.start, end=found.end, text=text[found.start : found.end])


def _evidence(
    text: str, sentences: Sequence[Sentence], number: int | None, copied: Span | None
) -> Span | None:
    """A record's evidence: the sentence it names, else the words it copied (grounded)."""
    return _sentence(text, sentences, number) or copied


def _described(actor: Actor, people: dict[str, Person]) -> Actor:
    """`actor` with the role, organization and country `people` gives under its name."""
    person = people.get(actor.name)
    if person is None:
        return actor
    details = {
        field: getattr(actor, field) or getattr(person, field)
        for field in ("role", "organization", "country")
    }
    return Actor(name=actor.name, **details)


def _events(
    answer: ArticleAnswer, text: str, sentences: Sequence[Sentence], people: dict[str, Person]
) -> list[Event]:
    out = []
    for a in answer.events:
        span = _evidence(text, sentences, a.s, a.span)
        if span is None:
            continue  # a number that names nothing, after the re-ask: left out
        event = Event(
            kind=a.kind,
            summary=a.summary or span.text,  # the sentence says it when it says only this
            actors=[_described(actor, people) for actor in a.actors],
            location=a.location,
            date_text=a.date_text,
            date=a.date,
            status=a.status,
            evidence=span.text,
            span=span,
        )
        out.append(event)
    return out


def _commitments(
    answer: ArticleAnswer, text: str, sentences: Sequence[Sentence], people: dict[str, Person]
) -> list[Commitment]:
    out = []
    for a in answer.commitments:
        span = _evidence(text, sentences, a.s, a.span)
        if span is None:
            continue
        commitment = Commitment(
            actor=_described(a.actor, people),
            polarity=a.polarity,
            kind=a.kind,
            action=a.action,
            condition=a.condition,
            beneficiary=a.beneficiary,
            time_frame=a.time_frame,
            evidence=span.text,
            span=span,
        )
        out.append(commitment)
    return out


def assemble(
    answer: ArticleAnswer,
    text: str,
    quotations: Sequence[Quotation],
    sentences: Sequence[Sentence] = (),
    *,
    unanswered: bool = True,
) -> ArticleExtraction:
    """The records of a validated answer: a quote for every quotation, and coverage.

    Numbers name `quotations` ([Qn]) and `sentences` (the prompt's sentence markers); a record
    that names a sentence gets that sentence as its evidence and span. `unanswered=False` leaves
    out the quotations the model did not answer (for a failed attempt's partial records: only
    what the model said).
    """
    people = {person.name: person for person in answer.people}
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
            speaker = _described(a.speaker, people)
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
        if id(a) in used or a.n is not None or a.kind in _NOT_SPEECH:
            continue
        found = _evidence(text, sentences, a.s, a.span if a.text is not None else None)
        if found is None:
            continue
        speaker = _described(a.speaker, people) if a.speaker else Actor(name="unknown")
        # reported, or (an older shape) a fragment of a quotation copied out
        kind = QuoteKind(a.kind.value) if a.kind is not None else QuoteKind.REPORTED
        quotes.append(Quote(text=found.text, speaker=speaker, kind=kind, verb=a.verb, span=found))
    quotes.sort(key=lambda quote: quote.span.start if quote.span else len(text))
    return ArticleExtraction(
        events=_events(answer, text, sentences, people),
        quotes=quotes,
        commitments=_commitments(answer, text, sentences, people),
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
    for event in result.events:  # "Trump" and "Donald Trump" in one event: one actor now
        named: dict[str, Actor] = {}
        for actor in event.actors:
            kept = named.get(actor.name)
            if kept is None or _details(actor) > _details(kept):
                named[actor.name] = actor  # a dict keeps the first position
        if len(named) < len(event.actors):
            event.actors = list(named.values())
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
