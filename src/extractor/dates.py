"""Resolve dates written in news articles ('last week', 'on Feb. 24') against a publish date.

Rules for the missing parts of a date:

* A month and day without a year ('Feb. 24') take the publication year, unless that would
  fall more than 31 days after the publication date; then they take the previous year,
  since news is mostly about the past. A bare month ('in October') follows the same rule.
* 'last <month>' is the most recent such month strictly before the publication month
  ('last August' in an article of 2025-08-27 is August 2024); 'this <month>' is that month
  of the publication year; 'next <month>' is the first such month after the publication month.
* Without a publication date, only expressions that carry their own year resolve
  ('2025-02-24', 'Feb. 24, 2025', 'March 2024', 'in 2022'); relative ones ('last week',
  'Wednesday', 'Feb. 24') are UNKNOWN. A ``datetime.datetime`` counts as its ``.date()``.
"""

from __future__ import annotations

import calendar
import datetime
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

logger = logging.getLogger(__name__)

__all__ = ["DatePrecision", "ResolvedDate", "parse_date_line", "resolve_date"]


class DatePrecision(str, Enum):
    """How precise a resolved date is."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ResolvedDate:
    """A date or date range resolved from text."""

    start: datetime.date | None
    end: datetime.date | None  # inclusive last day; equal to start for a single day
    precision: DatePrecision


UNKNOWN = ResolvedDate(None, None, DatePrecision.UNKNOWN)
_RANK = {DatePrecision.DAY: 0, DatePrecision.WEEK: 1, DatePrecision.MONTH: 2, DatePrecision.YEAR: 3}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_NUMBERS = {"a": 1, "an": 1, **{w: i for i, w in enumerate(_NUMBER_WORDS, 1)}}
_FUTURE_SLACK = datetime.timedelta(days=31)
_SAFE_CTX = ("in", "since", "during", "until", "early", "late", "mid", "last", "next", "through")

# A month name or abbreviation, with an optional trailing dot ('Feb.', 'Sept', 'September').
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_YEAR = r"(?P<year>(?:19|20)\d\d|2100)(?!\d)"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?(?!\d)"
_ISO_RE = re.compile(r"(?<![\d-])(?P<year>\d{4})-(?P<mon>\d{1,2})-(?P<day>\d{1,2})(?![\d-])")
_MDY_RE = re.compile(rf"\b{_MON}\s*{_DAY}(?:,?\s*{_YEAR})?")
_DMY_RE = re.compile(rf"(?<![\d.,])\b{_DAY}\s+(?:of\s+)?{_MON}(?:,?\s*{_YEAR})?")
_MY_RE = re.compile(rf"\b{_MON}\s*,?\s*(?:of\s+)?{_YEAR}")
_BARE_MONTH_RE = re.compile(
    r"(?:\b(?P<ctx>in|since|during|until|by|of|from|early|late|mid|last|this|next|before|after"
    r"|through)[\s-]+)?\b(?:(?P<full>january|february|march|april|may|june|july|august"
    r"|september|october|november|december)\b|(?P<abbr>jan|feb|mar|apr|jun|jul|aug|sept?|oct"
    r"|nov|dec)\.)"
)
_BARE_YEAR_RE = re.compile(r"(?<![\d,.$/-])\b(?P<year>(?:19|20)\d\d|2100)(?![\d-]|s\b)")
_REL_DAY_RE = re.compile(
    r"\b(?P<word>today|tonight|this (?:morning|afternoon|evening)|yesterday|last night|tomorrow)\b"
)
_WEEKDAY_RE = re.compile(rf"\b(?:(?P<mod>last|next|this|past)\s+)?(?P<wd>{'|'.join(_WEEKDAYS)})\b")
_AGO_RE = re.compile(
    rf"\b(?P<n>\d{{1,3}}|{'|'.join(_NUMBERS)})\s+(?P<unit>day|week|month|year)s?\s+ago\b"
)
_UNIT_RE = re.compile(r"\b(?P<mod>this|last|previous|next)\s+(?P<unit>week|month|year)\b")
_DATE_LINE_RE = re.compile(r"\A\s*date\b\s*:?[ \t]*", re.IGNORECASE)


def _day(d: datetime.date) -> ResolvedDate:
    return ResolvedDate(d, d, DatePrecision.DAY)


def _week(d: datetime.date) -> ResolvedDate:
    monday = d - datetime.timedelta(days=d.weekday())
    return ResolvedDate(monday, monday + datetime.timedelta(days=6), DatePrecision.WEEK)


def _month(year: int, month: int) -> ResolvedDate:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1  # normalise overflow
    last = calendar.monthrange(year, month)[1]
    first = datetime.date(year, month, 1)
    return ResolvedDate(first, datetime.date(year, month, last), DatePrecision.MONTH)


def _year(year: int) -> ResolvedDate:
    return ResolvedDate(datetime.date(year, 1, 1), datetime.date(year, 12, 31), DatePrecision.YEAR)


def _month_num(name: str) -> int:
    return _MONTHS.index(name[:3].lower()) + 1


def _day_in_year(m: re.Match[str], published: datetime.date | None) -> datetime.date | None:
    """Build the date of a month/day match, inferring the year when it is missing."""
    month, day = _month_num(m["mon"]), int(m["day"])
    if m["year"]:
        return datetime.date(int(m["year"]), month, day)
    if published is None:
        return None  # the year cannot be inferred without an anchor
    try:
        candidate = datetime.date(published.year, month, day)
    except ValueError:  # e.g. Feb. 29 in a non-leap publication year
        return datetime.date(published.year - 1, month, day)
    if candidate - published > _FUTURE_SLACK:
        return datetime.date(published.year - 1, month, day)
    return candidate


def _iso(m: re.Match[str], published: datetime.date | None) -> ResolvedDate:
    return _day(datetime.date(int(m["year"]), int(m["mon"]), int(m["day"])))


def _month_day(m: re.Match[str], published: datetime.date | None) -> ResolvedDate | None:
    found = _day_in_year(m, published)
    return _day(found) if found is not None else None


def _relative_day(m: re.Match[str], published: datetime.date) -> ResolvedDate:
    offset = {"yesterday": -1, "last night": -1, "tomorrow": 1}.get(m["word"], 0)
    return _day(published + datetime.timedelta(days=offset))


def _weekday(m: re.Match[str], published: datetime.date) -> ResolvedDate:
    target = _WEEKDAYS.index(m["wd"])
    if m["mod"] == "next":
        delta = (target - published.weekday() - 1) % 7 + 1
    else:  # on or before publication; 'last X' said on an X means a week earlier
        delta = -((published.weekday() - target) % 7)
        if m["mod"] in ("last", "past") and delta == 0:
            delta = -7
    return _day(published + datetime.timedelta(days=delta))


def _shift(published: datetime.date, unit: str, n: int) -> ResolvedDate:
    if unit == "day":
        return _day(published + datetime.timedelta(days=n))
    if unit == "week":
        return _week(published + datetime.timedelta(weeks=n))
    if unit == "month":
        return _month(published.year, published.month + n)
    return _year(published.year + n)


def _ago(m: re.Match[str], published: datetime.date) -> ResolvedDate:
    n = int(m["n"]) if m["n"].isdigit() else _NUMBERS[m["n"]]
    return _shift(published, m["unit"], -n)


def _unit(m: re.Match[str], published: datetime.date) -> ResolvedDate:
    n = {"this": 0, "last": -1, "previous": -1, "next": 1}[m["mod"]]
    return _shift(published, m["unit"], n)


def _month_year(m: re.Match[str], published: datetime.date | None) -> ResolvedDate:
    return _month(int(m["year"]), _month_num(m["mon"]))


def _bare_month(m: re.Match[str], published: datetime.date) -> ResolvedDate | None:
    name = m["full"] or m["abbr"]
    ambiguous = name in ("may", "march") and m["ctx"] not in _SAFE_CTX
    if ambiguous and m.string.strip(" .,;:!?") != name:
        return None  # too likely to be the verb ('this may take', 'a march')
    month, year = _month_num(name), published.year
    if m["ctx"] == "next":
        if month <= published.month:
            year += 1
    elif m["ctx"] == "last":
        if month >= published.month:
            year -= 1
    elif m["ctx"] != "this" and datetime.date(year, month, 1) - published > _FUTURE_SLACK:
        year -= 1
    return _month(year, month)


def _bare_year(m: re.Match[str], published: datetime.date | None) -> ResolvedDate:
    return _year(int(m["year"]))


_Builder = Callable[[re.Match[str], datetime.date | None], ResolvedDate | None]
_AnchoredBuilder = Callable[[re.Match[str], datetime.date], ResolvedDate | None]


def _anchored(build: _AnchoredBuilder) -> _Builder:
    """Wrap a builder that needs a publication date so that it yields nothing without one."""

    def wrapper(m: re.Match[str], published: datetime.date | None) -> ResolvedDate | None:
        return None if published is None else build(m, published)

    return wrapper


# Within one precision, earlier rules win ('Friday, Feb. 24' is Feb. 24), then earlier text.
_RULES: tuple[tuple[re.Pattern[str], _Builder], ...] = (
    (_ISO_RE, _iso),
    (_MDY_RE, _month_day),
    (_DMY_RE, _month_day),
    (_MY_RE, _month_year),
    (_BARE_MONTH_RE, _anchored(_bare_month)),
    (_BARE_YEAR_RE, _bare_year),
    (_REL_DAY_RE, _anchored(_relative_day)),
    (_WEEKDAY_RE, _anchored(_weekday)),
    (_AGO_RE, _anchored(_ago)),
    (_UNIT_RE, _anchored(_unit)),
)


def resolve_date(text: str, published: datetime.date | None) -> ResolvedDate:
    """Resolve a date as written ('last week', 'on Feb. 24') against the publication date.

    ``published`` may be None: then only dates that carry their own year resolve. A
    ``datetime.datetime`` is used as its ``.date()``. Never raises; returns UNKNOWN instead.
    """
    if not isinstance(text, str) or not text.strip():
        return UNKNOWN
    if isinstance(published, datetime.datetime):
        published = published.date()
    elif not isinstance(published, datetime.date):
        published = None  # not a date at all: resolve as if no anchor were known
    norm = re.sub(r"\s+", " ", text.lower().replace("\u2019", "'")).strip()
    best: tuple[int, int, int, ResolvedDate] | None = None
    for index, (regex, build) in enumerate(_RULES):
        for m in regex.finditer(norm):
            try:
                resolved = build(m, published)
            except (ValueError, OverflowError, KeyError) as exc:  # e.g. 'Feb. 31'
                logger.debug("skipping unresolvable date %r: %s", m.group(0), exc)
                continue
            if resolved is None:
                continue
            key = (_RANK[resolved.precision], index, m.start())
            if best is None or key < best[:3]:
                best = (*key, resolved)
    return best[3] if best is not None else UNKNOWN


def parse_date_line(text: str) -> tuple[datetime.date | None, str]:
    """Read a leading date line ('date 2025-08-27 ...'); return the date and the text after it."""
    head = _DATE_LINE_RE.match(text)
    if head is None:
        return None, text
    rest = text[head.end() :]
    for regex in (_ISO_RE, _MDY_RE, _DMY_RE):
        m = regex.match(rest.lower())
        if m is None or not m["year"]:
            continue
        month = int(m["mon"]) if m["mon"].isdigit() else _month_num(m["mon"])
        try:
            found = datetime.date(int(m["year"]), month, int(m["day"]))
        except ValueError:
            return None, text
        return found, rest[m.end() :].lstrip()
    return None, text
