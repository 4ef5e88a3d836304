"""A user-defined schema, as a library user would write one, used by tests and recordings."""

from __future__ import annotations

from pydantic import BaseModel

from extractor import LibrarySpan, Verbatim


class Person(BaseModel):
    """A person quoted in the article."""

    name: str
    quote: Verbatim
    span: LibrarySpan


class People(BaseModel):
    """Everyone quoted, with one quote each."""

    people: list[Person]
