"""Direct quotes with speakers and no model: the quotation finder and the attribution rules.

`extract_offline` returns the same `ArticleExtraction` a model's extraction does, with only what
the text itself marks: every quotation the finder takes for speech, its speaker from the rules in
`extractor.attribution` (``confirmed`` false: no model attributed it), and the coverage. Events,
commitments and reported speech (speech without quotation marks) need a model, so those lists are
empty and the usage is zero. Nothing here loads openai or instructor, nor touches the network.
"""

from __future__ import annotations

import datetime as dt

from extractor.articles import DEFAULT_MAX_CHARS, check_text, parse_published
from extractor.attribution import offline_quotes
from extractor.dates import parse_date_line
from extractor.models import ArticleExtraction, NotAQuotation, QuotationCoverage, RuledOut
from extractor.quotations import find_quotations
from extractor.spans import Span

__all__ = ["NEEDS_A_MODEL", "extract_offline"]

NEEDS_A_MODEL = "events, commitments and reported speech need a model"
"""What an offline result leaves out, for messages that explain it."""


def extract_offline(
    text: str,
    *,
    published: str | dt.date | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> ArticleExtraction:
    """The article's marked quotes with rule-based speakers, shaped as a model's result.

    `published` is the date line's date unless given; spans index `text` as passed (date line
    included), as `Extractor.extract`'s do. `InputError` for text that cannot be extracted from.
    """
    check_text(text, max_chars=max_chars)
    date = parse_published(published) or parse_date_line(text)[0]
    quotes = [q.model_copy(update={"confirmed": False}) for q in offline_quotes(text)]
    found = find_quotations(text)
    ruled_out = [
        RuledOut(
            span=Span(start=q.start, end=q.end, text=text[q.start : q.end]),
            reason=NotAQuotation(q.hint.value),
            by="finder",
        )
        for q in found
        if not q.likely_speech
    ]
    coverage = QuotationCoverage(
        found=len(found),
        attributed=0,
        ruled_out=ruled_out,
        unattributed=[q.span for q in quotes if q.span is not None],
    )
    return ArticleExtraction(quotes=quotes, published=date, coverage=coverage)
