"""Gold annotations and predictions for `extractor eval`: read, check and write them.

A gold file is JSON Lines, one `GoldArticle` per line: the article's id, its text (inline, or a
path to a UTF-8 file read as ``extractor extract`` reads it, date line included), its date, and
the gold quotes, commitments and events, each with the exact span it rests on. Every span is
checked against the text when the file is read (``text[start:end] == span.text``). The format,
with an example line: docs/eval.md.

Predictions are what ``extractor extract --format json`` prints (one result), or what
``extractor batch`` writes (one line per article: ``id``, ``source``, ``result``, ...), or a
folder of such files. Neither module here loads openai or instructor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from extractor.errors import InputError, validation_messages
from extractor.models import (
    ArticleExtraction,
    CommitmentKind,
    EventKind,
    Polarity,
    QuoteKind,
)

__all__ = [
    "RECORD_TYPES",
    "GoldArticle",
    "GoldCommitment",
    "GoldEvent",
    "GoldQuote",
    "GoldSpan",
    "LoadedGold",
    "Prediction",
    "RecordType",
    "article_text",
    "check_spans",
    "pair_predictions",
    "read_gold",
    "read_predictions",
    "write_gold",
]

RecordType = Literal["quotes", "commitments", "events"]
RECORD_TYPES: tuple[RecordType, ...] = ("quotes", "commitments", "events")


class GoldSpan(BaseModel):
    """Character offsets into the article's text: ``text[start:end] == span.text``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: int = Field(ge=0, description="Offset of the first character.")
    end: int = Field(ge=0, description="Offset one past the last character.")
    text: str = Field(description="The article text between start and end, exactly.")

    @model_validator(mode="after")
    def _ordered(self) -> GoldSpan:
        if self.end <= self.start:
            raise ValueError(f"span end {self.end} is not after its start {self.start}")
        if len(self.text) != self.end - self.start:
            raise ValueError(
                f"span text is {len(self.text)} characters but end - start is "
                f"{self.end - self.start}"
            )
        return self


class GoldQuote(BaseModel):
    """Speech attributed to a speaker, as an annotator marked it."""

    model_config = ConfigDict(extra="forbid")

    span: GoldSpan = Field(
        description="The quoted words (inside the marks, as the library's quotes are), or the "
        "reporter's words for reported speech."
    )
    fragments: list[GoldSpan] = Field(
        default_factory=list,
        description="A discontinuous quote's pieces (brat); `span` then runs from the first "
        "to the last, and only the fragments' characters count.",
    )
    speaker: str | None = Field(
        description="Who said it, by name ('Dmitry Peskov'); null when the article names no one "
        "the annotator could resolve ('a source')."
    )
    speaker_mention: str | None = Field(
        default=None,
        description="The article's own words for the speaker where it attributes the quote, "
        "e.g. 'he' or 'a senior official'; a pronoun here puts the quote among pronoun sources.",
    )
    kind: QuoteKind | None = None


class GoldCommitment(BaseModel):
    """An actor's stated future conduct, as an annotator marked it."""

    model_config = ConfigDict(extra="forbid")

    actor: str = Field(description="Whose own future conduct it is, by name.")
    polarity: Polarity
    kind: CommitmentKind | None = None
    action: str | None = Field(default=None, description="The conduct, for people reading it.")
    span: GoldSpan = Field(description="The evidence: the passage that states it.")


class GoldEvent(BaseModel):
    """Something that happened or is planned, as an annotator marked it."""

    model_config = ConfigDict(extra="forbid")

    kind: EventKind
    summary: str | None = Field(default=None, description="Who did what, for people reading it.")
    date: dt.date | None = Field(default=None, description="First day of its date range.")
    date_end: dt.date | None = Field(
        default=None, description="Last day of its date range; defaults to `date`."
    )
    span: GoldSpan = Field(description="The evidence: the passage that reports it.")

    @model_validator(mode="after")
    def _range(self) -> GoldEvent:
        if self.date_end is None:
            self.date_end = self.date
        if self.date is None and self.date_end is not None:
            raise ValueError("date_end without date")
        if self.date is not None and self.date_end is not None and self.date_end < self.date:
            raise ValueError(f"date_end {self.date_end} is before date {self.date}")
        return self


class GoldArticle(BaseModel):
    """One annotated article: its text and every record an annotator found in it."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Names the article; predictions are paired by it.")
    path: str | None = Field(
        default=None,
        description="The article file, relative to the gold file's folder (or absolute); "
        "offsets index it as Path.read_text(encoding='utf-8') returns it, date line included.",
    )
    text: str | None = Field(default=None, description="The article text itself, instead of path.")
    published: dt.date | None = None
    source: str | None = Field(default=None, description="Where the text comes from, licence.")
    annotated: list[RecordType] = Field(
        default_factory=lambda: list(RECORD_TYPES),
        description="Record types the annotator marked; the others are not scored.",
    )
    quote_kinds: list[QuoteKind] | None = Field(
        default=None,
        description="Quote kinds the annotator marked (null: all); predicted quotes of other "
        "kinds are not scored (brat gold in 'marked' mode has direct and partial only).",
    )
    quotes: list[GoldQuote] = Field(default_factory=list)
    commitments: list[GoldCommitment] = Field(default_factory=list)
    events: list[GoldEvent] = Field(default_factory=list)

    @model_validator(mode="after")
    def _text_or_path(self) -> GoldArticle:
        if (self.text is None) == (self.path is None):
            raise ValueError("give exactly one of 'text' and 'path'")
        return self

    def spans(self) -> list[tuple[str, GoldSpan]]:
        """Every gold span with a label naming its record, e.g. ``('quotes[2]', span)``."""
        out: list[tuple[str, GoldSpan]] = []
        for i, quote in enumerate(self.quotes):
            out.append((f"quotes[{i}]", quote.span))
            out.extend((f"quotes[{i}].fragments[{j}]", f) for j, f in enumerate(quote.fragments))
        out.extend((f"commitments[{i}]", c.span) for i, c in enumerate(self.commitments))
        out.extend((f"events[{i}]", e.span) for i, e in enumerate(self.events))
        return out


def article_text(article: GoldArticle, base: Path | None = None) -> str:
    """The text the article's offsets index: inline, or its file read as ``extract`` reads it."""
    if article.text is not None:
        return article.text
    assert article.path is not None  # the model validator allows nothing else
    path = Path(article.path)
    if not path.is_absolute() and base is not None:
        path = base / path
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"gold article {article.id!r}: no such file: {path}") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"gold article {article.id!r}: {path} is not UTF-8 (invalid byte at offset {exc.start})"
        ) from None
    except OSError as exc:
        raise InputError(f"gold article {article.id!r}: {path}: {exc.strerror or exc}") from None


def check_spans(article: GoldArticle, text: str) -> None:
    """Raise `InputError` naming the first gold span that is not the text at its offsets."""
    for label, span in article.spans():
        found = text[span.start : span.end]
        if found != span.text:
            raise InputError(
                f"gold article {article.id!r}: {label} says {span.text!r} at {span.start}-"
                f"{span.end}, but the text there is {found!r}"
            )
    for quote in article.quotes:
        if quote.fragments and (
            quote.span.start != quote.fragments[0].start
            or quote.span.end != max(f.end for f in quote.fragments)
        ):
            raise InputError(
                f"gold article {article.id!r}: a quote's span {quote.span.start}-"
                f"{quote.span.end} does not run from its first fragment to its last"
            )


@dataclass(frozen=True)
class LoadedGold:
    """A gold article with the text its offsets index."""

    article: GoldArticle
    text: str


def read_gold(path: str | Path) -> list[LoadedGold]:
    """Every article of a gold JSONL file, its text loaded and every span checked against it."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such gold file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: the gold file is not UTF-8") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    out: list[LoadedGold] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            article = GoldArticle.model_validate_json(line)
        except ValidationError as exc:
            problems = "; ".join(validation_messages(exc)[:3])
            raise InputError(f"{path}:{number}: not a gold article: {problems}") from None
        if article.id in seen:
            raise InputError(f"{path}:{number}: article id {article.id!r} appears twice")
        seen.add(article.id)
        text = article_text(article, path.parent)
        check_spans(article, text)
        out.append(LoadedGold(article, text))
    if not out:
        raise InputError(f"{path}: the gold file holds no article")
    return out


def write_gold(articles: Iterable[GoldArticle], path: str | Path) -> None:
    """Write gold articles as JSONL, one per line (keys with no value left out)."""
    lines = [a.model_dump_json(exclude_none=True) for a in articles]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


@dataclass(frozen=True)
class Prediction:
    """One article's predicted result, with what names it: a batch id and/or its source file."""

    result: ArticleExtraction | None
    id: str | None = None
    source_path: str | None = None
    error: str | None = None  # a batch errors-file line: `result` is what it kept, if anything


def read_predictions(path: str | Path) -> list[Prediction]:
    """Predictions from an ``extract --format json`` file, ``batch`` JSONL, or a folder of them
    (read by `extractor.result_files`: a BOM allowed, an errors-file line kept as failed)."""
    from extractor.result_files import read_result_files

    return [
        Prediction(item.result, id=item.id, source_path=item.source_path, error=item.failure)
        for item in read_result_files(Path(path))
    ]


def pair_predictions(
    gold: Sequence[LoadedGold], predictions: Sequence[Prediction], *, base: Path | None = None
) -> tuple[dict[str, Prediction], list[Prediction]]:
    """Each gold article's prediction, and the predictions no gold article claims.

    A prediction belongs to a gold article when its batch id, or that id's file name without
    extension, is the article's id (or its file's name); else when its source file is the
    article's file (same resolved path, else same file name), or that file's name without
    extension is the article's id. One gold article and one
    prediction with nothing to tell them apart are paired. An article with a result and an
    errors-file line (a batch folder after ``--retry-failed``) is paired with its result.
    """
    by_id = {g.article.id: g for g in gold}
    by_path: dict[str, str] = {}
    by_name: dict[str, str] = {}
    for g in gold:
        if g.article.path is not None:
            file = Path(g.article.path)
            if base is not None and not file.is_absolute():
                file = base / file
            by_path[str(file.resolve())] = g.article.id
            by_name.setdefault(file.name, g.article.id)
    paired: dict[str, Prediction] = {}
    left: list[Prediction] = []
    for pred in predictions:
        key: str | None = None
        if pred.id is not None:
            ident = Path(pred.id)
            key = next((k for k in (pred.id, ident.stem) if k in by_id), None)
            key = key or by_name.get(ident.name)
        if key is None and pred.source_path is not None:
            source = Path(pred.source_path)
            key = (
                by_path.get(str(source.resolve()))
                or by_name.get(source.name)
                or (source.stem if source.stem in by_id else None)
            )
        if key is not None and key in paired and paired[key].error and not pred.error:
            left.append(paired[key])  # a result beats an errors-file line for the same article
            paired[key] = pred
        elif key is None or key in paired:
            left.append(pred)
        else:
            paired[key] = pred
    if len(gold) == 1 and not paired and len(left) == 1 and left[0].id is None:
        paired[gold[0].article.id] = left.pop()
    return paired, left
