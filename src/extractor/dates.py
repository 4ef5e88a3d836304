"""Resolve dates written in news articles ('last week', 'on Feb. 24') against a publish date.

Rules:

* An impossible date ('Feb. 30', 'on 31 June', '2025-02-30', 'Feb. 29' falling in a year
  without one) makes the whole text UNKNOWN; its month is not reported instead. A number after
  a month that cannot be a day ('in June 45 people') is not read as one.
* Words beat inference. A year the text names ('in 2022', "last year's", 'two years ago',
  'next year') is the year of a month and day or a month written without one ("last year's
  summit on Sept. 12" is 2024-09-12 in an article of 2025-08-27); a text naming two different
  years leaves such a day or month unresolved. 'N years ago today / this week / this month' is
  that day, week or month N years back. Likewise a week the text names ('last week', 'two weeks
  ago', 'the week before last') holds a bare weekday: 'last week, on Monday' is 2025-08-18.
* A month and day with no year ('on Jan. 2') and a bare month ('in October') go to the nearest
  year in the direction of tense. Past, the default: the latest one starting at most 31 days
  after publication ('Jan. 2' in an article of 2025-12-30 is 2026-01-02; 'Sept. 28' in one of
  2025-08-27 is 2024-09-28). Future: the earliest one ending at most 31 days before it. The
  tense is ``tense=`` when given (an event passes its status), else future when the text says
  so ('will', 'next', 'scheduled', 'from now', ...) and has no word of the past ('ago', 'was').
* A bare weekday ('Friday') is the latest on or before publication (past) or the first on or
  after it (future); 'last Friday' is before publication day, 'next Friday' after it, and
  'this Friday' is the Friday of the publication's week (Monday to Sunday).
* 'last <month>' is the most recent such month strictly before the publication month
  ('last August' in an article of 2025-08-27 is August 2024); 'this <month>' is that month
  of the publication year; 'next <month>' is the first such month after the publication month.
* Ranges keep both ends at the precision of their ends: 'March 3-5', '3-5 March',
  'March 30-April 2', 'Dec. 30-Jan. 2' (the end rolls into the next year), '2025-08-01 to
  2025-08-05', 'between March and May', 'between 2019 and 2021', '2019-21', '2021/22'.
* Several dates in one text: the most precise wins (day, week, month, year); among equals, a
  whole expression (a range, 'two years ago this month') beats its parts, a written date beats
  a relative one, and then the earlier in the text wins.
* Without a publication date, only expressions that carry their own year resolve
  ('2025-02-24', 'Feb. 24, 2025', 'March 2024', 'in 2022', 'in 2022, on Feb. 24'); relative
  ones ('last week', 'Wednesday', 'Feb. 24') are UNKNOWN. A ``datetime.datetime`` counts as
  its ``.date()``.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from extractor import date_patterns as pat

logger = logging.getLogger(__name__)

__all__ = ["DatePrecision", "ResolvedDate", "Tense", "parse_date_line", "resolve_date"]

Tense = Literal["past", "future"]


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
_MAX_DAY = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # in any year
_SLACK = datetime.timedelta(days=31)
_SAFE_CTX = ("in", "since", "during", "until", "early", "late", "mid", "last", "next", "through")
_SHIFT = {"this": 0, "last": -1, "previous": -1, "next": 1}
_REL_DAY_OFFSET = {
    "day before yesterday": -2,
    "night before last": -2,
    "yesterday": -1,
    "last night": -1,
    "tomorrow": 1,
    "day after tomorrow": 2,
}


class _Impossible(Exception):
    """A written date that no calendar has ('Feb. 30'): the whole text is unknown."""


@dataclass(frozen=True)
class _Context:
    """What every rule may use: the anchor, the tense, and the year the text names."""

    published: datetime.date | None
    future: bool
    years: frozenset[int]  # every year the text names, written or relative
    weeks: frozenset[datetime.date]  # the Monday of every week it names ('last week')


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
    return pat.MONTHS.index(name[:3].lower()) + 1


def _day_of_month(text: str, month: int) -> int | None:
    """A day number after a month; None if it is no day (0, 45); `_Impossible` for 'Feb. 30'."""
    day = int(text)
    if not 1 <= day <= 31:
        return None
    if day > _MAX_DAY[month - 1]:
        raise _Impossible(f"no month {month} has a day {day}")
    return day


def _date(year: int, month: int, day: int) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:  # Feb. 29 in a common year, month 13
        raise _Impossible(str(exc)) from None


def _count(word: str) -> int:
    return int(word) if word.isdigit() else pat.NUMBERS[word]


def _year_of(month: int, first: int, last: int, ctx: _Context) -> int | None:
    """The year of a month (days ``first``..``last``) written without one; None if unknowable."""
    if len(ctx.years) == 1:
        return next(iter(ctx.years))  # a year the text names beats inference
    if ctx.years or ctx.published is None:
        return None  # two years named, or no anchor: do not guess
    pub = ctx.published
    years = range(pub.year - 1, pub.year + 2)

    def on(y: int, day: int) -> datetime.date:  # Feb. 29 counts as Feb. 28 in a common year
        return datetime.date(y, month, min(day, calendar.monthrange(y, month)[1]))

    if ctx.future:  # the earliest one ending at most 31 days before publication
        return next(y for y in years if on(y, last) >= pub - _SLACK)
    return next(y for y in reversed(years) if on(y, first) <= pub + _SLACK)


def _iso(m: re.Match[str], ctx: _Context) -> ResolvedDate:
    return _day(_date(int(m["year"]), int(m["mon"]), int(m["day"])))


def _month_day(m: re.Match[str], ctx: _Context) -> ResolvedDate | None:
    month = _month_num(m["mon"])
    day = _day_of_month(m["day"], month)
    if day is None:
        return None
    year = int(m["year"]) if m["year"] else _year_of(month, day, day, ctx)
    return None if year is None else _day(_date(year, month, day))


def _joined(m: re.Match[str], to_needs_from: bool = False) -> bool:
    """Whether the words between two dates make a range ('and' needs 'between' before it)."""
    sep = m["sep"].strip()
    if sep == "and" or (sep == "to" and to_needs_from):  # "they march to May Square"
        return m["from"] is not None and (sep != "and" or m["from"].startswith("between"))
    return True


def _ends(
    m: re.Match[str], m1: int, days: tuple[int, int], m2: int, ctx: _Context
) -> tuple[int, int] | None:
    """The years of a range's ends: as written, or the first end's (``days`` of ``m1``)."""
    rolls = int(m2 < m1)  # 'Dec. 30-Jan. 2': the end is in the next year
    y1, y2 = (int(y) if y else None for y in (m["y1"], m["y2"]))
    if y1 is None and y2 is not None:
        y1 = y2 - rolls
    if y1 is None:
        y1 = _year_of(m1, days[0], days[1], ctx)
    return None if y1 is None else (y1, y2 if y2 is not None else y1 + rolls)


def _day_range(m: re.Match[str], ctx: _Context) -> ResolvedDate | None:
    if not _joined(m):
        return None
    m2 = _month_num(m["m2"] or m["m1"])
    m1 = _month_num(m["m1"]) if m["m1"] else m2
    d1, d2 = _day_of_month(m["d1"], m1), _day_of_month(m["d2"], m2)
    years = None if d1 is None or d2 is None else _ends(m, m1, (d1, d1), m2, ctx)
    if years is None or d1 is None or d2 is None:
        return None
    start, end = _date(years[0], m1, d1), _date(years[1], m2, d2)
    return ResolvedDate(start, end, DatePrecision.DAY) if start < end else None


def _month_range(m: re.Match[str], ctx: _Context) -> ResolvedDate | None:
    if not _joined(m, to_needs_from=m["m1"] in ("may", "march")):  # 'march to', a verb
        return None
    m1, m2 = _month_num(m["m1"]), _month_num(m["m2"])
    years = _ends(m, m1, (1, _MAX_DAY[m1 - 1]), m2, ctx)
    if years is None or (years[1], m2) <= (years[0], m1):
        return None
    start, end = _month(years[0], m1).start, _month(years[1], m2).end
    return ResolvedDate(start, end, DatePrecision.MONTH)


def _iso_range(m: re.Match[str], ctx: _Context) -> ResolvedDate | None:
    start = _date(int(m["y1"]), int(m["m1"]), int(m["d1"]))
    end = _date(int(m["y2"]), int(m["m2"]), int(m["d2"]))
    return ResolvedDate(start, end, DatePrecision.DAY) if _joined(m) and start < end else None


def _year_range(m: re.Match[str], ctx: _Context) -> ResolvedDate | None:
    if not _joined(m) or (m["yy"] and m["sep"].strip() not in ("-", "/")):
        return None
    y1 = int(m["y1"])
    y2 = int(m["y2"]) if m["y2"] else y1 // 100 * 100 + int(m["yy"])  # '2019-21'
    return ResolvedDate(_year(y1).start, _year(y2).end, DatePrecision.YEAR) if y2 > y1 else None


def _shift_years(d: datetime.date, n: int) -> datetime.date:
    return d.replace(year=d.year + n, day=min(d.day, calendar.monthrange(d.year + n, d.month)[1]))


def _anniversary(m: re.Match[str], published: datetime.date, ctx: _Context) -> ResolvedDate:
    n, mod, now = m["n"] or m["n2"], m["mod"] or m["mod2"], m["now"] or m["now2"]
    anchor = _shift_years(published, _SHIFT[mod] if mod else -_count(n))
    if now.endswith("week"):
        return _week(anchor)
    return _month(anchor.year, anchor.month) if now.endswith("month") else _day(anchor)


def _relative_day(m: re.Match[str], published: datetime.date, ctx: _Context) -> ResolvedDate:
    return _day(published + datetime.timedelta(days=_REL_DAY_OFFSET.get(m["word"], 0)))


def _weekday(m: re.Match[str], published: datetime.date, ctx: _Context) -> ResolvedDate | None:
    target, today = pat.WEEKDAYS.index(m["wd"]), published.weekday()
    if m["mod"] is None and ctx.weeks:  # 'last week, on Monday': the week named wins
        if len(ctx.weeks) > 1:
            return None
        return _day(next(iter(ctx.weeks)) + datetime.timedelta(days=target))
    if m["mod"] == "this":  # the one in the publication's week, Monday to Sunday
        delta = target - today
    elif m["mod"] == "next" or (m["mod"] is None and ctx.future):
        delta = (target - today) % 7 or (7 if m["mod"] else 0)
    else:  # on or before publication; 'last X' said on an X means a week earlier
        delta = -((today - target) % 7) or (-7 if m["mod"] else 0)
    return _day(published + datetime.timedelta(days=delta))


def _shift(published: datetime.date, unit: str, n: int) -> ResolvedDate:
    if unit == "day":
        return _day(published + datetime.timedelta(days=n))
    if unit == "week":
        return _week(published + datetime.timedelta(weeks=n))
    if unit == "month":
        return _month(published.year, published.month + n)
    return _year(published.year + n)


def _ago(m: re.Match[str], published: datetime.date, ctx: _Context) -> ResolvedDate:
    n = _count(m["n"])
    return _shift(published, m["unit"], -n if m["dir"] == "ago" else n)


def _unit(m: re.Match[str], published: datetime.date, ctx: _Context) -> ResolvedDate:
    return _shift(published, m["unit"], _SHIFT[m["mod"]])


def _before_last(m: re.Match[str], published: datetime.date, ctx: _Context) -> ResolvedDate:
    return _shift(published, m["unit"], -2)


def _month_year(m: re.Match[str], ctx: _Context) -> ResolvedDate:
    return _month(int(m["year"]), _month_num(m["mon"]))


def _bare_month(m: re.Match[str], ctx: _Context) -> ResolvedDate | None:
    name, published = m["name"].rstrip("."), ctx.published
    if name in ("may", "march") and m["ctx"] not in _SAFE_CTX:
        followed_by_year = pat.YEAR_AFTER_RE.match(m.string, m.end()) is not None
        if not followed_by_year and m.string.strip(" .,;:!?") != name:
            return None  # too likely to be the verb ('this may take', 'a march')
    month = _month_num(name)
    if m["ctx"] not in ("next", "last", "this"):
        year = _year_of(month, 1, _MAX_DAY[month - 1], ctx)
        return None if year is None else _month(year, month)
    if published is None:
        return None
    if m["ctx"] == "next":
        return _month(published.year + int(month <= published.month), month)
    if m["ctx"] == "last":
        return _month(published.year - int(month >= published.month), month)
    return _month(published.year, month)


def _bare_year(m: re.Match[str], ctx: _Context) -> ResolvedDate:
    return _year(int(m["year"]))


_Builder = Callable[[re.Match[str], _Context], ResolvedDate | None]
_AnchoredBuilder = Callable[[re.Match[str], datetime.date, _Context], ResolvedDate | None]


def _anchored(build: _AnchoredBuilder) -> _Builder:
    """Wrap a builder that needs a publication date so that it yields nothing without one."""

    def wrapper(m: re.Match[str], ctx: _Context) -> ResolvedDate | None:
        return None if ctx.published is None else build(m, ctx.published, ctx)

    return wrapper


# Within one precision, earlier rules win ('Friday, Feb. 24' is Feb. 24), then earlier text.
_RULES: tuple[tuple[re.Pattern[str], _Builder], ...] = (
    (pat.ISO_RANGE_RE, _iso_range),
    (pat.MDY_RANGE_RE, _day_range),
    (pat.DMY_RANGE_RE, _day_range),
    (pat.ANNIVERSARY_RE, _anchored(_anniversary)),
    (pat.ISO_RE, _iso),
    (pat.MDY_RE, _month_day),
    (pat.DMY_RE, _month_day),
    (pat.MONTH_RANGE_RE, _month_range),
    (pat.MY_RE, _month_year),
    (pat.BARE_MONTH_RE, _bare_month),
    (pat.YEAR_RANGE_RE, _year_range),
    (pat.BARE_YEAR_RE, _bare_year),
    (pat.REL_DAY_RE, _anchored(_relative_day)),
    (pat.WEEKDAY_RE, _anchored(_weekday)),
    (pat.AGO_RE, _anchored(_ago)),
    (pat.UNIT_RE, _anchored(_unit)),
    (pat.BEFORE_LAST_RE, _anchored(_before_last)),
)


def _context(norm: str, published: datetime.date | None, tense: object) -> _Context:
    """Read the tense, and the years and weeks the text names."""
    if tense not in ("past", "future"):
        tense = "future" if pat.FUTURE_RE.search(norm) and not pat.PAST_RE.search(norm) else "past"
    years = {int(m["year"]) for m in pat.BARE_YEAR_RE.finditer(norm)}
    weeks: set[datetime.date] = set()
    if published is not None:
        named = [(m["unit"], _SHIFT[m["mod"]]) for m in pat.UNIT_RE.finditer(norm)]
        named += [(m["unit"], -2) for m in pat.BEFORE_LAST_RE.finditer(norm)]
        named += [
            (m["unit"], (-1 if m["dir"] == "ago" else 1) * _count(m["n"]))
            for m in pat.AGO_RE.finditer(norm)
        ]
        years.update(published.year + n for unit, n in named if unit == "year")
        for unit, n in named:
            if unit == "week":
                with contextlib.suppress(OverflowError):  # '999 weeks ago' in year 1
                    day = published + datetime.timedelta(weeks=n)
                    weeks.add(day - datetime.timedelta(days=day.weekday()))
    return _Context(published, tense == "future", frozenset(years), frozenset(weeks))


def resolve_date(
    text: str, published: datetime.date | None, *, tense: Tense | None = None
) -> ResolvedDate:
    """Resolve a date as written ('last week', 'on Feb. 24') against the publication date.

    ``published`` may be None: then only dates that carry their own year resolve. A
    ``datetime.datetime`` is used as its ``.date()``. ``tense`` ('past' or 'future') says which
    way a day or month without a year leans; None reads it from the text (past by default).
    Never raises; returns UNKNOWN instead, and for an impossible date ('Feb. 30').
    """
    if not isinstance(text, str) or not text.strip():
        return UNKNOWN
    if isinstance(published, datetime.datetime):
        published = published.date()
    elif not isinstance(published, datetime.date):
        published = None  # not a date at all: resolve as if no anchor were known
    norm = re.sub(r"\s+", " ", text.lower().replace("\u2019", "'"))
    norm = re.sub(r"[\u2010-\u2015\u2212]", "-", norm).strip()
    ctx = _context(norm, published, tense)
    best: tuple[int, int, int, ResolvedDate] | None = None
    for index, (regex, build) in enumerate(_RULES):
        for m in regex.finditer(norm):
            try:
                resolved = build(m, ctx)
            except _Impossible as exc:
                logger.debug("impossible date %r: %s", m.group(0), exc)
                return UNKNOWN
            except (ValueError, OverflowError, KeyError) as exc:  # e.g. year 10000
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
    head = pat.DATE_LINE_RE.match(text)
    if head is None:
        return None, text
    rest = text[head.end() :]
    for regex in (pat.ISO_RE, pat.MDY_RE, pat.DMY_RE):
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
