"""Extract into your own Pydantic model, with the same re-asks and grounding.

    python examples/user_schema.py

Mark fields the model must copy from the article as `Verbatim`; add a `span: LibrarySpan` field
to get where that text sits. Every verbatim value is checked against the article, and the model is
asked again, naming the value, when it is not there.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from extractor import Extractor, ExtractorError, LibrarySpan, Verbatim, read_article

from _replay import live_or_recorded

ARTICLE = Path(__file__).resolve().parent / "articles" / "peacekeepers-2025-08-27.txt"


class Stance(BaseModel):
    """An actor's stated position on European peacekeepers in Ukraine."""

    actor: str = Field(description="Who holds the position, named as fully as the article does.")
    position: Literal["supports", "opposes", "unclear"]
    evidence: Verbatim = Field(description="The passage stating it, copied exactly.")
    span: LibrarySpan


class Stances(BaseModel):
    """Every actor's position on sending European peacekeepers to Ukraine."""

    stances: list[Stance]


def main() -> None:
    """Run the example."""
    try:
        article = read_article(ARTICLE)
        with live_or_recorded("peacekeepers-stances.yaml") as options:
            result = Extractor(**options).extract(
                article.text, published=article.published, schema=Stances
            )
    except ExtractorError as error:
        sys.exit(f"error: {error}")
    for stance in result.data.stances:
        where = f"{stance.span.start}-{stance.span.end}" if stance.span else "?"
        print(f"{stance.actor:>14} {stance.position:<9} [{where}] {stance.evidence}")
    print(f"{result.usage.total_tokens} tokens in {result.usage.requests} request(s)")


if __name__ == "__main__":
    main()
