"""End-to-end extraction through recorded HTTP exchanges (see tests/cassettes/README.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from extractor import (
    Article,
    ArticleExtraction,
    ExtractionError,
    Extractor,
    Polarity,
    QuoteKind,
)
from extractor.dates import DatePrecision

from people_schema import People

pytestmark = pytest.mark.vcr

# Tests that read the same recorded extraction of the shared article from different angles.
SHARED_ARTICLE_CASSETTE = pytest.mark.vcr("test_clean_extraction_of_shared_article.yaml")


def assert_grounded(result: ArticleExtraction, text: str) -> None:
    """Every record carries a span equal to the article text it claims."""
    for record in [*result.quotes, *result.commitments, *result.events]:
        assert record.span is not None, record
        assert text[record.span.start : record.span.end] == record.span.text


def test_clean_extraction_of_shared_article(endpoint: dict[str, Any], article: Article) -> None:
    result = Extractor(**endpoint).extract(article.text, published=article.published)

    assert_grounded(result, article.text)
    assert result.published == dt.date(2025, 8, 27)
    speakers = {q.speaker.name for q in result.quotes}
    assert {"Donald Trump", "Dmitry Peskov"} <= speakers
    direct = [q for q in result.quotes if q.kind is QuoteKind.DIRECT]
    assert any(q.text.startswith("When it comes to security") for q in direct)
    refusals = [c for c in result.commitments if c.polarity is Polarity.WILL_NOT]
    assert any("boots on the ground" in c.evidence for c in refusals)
    assert any("air" in c.evidence for c in result.commitments if c.polarity is Polarity.WILL)
    assert result.usage.requests == 1 and result.usage.total_tokens > 0


@SHARED_ARTICLE_CASSETTE
def test_quotes_come_from_the_finder_and_every_one_is_answered(
    endpoint: dict[str, Any], article: Article
) -> None:
    """Quotations first: quote spans are the finder's, exact; the reply answered all seven."""
    result = Extractor(**endpoint).extract(article.text, published=article.published)
    assert result.coverage is not None
    assert (result.coverage.found, result.coverage.attributed) == (7, 7)
    assert result.coverage.unattributed == [] and result.coverage.ruled_out == []
    marked = [q for q in result.quotes if q.kind is not QuoteKind.REPORTED]
    assert len(marked) == 7 and all(q.confirmed for q in result.quotes)
    for quote in marked:
        assert quote.span is not None
        assert article.text[quote.span.start - 1] == '"' == article.text[quote.span.end]
    # The same result shape as a caller's own schema.
    assert result.data is result and result.spans["quotes[0].text"] == result.quotes[0].span


@SHARED_ARTICLE_CASSETTE
def test_clean_extraction_resolves_dates(endpoint: dict[str, Any], article: Article) -> None:
    """Dates come from the library's resolver, against the article's date line."""
    result = Extractor(**endpoint).extract(article.text, published=article.published)
    by_text = {e.date_text: e for e in result.events if e.date_text}
    feb = by_text["on Feb. 24"]
    assert (feb.date, feb.precision) == (dt.date(2025, 2, 24), DatePrecision.DAY)
    week = by_text["last week"]
    assert (week.date, week.date_end) == (dt.date(2025, 8, 18), dt.date(2025, 8, 24))
    assert week.precision is DatePrecision.WEEK


@SHARED_ARTICLE_CASSETTE
async def test_async_twin(endpoint: dict[str, Any], article: Article) -> None:
    result = await Extractor(**endpoint).aextract(article.text, published=article.published)
    assert_grounded(result, article.text)
    assert result.quotes and result.commitments and result.events


@SHARED_ARTICLE_CASSETTE
def test_a_record_by_sentence_spans_its_whole_sentence(
    endpoint: dict[str, Any], article: Article
) -> None:
    """The Europeans' offer is answered as sentence 11: its evidence is that sentence, whole,
    Trump's direct quote inside it."""
    result = Extractor(**endpoint).extract(article.text, published=article.published)
    quote = next(q for q in result.quotes if q.text.startswith("When it comes"))
    europeans = next(c for c in result.commitments if c.actor.name == "Europeans")
    assert quote.span is not None and europeans.span is not None
    assert europeans.evidence.startswith('"When it comes to security')
    assert europeans.evidence.endswith("Trump said in an interview last week.")
    assert europeans.span.start < quote.span.start < quote.span.end < europeans.span.end


@pytest.mark.scripted
def test_invented_quote_is_reasked_and_fixed(endpoint: dict[str, Any], article: Article) -> None:
    result = Extractor(**endpoint).extract(article.text, published=article.published)

    confirmed = [q.text for q in result.quotes if q.confirmed]
    assert confirmed == ["negative attitude", "one of the root causes"]
    # The five quotations the fixed reply did not answer are kept, speakers from the rules.
    assert len(result.quotes) == 7 and result.coverage is not None
    assert (result.coverage.found, result.coverage.attributed) == (7, 2)
    assert len(result.coverage.unattributed) == 5
    assert_grounded(result, article.text)
    # Usage is summed over both attempts: the rejected reply and the fixed one.
    assert result.usage.requests == 2
    assert result.usage.prompt_tokens == 1650 + 1900
    assert result.usage.completion_tokens == 120 + 90
    assert result.usage.total_tokens == 1650 + 1900 + 120 + 90


@pytest.mark.scripted
def test_rate_limit_then_success(
    endpoint: dict[str, Any], article: Article, no_sleep: list[float]
) -> None:
    result = Extractor(**endpoint).extract(article.text, published=article.published)

    assert no_sleep == [2.0]  # the server's Retry-After, honoured
    assert result.usage.requests == 1  # a 429 carries no completion and no tokens
    assert_grounded(result, article.text)


@pytest.mark.scripted
def test_reply_that_never_grounds_raises_extraction_error(
    endpoint: dict[str, Any], article: Article
) -> None:
    with pytest.raises(ExtractionError) as caught:
        Extractor(**endpoint, max_reasks=2).extract(article.text, published=article.published)

    error = caught.value
    assert [a.number for a in error.attempts] == [1, 2, 3]
    assert "Europe will never send a single soldier to Ukraine" in error.last_errors[0]
    assert error.raw_reply is not None and "single soldier" in error.raw_reply
    assert error.usage is not None
    assert error.usage.requests == 3
    assert error.usage.prompt_tokens == 1650 + 1900 + 2150
    # The quote that was grounded is kept, with its span.
    assert isinstance(error.partial, ArticleExtraction)
    assert [q.text for q in error.partial.quotes] == ["negative attitude"]
    assert_grounded(error.partial, article.text)


def test_user_defined_schema(endpoint: dict[str, Any], article: Article) -> None:
    """Not scripted: re-recordable live, so it asserts what any capable model's reply gives, and no
    figure of the hand-written reply (its token counts) that a real model would change."""
    result = Extractor(**endpoint).extract(article.text, published=article.published, schema=People)

    assert isinstance(result.data, People)
    assert {"Dmitry Peskov", "Donald Trump"} <= {p.name for p in result.data.people}
    for i, person in enumerate(result.data.people):
        assert person.span is not None
        assert article.text[person.span.start : person.span.end] == person.quote
        assert result.spans[f"people[{i}].quote"] == person.span
    assert result.usage.requests == 1 and result.usage.total_tokens > 0
