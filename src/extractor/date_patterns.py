"""The regular expressions that find dates written in English news text (see `extractor.dates`).

Each pattern runs on lower-cased text with dashes folded to '-' and white space to one space.
Group names are what `extractor.dates` reads: month names in ``mon``/``m1``/``m2``/``name``,
day numbers in ``day``/``d1``/``d2``, four-digit years in ``year``/``y1``/``y2``.
"""

from __future__ import annotations

import re

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBER_WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
NUMBERS = {"a": 1, "an": 1, **{w: i for i, w in enumerate(_NUMBER_WORDS, 1)}}


def _mon(group: str) -> str:
    """A month name or abbreviation, with an optional trailing dot ('Feb.', 'Sept', 'May')."""
    return (
        rf"(?P<{group}>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
        r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
    )


def _month_word(group: str) -> str:
    """A month name in full, or an abbreviation with its dot: safer than `_mon` on its own."""
    return (
        rf"(?P<{group}>(?:january|february|march|april|may|june|july|august|september|october"
        r"|november|december)\b|(?:jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.)"
    )


def _dd(group: str) -> str:
    return rf"(?P<{group}>\d{{1,2}})(?:st|nd|rd|th)?(?!\d)"


def _yyyy(group: str) -> str:
    return rf"(?P<{group}>(?:19|20)\d\d|2100)(?!\d)"


_COUNT = rf"\d{{1,3}}|{'|'.join(NUMBERS)}"
_SEP = r"(?P<sep>\s*-+\s*|\s+(?:to|through|thru|until|till|and)\s+)"
_YEAR_SEP = _SEP.replace("-+", "[-/]")  # '2021/22' too
_FROM = r"(?P<from>\b(?:between|from)\s+)?"
ISO_RE = re.compile(r"(?<![\d-])(?P<year>\d{4})-(?P<mon>\d{1,2})-(?P<day>\d{1,2})(?![\d-])")
ISO_RANGE_RE = re.compile(
    rf"(?<![\d-])(?P<y1>\d{{4}})-(?P<m1>\d{{1,2}})-(?P<d1>\d{{1,2}}){_SEP}"
    r"(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})(?![\d-])"
)
MDY_RE = re.compile(rf"\b{_mon('mon')}\s*{_dd('day')}(?:,?\s*{_yyyy('year')})?")
DMY_RE = re.compile(
    rf"(?<![\d.,])\b{_dd('day')}\s+(?:of\s+)?{_mon('mon')}(?:,?\s*{_yyyy('year')})?"
)
MY_RE = re.compile(rf"\b{_mon('mon')}\s*,?\s*(?:of\s+)?{_yyyy('year')}")
MDY_RANGE_RE = re.compile(
    rf"{_FROM}\b{_mon('m1')}\s*{_dd('d1')}(?:,?\s*{_yyyy('y1')})?{_SEP}"
    rf"(?:{_mon('m2')}\s*)?{_dd('d2')}(?:,?\s*{_yyyy('y2')})?"
)
DMY_RANGE_RE = re.compile(
    rf"{_FROM}(?<![\d.,])\b{_dd('d1')}(?:\s+{_mon('m1')}(?:,?\s*{_yyyy('y1')})?)?{_SEP}"
    rf"{_dd('d2')}\s+(?:of\s+)?{_mon('m2')}(?:,?\s*{_yyyy('y2')})?"
)
MONTH_RANGE_RE = re.compile(
    rf"{_FROM}\b{_month_word('m1')}(?:,?\s*{_yyyy('y1')})?{_SEP}{_month_word('m2')}"
    rf"(?:,?\s*{_yyyy('y2')})?"
)
YEAR_RANGE_RE = re.compile(
    rf"{_FROM}(?<![\d,.$/-])\b{_yyyy('y1')}{_YEAR_SEP}(?:{_yyyy('y2')}|(?P<yy>\d\d))(?![\d-])"
)
BARE_MONTH_RE = re.compile(
    r"(?:\b(?P<ctx>in|since|during|until|by|of|from|early|late|mid|last|this|next|before|after"
    rf"|through)[\s-]+)?\b{_month_word('name')}"
)
YEAR_AFTER_RE = re.compile(r"\s*,?\s*(?:of\s+)?(?:(?:last|this|next|the previous) year|\d{4})")
BARE_YEAR_RE = re.compile(r"(?<![\d,.$/-])\b(?P<year>(?:19|20)\d\d|2100)(?![\d-]|s\b)")
REL_DAY_RE = re.compile(
    r"\b(?:the )?(?P<word>day before yesterday|day after tomorrow|night before last|today"
    r"|tonight|this (?:morning|afternoon|evening)|yesterday|last night|tomorrow)\b"
)
WEEKDAY_RE = re.compile(rf"\b(?:(?P<mod>last|next|this|past)\s+)?(?P<wd>{'|'.join(WEEKDAYS)})\b")
AGO_RE = re.compile(
    rf"\b(?P<n>{_COUNT})\s+(?P<unit>day|week|month|year)s?\s+(?P<dir>ago|from now)\b"
)
UNIT_RE = re.compile(r"\b(?P<mod>this|last|previous|next)\s+(?P<unit>week|month|year)\b")
BEFORE_LAST_RE = re.compile(r"\b(?P<unit>week|month|year) before last\b")
ANNIVERSARY_RE = re.compile(  # 'two years ago this month', 'this week last year'
    rf"\b(?:(?:(?P<n>{_COUNT})\s+years?\s+ago|(?P<mod>last|next) year)\s*,?\s*(?:on\s+)?"
    r"(?P<now>today|this (?:day|week|month))"
    r"|(?P<now2>today|this (?:day|week|month))\s*,?\s*"
    rf"(?:(?P<n2>{_COUNT})\s+years?\s+ago|(?P<mod2>last|next) year))\b"
)
FUTURE_RE = re.compile(
    r"\b(?:will|shall|next|upcoming|coming|scheduled|planned|from now|later this)\b|'ll\b"
)
PAST_RE = re.compile(r"\b(?:ago|last|was|were|had|earlier|previous|previously|past)\b")
DATE_LINE_RE = re.compile(r"\A\s*date\b\s*:?[ \t]*", re.IGNORECASE)
