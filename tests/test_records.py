"""Flat rows for analysts: `to_records` (read by pandas as it is) and `extract --format csv`.

The full result comes from replaying tests/cassettes/test_extractor/
test_clean_extraction_of_shared_article.yaml, whose reply was written by hand (tests/handwritten/);
other results here are HAND-BUILT where they are used.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from extractor import Actor, ArticleExtraction, Extraction, Quote, QuoteKind, Span
from extractor.cli import app
from extractor.records import (
    ARTICLE_COLUMNS,
    article_records,
    extraction_records,
    records_csv,
    spreadsheet_safe,
)
from extractor.render import to_csv

from conftest import ARTICLE_PATH, RECORDED
from people_schema import People, Person

runner = CliRunner()
ARTICLE = ARTICLE_PATH


pytestmark = pytest.mark.usefixtures("no_live_credentials")


def full_result() -> ArticleExtraction:
    """The example article extracted with every record type (inside a vcr-marked test)."""
    out = runner.invoke(
        app, ["extract", str(ARTICLE), "--format", "json", "--base-url", "http://127.0.0.1:8799/v1"]
    )
    assert out.exit_code == 0, out.output
    return ArticleExtraction.model_validate_json(out.stdout)


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_rows_of_every_record_read_by_pandas() -> None:
    result = full_result()
    rows = result.to_records()
    assert rows == article_records(result)
    text = ARTICLE.read_text(encoding="utf-8")

    frame = pd.DataFrame(rows)
    assert list(frame.columns) == list(ARTICLE_COLUMNS)
    assert len(frame) == len(result.events) + len(result.quotes) + len(result.commitments)
    assert frame["type"].value_counts().to_dict() == {
        "event": len(result.events),
        "quote": len(result.quotes),
        "commitment": len(result.commitments),
    }
    assert set(frame["article"]) == {str(ARTICLE)}
    for row in rows:
        assert text[row["start"] : row["end"]] == row["text"]  # offsets index the file
    quotes = frame[frame["type"] == "quote"]
    assert list(quotes["speaker"]) == [q.speaker.name for q in result.quotes]
    assert list(quotes["confirmed"]) == [True] * len(result.quotes)
    refusals = frame[(frame["type"] == "commitment") & (frame["polarity"] == "will_not")]
    assert any("boots on the ground" in e for e in refusals["text"])
    events = frame[frame["type"] == "event"]
    assert events["date"].map(lambda d: d is None or isinstance(d, dt.date)).all()
    assert events["speaker"].isna().all() and events["actors"].notna().any()


@pytest.mark.vcr(str(RECORDED / "test_clean_extraction_of_shared_article.yaml"))
def test_extract_format_csv_has_one_row_per_record() -> None:
    out = runner.invoke(
        app, ["extract", str(ARTICLE), "--format", "csv", "--base-url", "http://127.0.0.1:8799/v1"]
    )
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    frame = pd.read_csv(io.StringIO(out.stdout))
    assert list(frame.columns) == list(ARTICLE_COLUMNS) and len(frame) == len(rows) == 18
    text = ARTICLE.read_text(encoding="utf-8")
    for row in rows:
        assert text[int(row["start"]) : int(row["end"])] == row["text"]


def test_extract_format_csv_offline_gives_the_rules_quotes() -> None:
    out = runner.invoke(app, ["extract", str(ARTICLE), "--format", "csv"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 7 and {row["type"] for row in rows} == {"quote"}
    assert rows[0]["speaker"] == "Dmitry Peskov" and rows[0]["start"] == "357"
    assert {row["confirmed"] for row in rows} == {"False"}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_spreadsheet_formulas_are_written_as_text(value: str, cell: str) -> None:
    assert spreadsheet_safe(value) == cell


def test_csv_cells_are_safe_and_round_trip(tmp_path: Path) -> None:
    text = '=cmd|" /C calc"!A0 said "line one\nline two" and "\x1b[2J" too.'
    start = text.index("line one")
    # HAND-BUILT: a quote over two lines by a speaker whose name is a formula.
    quote = Quote(
        text=text[start : start + 17],
        speaker=Actor(name='=cmd|" /C calc"!A0', role="-role"),
        kind=QuoteKind.DIRECT,
        span=Span(start=start, end=start + 17, text=text[start : start + 17]),
    )
    escape = text.index("\x1b")
    second = quote.model_copy(
        update={
            "text": "\x1b[2J",
            "span": Span(start=escape, end=escape + 4, text="\x1b[2J"),
        }
    )
    rows = list(csv.DictReader(io.StringIO(to_csv(ArticleExtraction(quotes=[quote, second])))))
    assert rows[0]["speaker"] == '\'=cmd|" /C calc"!A0' and rows[0]["role"] == "'-role"
    assert rows[0]["text"] == "line one\nline two"  # a newline stays inside its quoted cell
    assert rows[1]["text"] == "\\x1b[2J"  # shown, never obeyed, as everywhere the CLI prints
    assert rows[0]["start"] == str(start) and rows[0]["article"] == ""


def test_rows_of_a_callers_schema() -> None:
    text = 'Ann Lee said "yes". Bob Roy said "no".'
    # HAND-BUILT: an extraction into the caller's schema of tests/people_schema.py.
    people = People(
        people=[
            Person(name="Ann Lee", quote="yes", span=Span(start=14, end=17, text="yes")),
            Person(name="Bob Roy", quote="no", span=Span(start=34, end=36, text="no")),
        ]
    )
    result = Extraction[People](
        data=people,
        spans={"people[0].quote": people.people[0].span, "people[1].quote": people.people[1].span},
    )
    rows = result.to_records(article="a.txt")
    assert rows == extraction_records(result, article="a.txt")
    assert rows == [
        {
            "article": "a.txt",
            "type": "people",
            "path": "people[0].quote",
            "text": "yes",
            "start": 14,
            "end": 17,
            "alignment": "exact",
            "name": "Ann Lee",
            "quote": "yes",
        },
        {
            "article": "a.txt",
            "type": "people",
            "path": "people[1].quote",
            "text": "no",
            "start": 34,
            "end": 36,
            "alignment": "exact",
            "name": "Bob Roy",
            "quote": "no",
        },
    ]
    for row in rows:
        assert text[row["start"] : row["end"]] == row["text"]
    assert list(pd.DataFrame(rows)["name"]) == ["Ann Lee", "Bob Roy"]
    header = records_csv(rows).splitlines()[0]
    assert header == "article,type,path,text,start,end,alignment,name,quote"


def test_rows_of_the_builtin_schema_inside_an_extraction() -> None:
    # HAND-BUILT: the built-in result wrapped as Extraction.data gives the built-in rows.
    inner = ArticleExtraction(
        quotes=[
            Quote(
                text="yes",
                speaker=Actor(name="Ann Lee"),
                kind=QuoteKind.PARTIAL,
                span=Span(start=14, end=17, text="yes"),
            )
        ]
    )
    rows = Extraction[ArticleExtraction](data=inner).to_records(article="x")
    assert rows == inner.to_records(article="x") == article_records(inner, article="x")
    assert json.dumps(rows)  # plain values only (no dates here)
