"""Spans: where a record's source text sits in the article, and how it was found.

A `Span` is always computed by the library (see `alignment` and `grounding`), never taken from the
model: fields typed `LibrarySpan` are marked ``readOnly`` in the JSON Schema and stripped from the
schema the model sees. Fields typed `Verbatim` must be copied from the article; grounding rejects
them otherwise and records their span.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

__all__ = [
    "GROUNDING_CONTEXT_KEY",
    "Alignment",
    "LibraryComputed",
    "LibrarySpan",
    "Span",
    "ValidationContext",
    "Verbatim",
    "VerbatimText",
    "grounding_state",
    "ignored_while_grounding",
]

GROUNDING_CONTEXT_KEY = "grounding"
"""Key of the per-call grounding state in a validation context (see `response_model`)."""


class ValidationContext(dict[str, Any]):
    """The validation context we hand to instructor. It is falsy on purpose.

    instructor renders every message as a Jinja template whenever ``context=`` is truthy, which
    would execute template syntax an article may contain (``{{ }}``, ``{% %}``) and change the
    text the model sees. A falsy context skips that; pydantic passes it to validators all the same.
    """

    def __bool__(self) -> bool:
        return False


def grounding_state(info: ValidationInfo) -> Any:
    """The per-call grounding state in a validation context, or None when not grounding."""
    context = info.context
    return context.get(GROUNDING_CONTEXT_KEY) if isinstance(context, dict) else None


class Alignment(str, Enum):
    """How the model's text was found in the article."""

    EXACT = "exact"  # character for character, with any quotation marks trimmed from it
    # equal after normalising quotes, dashes, white space, canonical forms and invisible characters
    NORMALIZED = "normalized"


class Span(BaseModel):
    """Character offsets into the article string: ``article[start:end] == text``."""

    model_config = ConfigDict(frozen=True)

    start: int = Field(ge=0, description="Offset of the first character.")
    end: int = Field(ge=0, description="Offset one past the last character (exclusive).")
    text: str = Field(description="The article text between start and end, exactly.")
    alignment: Alignment = Field(
        default=Alignment.EXACT, description="How the text was matched in the article."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before its start {self.start}")
        if len(self.text) != self.end - self.start:
            raise ValueError("span text length does not match end - start")
        return self


class VerbatimText:
    """Marker: the annotated string must be copied verbatim from the article."""

    def __repr__(self) -> str:
        return "VerbatimText()"


class LibraryComputed:
    """Marker: the field is filled by the library after validation, never by the model."""

    def __repr__(self) -> str:
        return "LibraryComputed()"


def ignored_while_grounding(replacement: Callable[[], Any] = lambda: None) -> BeforeValidator:
    """For library-computed fields: while grounding, the model's value is replaced, unread.

    Without a grounding context (loading a saved result) the value is kept as it is.
    """

    def drop(value: Any, info: ValidationInfo) -> Any:
        return replacement() if grounding_state(info) is not None else value

    return BeforeValidator(drop)


Verbatim = Annotated[str, VerbatimText()]
"""A string the model must copy from the article; grounding checks it and records its span."""

LibrarySpan = Annotated[
    Span | None,
    LibraryComputed(),
    ignored_while_grounding(),
    Field(
        default=None,
        description="Where the verbatim text sits in the article; computed by the library.",
        json_schema_extra={"readOnly": True},
    ),
]
"""The span of a record's verbatim text, filled in by grounding."""
