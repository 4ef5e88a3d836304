"""Tests for extractor.dates."""

from __future__ import annotations

import datetime

import pytest

from extractor.dates import DatePrecision, ResolvedDate, Tense, parse_date_line, resolve_date
from extractor.models import Event

D = datetime.date
PUB = D(2025, 8, 27)  # a Wednesday
DAY, WEEK, MONTH, YEAR, UNK = (
    DatePrecision.DAY,
    DatePrecision.WEEK,
    DatePrecision.MONTH,
    DatePrecision.YEAR,
    DatePrecision.UNKNOWN,
)
UNKNOWN = ResolvedDate(None, None, DatePrecision.UNKNOWN)


def day(y: int, m: int, d: int) -> ResolvedDate:
    """A single-day ResolvedDate."""
    return ResolvedDate(D(y, m, d), D(y, m, d), DAY)


# (published, text, start, end, precision); published None = no date line; start/end ISO.
W = "2025-08-27"  # a Wednesday
TABLE: list[tuple[str | None, str, str | None, str | None, DatePrecision]] = [
    # --- the cases of issue 7 that resolved wrongly ---
    ("2025-12-30", "on Jan. 2", "2026-01-02", "2026-01-02", DAY),
    (W, "last year's summit on Sept. 12", "2024-09-12", "2024-09-12", DAY),
    (W, "two years ago this month", "2023-08-01", "2023-08-31", MONTH),
    (W, "this Friday", "2025-08-29", "2025-08-29", DAY),
    (W, "the day before yesterday", "2025-08-25", "2025-08-25", DAY),
    (W, "on 31 June", None, None, UNK),
    (W, "on Feb. 30", None, None, UNK),
    ("2026-03-01", "Feb. 29", None, None, UNK),
    (W, "March 3-5", "2025-03-03", "2025-03-05", DAY),
    (W, "between 2019 and 2021", "2019-01-01", "2021-12-31", YEAR),
    # --- explicit dates ---
    (W, "2025-02-24", "2025-02-24", "2025-02-24", DAY),
    (W, "on 2025-02-24.", "2025-02-24", "2025-02-24", DAY),
    (W, "Feb. 24, 2025", "2025-02-24", "2025-02-24", DAY),
    (W, "February 24, 2025", "2025-02-24", "2025-02-24", DAY),
    (W, "24 February 2025", "2025-02-24", "2025-02-24", DAY),
    (W, "the 24th of February 2024", "2024-02-24", "2024-02-24", DAY),
    (W, "March 3, 2024", "2024-03-03", "2024-03-03", DAY),
    (W, "Friday, Feb. 24", "2025-02-24", "2025-02-24", DAY),  # the date beats the weekday
    (W, "Feb. 29, 2024", "2024-02-29", "2024-02-29", DAY),
    # --- impossible dates are unknown, not their month (dateparser: 'invalid date string') ---
    (W, "Feb. 31", None, None, UNK),
    (W, "Feb. 30, 2024", None, None, UNK),
    (W, "2025-02-30", None, None, UNK),
    (W, "April 31, 2025", None, None, UNK),
    ("2025-03-01", "Feb. 29", None, None, UNK),  # no Feb. 29 in the year it falls in
    ("2024-03-05", "Feb. 29", "2024-02-29", "2024-02-29", DAY),
    (W, "in June 45 people were hurt", "2025-06-01", "2025-06-30", MONTH),  # 45 is no day
    # --- month and day without a year: nearest year, recent past by default ---
    (W, "on Feb. 24", "2025-02-24", "2025-02-24", DAY),
    (W, "February 24", "2025-02-24", "2025-02-24", DAY),
    (W, "Sept 3", "2025-09-03", "2025-09-03", DAY),
    (W, "Sept. 27", "2025-09-27", "2025-09-27", DAY),  # 31 days after: still ahead
    (W, "Sept. 28", "2024-09-28", "2024-09-28", DAY),  # 32 days after: the year before
    (W, "Dec. 1", "2024-12-01", "2024-12-01", DAY),
    ("2025-01-05", "Dec. 28", "2024-12-28", "2024-12-28", DAY),
    ("2024-12-30", "Jan. 3", "2025-01-03", "2025-01-03", DAY),
    ("2025-12-30", "Jan. 2", "2026-01-02", "2026-01-02", DAY),
    # --- ... unless the text says the future ---
    (W, "will meet on Jan. 2", "2026-01-02", "2026-01-02", DAY),
    (W, "the summit scheduled for Feb. 24", "2026-02-24", "2026-02-24", DAY),
    (W, "will visit on Aug. 1", "2025-08-01", "2025-08-01", DAY),  # 26 days back: kept
    (W, "will speak on Friday", "2025-08-29", "2025-08-29", DAY),
    (W, "will travel in March", "2026-03-01", "2026-03-31", MONTH),
    # --- explicit years beat the bare day or month ---
    (W, "in 2022, on Feb. 24", "2022-02-24", "2022-02-24", DAY),
    (W, "the 2022 invasion on Feb. 24", "2022-02-24", "2022-02-24", DAY),
    (W, "on Feb. 24 last year", "2024-02-24", "2024-02-24", DAY),
    (W, "on Sept. 12 next year", "2026-09-12", "2026-09-12", DAY),
    (W, "two years ago on Oct. 7", "2023-10-07", "2023-10-07", DAY),
    (W, "in March last year", "2024-03-01", "2024-03-31", MONTH),
    (W, "March of last year", "2024-03-01", "2024-03-31", MONTH),
    (W, "Sept. 28 this year", "2025-09-28", "2025-09-28", DAY),
    (None, "in 2022, on Feb. 24", "2022-02-24", "2022-02-24", DAY),
    # --- anniversaries (dateparser: 'two years ago this month') ---
    (W, "a year ago today", "2024-08-27", "2024-08-27", DAY),
    (W, "one year ago this week", "2024-08-26", "2024-09-01", WEEK),
    (W, "this month last year", "2024-08-01", "2024-08-31", MONTH),
    # --- relative days (dateparser: 'the day before yesterday') ---
    (W, "today", W, W, DAY),
    (W, "earlier today", W, W, DAY),
    (W, "This morning", W, W, DAY),
    (W, "tonight", W, W, DAY),
    (W, "yesterday", "2025-08-26", "2025-08-26", DAY),
    (W, "day before yesterday", "2025-08-25", "2025-08-25", DAY),
    (W, "the night before last", "2025-08-25", "2025-08-25", DAY),
    (W, "Tomorrow.", "2025-08-28", "2025-08-28", DAY),
    (W, "the day after tomorrow", "2025-08-29", "2025-08-29", DAY),
    (W, "3 days ago", "2025-08-24", "2025-08-24", DAY),
    (W, "two days ago", "2025-08-25", "2025-08-25", DAY),
    (W, "six days ago", "2025-08-21", "2025-08-21", DAY),
    (W, "two days from now", "2025-08-29", "2025-08-29", DAY),
    ("2025-01-01", "yesterday", "2024-12-31", "2024-12-31", DAY),
    # --- weekdays (dateparser: 'Friday' / 'Monday' preferring the past) ---
    (W, "Wednesday", W, W, DAY),
    (W, "on Monday", "2025-08-25", "2025-08-25", DAY),
    (W, "Thursday", "2025-08-21", "2025-08-21", DAY),
    (W, "last Friday", "2025-08-22", "2025-08-22", DAY),
    (W, "last Wednesday", "2025-08-20", "2025-08-20", DAY),
    (W, "during a Wednesday press conference", W, W, DAY),
    (W, "this Monday", "2025-08-25", "2025-08-25", DAY),
    (W, "this Sunday", "2025-08-31", "2025-08-31", DAY),
    (W, "next Monday", "2025-09-01", "2025-09-01", DAY),
    (W, "next Wednesday", "2025-09-03", "2025-09-03", DAY),
    (W, "last week, on Monday", "2025-08-18", "2025-08-18", DAY),  # the week named wins
    (W, "Monday two weeks ago", "2025-08-11", "2025-08-11", DAY),
    (W, "earlier this week, on Monday", "2025-08-25", "2025-08-25", DAY),
    (W, "on Tuesday next week", "2025-09-02", "2025-09-02", DAY),
    # --- weeks ---
    (W, "last week", "2025-08-18", "2025-08-24", WEEK),
    (W, "the previous week", "2025-08-18", "2025-08-24", WEEK),
    (W, "a week ago", "2025-08-18", "2025-08-24", WEEK),
    (W, "earlier this week", "2025-08-25", "2025-08-31", WEEK),
    (W, "next week", "2025-09-01", "2025-09-07", WEEK),
    (W, "three weeks ago", "2025-08-04", "2025-08-10", WEEK),
    (W, "the week before last", "2025-08-11", "2025-08-17", WEEK),
    (W, "the year before last", "2023-01-01", "2023-12-31", YEAR),
    ("2025-01-01", "last week", "2024-12-23", "2024-12-29", WEEK),
    (W, "this month, and last week", "2025-08-18", "2025-08-24", WEEK),
    # --- months ---
    (W, "this month", "2025-08-01", "2025-08-31", MONTH),
    (W, "last month", "2025-07-01", "2025-07-31", MONTH),
    (W, "next month", "2025-09-01", "2025-09-30", MONTH),
    (W, "eight months ago", "2024-12-01", "2024-12-31", MONTH),
    ("2025-01-05", "last month", "2024-12-01", "2024-12-31", MONTH),
    (W, "in March", "2025-03-01", "2025-03-31", MONTH),
    (W, "in February", "2025-02-01", "2025-02-28", MONTH),
    (W, "in September", "2025-09-01", "2025-09-30", MONTH),
    (W, "in October", "2024-10-01", "2024-10-31", MONTH),
    ("2025-01-05", "in December", "2024-12-01", "2024-12-31", MONTH),
    (W, "March 2024", "2024-03-01", "2024-03-31", MONTH),
    (W, "in February 2024", "2024-02-01", "2024-02-29", MONTH),
    (W, "in March 2024 or last year", "2024-03-01", "2024-03-31", MONTH),
    (W, "last August", "2024-08-01", "2024-08-31", MONTH),
    (W, "last March", "2025-03-01", "2025-03-31", MONTH),
    (W, "this August", "2025-08-01", "2025-08-31", MONTH),
    (W, "next March", "2026-03-01", "2026-03-31", MONTH),
    ("2025-12-05", "this January", "2025-01-01", "2025-01-31", MONTH),
    # --- years ---
    (W, "this year", "2025-01-01", "2025-12-31", YEAR),
    (W, "last year", "2024-01-01", "2024-12-31", YEAR),
    (W, "next year", "2026-01-01", "2026-12-31", YEAR),
    (W, "five years ago", "2020-01-01", "2020-12-31", YEAR),
    (W, "in 2022", "2022-01-01", "2022-12-31", YEAR),
    (W, "since 2014", "2014-01-01", "2014-12-31", YEAR),
    (W, "Russia\u2019s 2022 invasion", "2022-01-01", "2022-12-31", YEAR),
    # --- ranges keep both ends ---
    (W, "March 3\u20135, 2024", "2024-03-03", "2024-03-05", DAY),
    (W, "March 3 to 5", "2025-03-03", "2025-03-05", DAY),
    (W, "between March 3 and 5", "2025-03-03", "2025-03-05", DAY),
    (W, "3-5 March", "2025-03-03", "2025-03-05", DAY),
    (W, "from 30 March to 2 April 2024", "2024-03-30", "2024-04-02", DAY),
    (W, "March 30-April 2", "2025-03-30", "2025-04-02", DAY),
    ("2025-01-10", "Dec. 30-Jan. 2", "2024-12-30", "2025-01-02", DAY),
    (W, "Feb. 27-30", None, None, UNK),
    (W, "between March and May", "2025-03-01", "2025-05-31", MONTH),
    (W, "January to March", "2025-01-01", "2025-03-31", MONTH),
    (W, "they may march to May Square", None, None, UNK),
    (W, "2025-08-01 to 2025-08-05", "2025-08-01", "2025-08-05", DAY),
    (W, "the 2021/22 season", "2021-01-01", "2022-12-31", YEAR),
    (W, "from November 2024 to January 2025", "2024-11-01", "2025-01-31", MONTH),
    (W, "2019-2021", "2019-01-01", "2021-12-31", YEAR),
    (W, "2019\u201321", "2019-01-01", "2021-12-31", YEAR),
    (W, "from 2019 to 2021", "2019-01-01", "2021-12-31", YEAR),
    (W, "in March between 2019 and 2021", "2019-01-01", "2021-12-31", YEAR),
    # --- without a date line only dates carrying their own year resolve ---
    (None, "Friday, Feb. 24, 2023", "2023-02-24", "2023-02-24", DAY),
    (None, "March 3-5, 2024", "2024-03-03", "2024-03-05", DAY),
    (None, "between 2019 and 2021", "2019-01-01", "2021-12-31", YEAR),
    (None, "Feb. 24", None, None, UNK),
    (None, "Feb. 30", None, None, UNK),
    (None, "last year's summit on Sept. 12", None, None, UNK),
    (None, "this Friday", None, None, UNK),
    # --- nothing to resolve ---
    (W, "recently", None, None, UNK),
    (W, "the 1990s", None, None, UNK),
    (W, "3,000 troops", None, None, UNK),
    (W, "officials said they may march on the capital", None, None, UNK),
    # --- earlier behaviours kept ---
    (W, "Feb 24", "2025-02-24", "2025-02-24", DAY),
    (W, "Sept. 3", "2025-09-03", "2025-09-03", DAY),
    (W, "Sep. 3", "2025-09-03", "2025-09-03", DAY),
    (W, "on May 5", "2025-05-05", "2025-05-05", DAY),
    (W, "2 weeks ago", "2025-08-11", "2025-08-17", WEEK),
    (W, "earlier this month", "2025-08-01", "2025-08-31", MONTH),
    (W, "March", "2025-03-01", "2025-03-31", MONTH),
    (W, "earlier this year", "2025-01-01", "2025-12-31", YEAR),
    (W, "Russia's 2022 invasion", "2022-01-01", "2022-12-31", YEAR),
    ("2025-01-05", "December 28", "2024-12-28", "2024-12-28", DAY),
    ("2024-12-05", "next month", "2025-01-01", "2025-01-31", MONTH),
    (W, "next August", "2026-08-01", "2026-08-31", MONTH),
    (W, "last September", "2024-09-01", "2024-09-30", MONTH),
    (W, "last July", "2025-07-01", "2025-07-31", MONTH),
    ("2025-01-05", "last December", "2024-12-01", "2024-12-31", MONTH),
    ("2025-01-05", "this December", "2025-12-01", "2025-12-31", MONTH),
]


@pytest.mark.parametrize(("published", "text", "start", "end", "precision"), TABLE)
def test_resolve_date_table(
    published: str | None, text: str, start: str | None, end: str | None, precision: DatePrecision
) -> None:
    """Each written date resolves to its range and precision against the article's date."""
    anchor = D.fromisoformat(published) if published else None
    expected = ResolvedDate(
        D.fromisoformat(start) if start else None,
        D.fromisoformat(end) if end else None,
        precision,
    )
    assert resolve_date(text, anchor) == expected


@pytest.mark.parametrize(
    ("published", "text", "tense", "expected"),
    [
        (PUB, "Jan. 2", "past", day(2025, 1, 2)),
        (PUB, "Jan. 2", "future", day(2026, 1, 2)),
        (PUB, "will meet on Jan. 2", "past", day(2025, 1, 2)),  # the caller's tense wins
        (PUB, "Friday", "future", day(2025, 8, 29)),
        (PUB, "Wednesday", "future", day(2025, 8, 27)),
        (PUB, "in March", "future", ResolvedDate(D(2026, 3, 1), D(2026, 3, 31), MONTH)),
        (PUB, "in August", "future", ResolvedDate(D(2025, 8, 1), D(2025, 8, 31), MONTH)),
        (PUB, "Aug. 1", "future", day(2025, 8, 1)),  # 26 days back: within 31 days
        (PUB, "July 20", "future", day(2026, 7, 20)),  # 38 days back: the next one
        (PUB, "last Friday", "future", day(2025, 8, 22)),  # words beat the tense
        (PUB, "on Feb. 24 last year", "future", day(2024, 2, 24)),
        (D(2027, 6, 1), "Feb. 29", "future", day(2028, 2, 29)),
        (D(2027, 6, 1), "Feb. 29", "past", UNKNOWN),  # Feb. 2027 has no 29th
        (PUB, "Jan. 2", "sideways", day(2025, 1, 2)),  # not a tense: read from the text
    ],
)
def test_tense_leans_a_day_or_month_without_a_year(
    published: datetime.date, text: str, tense: Tense, expected: ResolvedDate
) -> None:
    assert resolve_date(text, published, tense=tense) == expected


@pytest.mark.parametrize(
    ("status", "date_text", "expected"),
    [
        ("occurred", "Friday", day(2025, 8, 22)),
        ("planned", "Friday", day(2025, 8, 29)),
        ("planned", "on Jan. 2", day(2026, 1, 2)),
        ("proposed", "in March", ResolvedDate(D(2026, 3, 1), D(2026, 3, 31), MONTH)),
        ("occurred", "the talks scheduled for Feb. 24", day(2025, 2, 24)),
        ("hypothetical", "will meet on Jan. 2", day(2026, 1, 2)),  # tense read from the text
        ("planned", "last Friday", day(2025, 8, 22)),  # words beat the status
    ],
)
def test_event_status_gives_the_tense(status: str, date_text: str, expected: ResolvedDate) -> None:
    """A planned event's bare 'Friday' is the coming one; an occurred event's the last one."""
    raw = {
        "kind": "meeting",
        "summary": "Leaders met.",
        "date_text": date_text,
        "status": status,
        "evidence": "Leaders met",
    }
    event = Event.model_validate(raw)
    event.date_from_text(PUB)  # the pipeline's dates step
    assert (event.date, event.date_end, event.precision) == (
        expected.start,
        expected.end,
        expected.precision,
    )


@pytest.mark.parametrize(
    "published", [D.min, D(1, 1, 31), D(9999, 12, 1), D.max, PUB, datetime.datetime(2025, 8, 27)]
)
def test_never_raises_and_ranges_are_ordered(published: datetime.date) -> None:
    """Every table text, at the ends of the calendar too, gives UNKNOWN or an ordered range."""
    texts = [text for _, text, *_ in TABLE] + ["999 years ago this month", "next year on Jan. 2"]
    for text in texts:
        for tense in (None, "past", "future"):
            found = resolve_date(text, published, tense=tense)  # type: ignore[arg-type]
            assert (found.start is None) == (found.precision is UNK) == (found.end is None)
            assert found.start is None or found.end is None or found.start <= found.end


def test_table_is_large_enough() -> None:
    assert len(TABLE) >= 60
    assert len({(published, text) for published, text, *_ in TABLE}) == len(TABLE)


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
        ("in 2022, on Feb. 24", day(2022, 2, 24)),  # the year named is the day's
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
