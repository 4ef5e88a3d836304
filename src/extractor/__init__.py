"""extractor: grounded events, quotes and commitments from news articles, with an LLM.

from extractor import Extractor
result = Extractor(model="gpt-4o-mini").extract(article_text, published="2025-08-27")
result.quotes[0].text, result.quotes[0].speaker.name, result.quotes[0].span.start
"""

import logging

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
from extractor.extractor import Extractor
from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    CommitmentKind,
    Event,
    EventKind,
    EventStatus,
    Extraction,
    Polarity,
    Quote,
    QuoteKind,
    SourceText,
    Usage,
)
from extractor.settings import Mode, Settings
from extractor.spans import Alignment, LibrarySpan, Span, Verbatim

# A library configures no logging. These keep Python's last-resort handler from printing our
# warnings, and instructor's ERROR lines for every re-ask (with pydantic dumps of article text),
# to stderr of programs that configured none; configure logging to see them.
logging.getLogger("extractor").addHandler(logging.NullHandler())
logging.getLogger("instructor").addHandler(logging.NullHandler())

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
    "Polarity",
    "Quote",
    "QuoteKind",
    "RateLimitError",
    "RequestRejectedError",
    "ServerError",
    "Settings",
    "SourceText",
    "Span",
    "Usage",
    "Verbatim",
    "read_article",
]
