"""extractor: grounded events, quotes and commitments from news articles, with an LLM.

from extractor import Extractor
result = Extractor(model="gpt-4o-mini").extract(article_text, published="2025-08-27")
result.quotes[0].text, result.quotes[0].speaker.name, result.quotes[0].span.start
"""

import logging
from typing import TYPE_CHECKING, Any

from extractor.articles import Article, read_article
from extractor.dates import DatePrecision
from extractor.errors import (
    APIError,
    AuthenticationError,
    BadResponseError,
    ConfigurationError,
    ConnectionFailedError,
    ExtractionError,
    ExtractorError,
    FailedAttempt,
    IncompleteOutputError,
    InputError,
    ModelNotFoundError,
    ModelRefusalError,
    RateLimitError,
    RequestRejectedError,
    ServerError,
)
from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    CommitmentKind,
    Event,
    EventKind,
    EventStatus,
    Extraction,
    NotAQuotation,
    Polarity,
    QuotationCoverage,
    Quote,
    QuoteKind,
    RuledOut,
    SourceText,
    Usage,
)
from extractor.offline import extract_offline
from extractor.quotations import find_quotations
from extractor.settings import Mode, Settings
from extractor.spans import Alignment, LibrarySpan, Span, Verbatim

# A library configures no logging. These keep Python's last-resort handler from printing our
# warnings, and instructor's ERROR lines for every re-ask (with pydantic dumps of article text),
# to stderr of programs that configured none; configure logging to see them.
logging.getLogger("extractor").addHandler(logging.NullHandler())
logging.getLogger("instructor").addHandler(logging.NullHandler())

if TYPE_CHECKING:
    from extractor.extractor import Extractor


def __getattr__(name: str) -> Any:
    """`Extractor` is imported on first use, so the model-free modules load without openai."""
    if name == "Extractor":
        from extractor.extractor import Extractor

        globals()["Extractor"] = Extractor
        return Extractor
    raise AttributeError(f"module 'extractor' has no attribute {name!r}")


__all__ = [
    "APIError",
    "Actor",
    "Alignment",
    "Article",
    "ArticleExtraction",
    "AuthenticationError",
    "BadResponseError",
    "Commitment",
    "CommitmentKind",
    "ConfigurationError",
    "ConnectionFailedError",
    "DatePrecision",
    "Event",
    "EventKind",
    "EventStatus",
    "Extraction",
    "ExtractionError",
    "Extractor",
    "ExtractorError",
    "FailedAttempt",
    "IncompleteOutputError",
    "InputError",
    "LibrarySpan",
    "Mode",
    "ModelNotFoundError",
    "ModelRefusalError",
    "NotAQuotation",
    "Polarity",
    "QuotationCoverage",
    "Quote",
    "QuoteKind",
    "RateLimitError",
    "RequestRejectedError",
    "RuledOut",
    "ServerError",
    "Settings",
    "SourceText",
    "Span",
    "Usage",
    "Verbatim",
    "extract_offline",
    "find_quotations",
    "read_article",
]
