"""Tests for extractor.dates."""

from __future__ import annotations

import datetime

import pytest

from extractor.dates import DatePrecision, ResolvedDate, parse_date_line, resolve_date

D = datetime.date
PUB = D(2025, 8, 27)  # a Wednesday
DAY, WEEK, MONTH, YEAR = (
    DatePrecision.DAY,
    DatePrecision.WEEK,
    DatePrecision.MONTH,
    DatePrecision.YEAR,
)
UNKNOWN = ResolvedDate(None, None, DatePrecision.UNKNOWN)


def day(y: int, m: int, d: int) -> ResolvedDate:
    """A single-day ResolvedDate."""
    return ResolvedDate(D(y, m, d), D(y, m, d), DAY)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # explicit dates
        ("2025-02-24", day(2025, 2, 24)),
        ("on 2025-02-24.", day(2025, 2, 24)),
        ("Feb. 24, 2025", day(2025, 2, 24)),
        ("February 24, 2025", day(2025, 2, 24)),
        ("24 February 2025", day(2025, 2, 24)),
        ("the 24th of February 2024", day(2024, 2, 24)),
        ("March 3, 2024", day(2024, 3, 3)),
        # month and day without a year
        ("on Feb. 24", day(2025, 2, 24)),
        ("Feb 24", day(2025, 2, 24)),
        ("February 24", day(2025, 2, 24)),
        ("Sept. 3", day(2025, 9, 3)),
        ("Sept 3", day(2025, 9, 3)),
        ("Sep. 3", day(2025, 9, 3)),
        ("on May 5", day(2025, 5, 5)),
        ("Sept. 27", day(2025, 9, 27)),  # exactly 31 days ahead: still this year
        ("Sept. 28", day(2024, 9, 28)),  # 32 days ahead: previous year
        ("Dec. 1", day(2024, 12, 1)),
        ("Friday, Feb. 24", day(2025, 2, 24)),  # explicit date beats the weekday
        ("Feb. 31", ResolvedDate(D(2025, 2, 1), D(2025, 2, 28), MONTH)),  # bad day: month only
        # relative days
        ("today", day(2025, 8, 27)),
        ("earlier today", day(2025, 8, 27)),
        ("This morning", day(2025, 8, 27)),
        ("tonight", day(2025, 8, 27)),
        ("yesterday", day(2025, 8, 26)),
        ("Tomorrow.", day(2025, 8, 28)),
        ("3 days ago", day(2025, 8, 24)),
        ("two days ago", day(2025, 8, 25)),
        # weekdays
        ("Wednesday", day(2025, 8, 27)),
        ("on Monday", day(2025, 8, 25)),
        ("Monday", day(2025, 8, 25)),
        ("Thursday", day(2025, 8, 21)),
        ("last Friday", day(2025, 8, 22)),
        ("during a Wednesday press conference", day(2025, 8, 27)),
        ("next Monday", day(2025, 9, 1)),
        ("next Wednesday", day(2025, 9, 3)),
        # weeks
        ("last week", ResolvedDate(D(2025, 8, 18), D(2025, 8, 24), WEEK)),
        ("the previous week", ResolvedDate(D(2025, 8, 18), D(2025, 8, 24), WEEK)),
        ("a week ago", ResolvedDate(D(2025, 8, 18), D(2025, 8, 24), WEEK)),
        ("earlier this week", ResolvedDate(D(2025, 8, 25), D(2025, 8, 31), WEEK)),
        ("next week", ResolvedDate(D(2025, 9, 1), D(2025, 9, 7), WEEK)),
        ("three weeks ago", ResolvedDate(D(2025, 8, 4), D(2025, 8, 10), WEEK)),
        ("2 weeks ago", ResolvedDate(D(2025, 8, 11), D(2025, 8, 17), WEEK)),
        # months
        ("this month", ResolvedDate(D(2025, 8, 1), D(2025, 8, 31), MONTH)),
        ("earlier this month", ResolvedDate(D(2025, 8, 1), D(2025, 8, 31), MONTH)),
        ("last month", ResolvedDate(D(2025, 7, 1), D(2025, 7, 31), MONTH)),
        ("next month", ResolvedDate(D(2025, 9, 1), D(2025, 9, 30), MONTH)),
        ("in March", ResolvedDate(D(2025, 3, 1), D(2025, 3, 31), MONTH)),
        ("March", ResolvedDate(D(2025, 3, 1), D(2025, 3, 31), MONTH)),
        ("in February", ResolvedDate(D(2025, 2, 1), D(2025, 2, 28), MONTH)),
        ("in September", ResolvedDate(D(2025, 9, 1), D(2025, 9, 30), MONTH)),
        ("in October", ResolvedDate(D(2024, 10, 1), D(2024, 10, 31), MONTH)),
        ("March 2024", ResolvedDate(D(2024, 3, 1), D(2024, 3, 31), MONTH)),
        ("in February 2024", ResolvedDate(D(2024, 2, 1), D(2024, 2, 29), MONTH)),
        # years
        ("this year", ResolvedDate(D(2025, 1, 1), D(2025, 12, 31), YEAR)),
        ("earlier this year", ResolvedDate(D(2025, 1, 1), D(2025, 12, 31), YEAR)),
        ("last year", ResolvedDate(D(2024, 1, 1), D(2024, 12, 31), YEAR)),
        ("next year", ResolvedDate(D(2026, 1, 1), D(2026, 12, 31), YEAR)),
        ("in 2022", ResolvedDate(D(2022, 1, 1), D(2022, 12, 31), YEAR)),
        ("since 2014", ResolvedDate(D(2014, 1, 1), D(2014, 12, 31), YEAR)),
        ("Russia's 2022 invasion", ResolvedDate(D(2022, 1, 1), D(2022, 12, 31), YEAR)),
        ("Russia\u2019s 2022 invasion", ResolvedDate(D(2022, 1, 1), D(2022, 12, 31), YEAR)),
    ],
)
def test_resolve_date(text: str, expected: ResolvedDate) -> None:
    assert resolve_date(text, PUB) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("last week, on Monday", day(2025, 8, 25)),
        ("in 2022, on Feb. 24", day(2025, 2, 24)),
        ("in March 2024 or last year", ResolvedDate(D(2024, 3, 1), D(2024, 3, 31), MONTH)),
        ("this month, and last week", ResolvedDate(D(2025, 8, 18), D(2025, 8, 24), WEEK)),
    ],
)
def test_prefers_most_specific(text: str, expected: ResolvedDate) -> None:
    assert resolve_date(text, PUB) == expected


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        ("Dec. 28", D(2025, 1, 5), day(2024, 12, 28)),
        ("December 28", D(2025, 1, 5), day(2024, 12, 28)),
        ("in December", D(2025, 1, 5), ResolvedDate(D(2024, 12, 1), D(2024, 12, 31), MONTH)),
        ("last month", D(2025, 1, 5), ResolvedDate(D(2024, 12, 1), D(2024, 12, 31), MONTH)),
        ("next month", D(2024, 12, 5), ResolvedDate(D(2025, 1, 1), D(2025, 1, 31), MONTH)),
        ("last week", D(2025, 1, 1), ResolvedDate(D(2024, 12, 23), D(2024, 12, 29), WEEK)),
        ("yesterday", D(2025, 1, 1), day(2024, 12, 31)),
        ("Jan. 3", D(2024, 12, 30), day(2024, 1, 3)),  # no forward rollover: stays in pub year
        ("Feb. 29", D(2025, 3, 1), day(2024, 2, 29)),  # not in 2025: previous leap year
        ("next March", D(2025, 8, 27), ResolvedDate(D(2026, 3, 1), D(2026, 3, 31), MONTH)),
        ("next August", D(2025, 8, 27), ResolvedDate(D(2026, 8, 1), D(2026, 8, 31), MONTH)),
        # 'last <month>': the most recent such month strictly before the publication month
        ("last August", D(2025, 8, 27), ResolvedDate(D(2024, 8, 1), D(2024, 8, 31), MONTH)),
        ("last September", D(2025, 8, 27), ResolvedDate(D(2024, 9, 1), D(2024, 9, 30), MONTH)),
        ("last March", D(2025, 8, 27), ResolvedDate(D(2025, 3, 1), D(2025, 3, 31), MONTH)),
        ("last July", D(2025, 8, 27), ResolvedDate(D(2025, 7, 1), D(2025, 7, 31), MONTH)),
        ("last December", D(2025, 1, 5), ResolvedDate(D(2024, 12, 1), D(2024, 12, 31), MONTH)),
        # 'this <month>': that month of the publication year
        ("this August", D(2025, 8, 27), ResolvedDate(D(2025, 8, 1), D(2025, 8, 31), MONTH)),
        ("this December", D(2025, 1, 5), ResolvedDate(D(2025, 12, 1), D(2025, 12, 31), MONTH)),
        ("this January", D(2025, 12, 5), ResolvedDate(D(2025, 1, 1), D(2025, 1, 31), MONTH)),
    ],
)
def test_year_boundaries(text: str, published: datetime.date, expected: ResolvedDate) -> None:
    assert resolve_date(text, published) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "recently",
        "at some point",
        "the 1990s",
        "3,000 troops",
        "officials said they may march on the capital",
        "2025-13-45",
        "99999999999999999999 days ago",
        "\x00\ufffd",
    ],
)
def test_unknown(text: str) -> None:
    assert resolve_date(text, PUB) == UNKNOWN


def test_never_raises_on_non_string() -> None:
    assert resolve_date(None, PUB) == UNKNOWN  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-02-24", day(2025, 2, 24)),
        ("Feb. 24, 2025", day(2025, 2, 24)),
        ("24 February 2025", day(2025, 2, 24)),
        ("Friday, Feb. 24, 2023", day(2023, 2, 24)),
        ("March 2024", ResolvedDate(D(2024, 3, 1), D(2024, 3, 31), MONTH)),
        ("in 2022", ResolvedDate(D(2022, 1, 1), D(2022, 12, 31), YEAR)),
        ("in 2022, on Feb. 24", ResolvedDate(D(2022, 1, 1), D(2022, 12, 31), YEAR)),
        ("last week", UNKNOWN),
        ("Wednesday", UNKNOWN),
        ("Feb. 24", UNKNOWN),
        ("Feb. 31", UNKNOWN),
        ("in March", UNKNOWN),
        ("last August", UNKNOWN),
        ("yesterday", UNKNOWN),
        ("3 days ago", UNKNOWN),
        ("next year", UNKNOWN),
        ("", UNKNOWN),
    ],
)
def test_without_publication_date(text: str, expected: ResolvedDate) -> None:
    assert resolve_date(text, None) == expected


def test_never_raises_on_non_date_published() -> None:
    assert resolve_date("last week", "2025-08-27") == UNKNOWN  # type: ignore[arg-type]
    assert resolve_date("Feb. 24, 2025", 20250827) == day(2025, 2, 24)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Feb. 24", day(2025, 2, 24)),
        ("Sept. 28", day(2024, 9, 28)),
        ("in October", ResolvedDate(D(2024, 10, 1), D(2024, 10, 31), MONTH)),
        ("yesterday", day(2025, 8, 26)),
        ("last week", ResolvedDate(D(2025, 8, 18), D(2025, 8, 24), WEEK)),
        ("last August", ResolvedDate(D(2024, 8, 1), D(2024, 8, 31), MONTH)),
    ],
)
def test_published_datetime_is_used_as_date(text: str, expected: ResolvedDate) -> None:
    published = datetime.datetime(2025, 8, 27, 23, 30, tzinfo=datetime.timezone.utc)
    assert resolve_date(text, published) == expected


def test_precision_is_str_enum() -> None:
    assert isinstance(DatePrecision.WEEK, str)
    assert DatePrecision.WEEK.value == "week"
    assert DatePrecision("unknown") is DatePrecision.UNKNOWN


@pytest.mark.parametrize(
    ("text", "expected_date", "expected_body"),
    [
        (
            " date 2025-08-27 Russia dismissed the proposal",
            D(2025, 8, 27),
            "Russia dismissed the proposal",
        ),
        (
            "date 2025-08-27\nRussia dismissed it.\nMore.",
            D(2025, 8, 27),
            "Russia dismissed it.\nMore.",
        ),
        ("\n  DATE: 2025-08-27\n\n  Body", D(2025, 8, 27), "Body"),
        ("Date: August 27, 2025\nBody text", D(2025, 8, 27), "Body text"),
        ("date 27 Aug 2025 Body", D(2025, 8, 27), "Body"),
        ("date 2025-08-27", D(2025, 8, 27), ""),
    ],
)
def test_parse_date_line(text: str, expected_date: datetime.date, expected_body: str) -> None:
    assert parse_date_line(text) == (expected_date, expected_body)


@pytest.mark.parametrize(
    "text",
    [
        "Russia dismissed the proposal on 2025-08-27.",
        "",
        "dated 2025-08-27 body",
        "date: soon\nbody",
        "date 2025-02-30 body",
        "date August 27 body",
    ],
)
def test_parse_date_line_without_date_line(text: str) -> None:
    assert parse_date_line(text) == (None, text)
