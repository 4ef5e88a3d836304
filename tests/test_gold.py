"""The gold format and the prediction files `extractor eval` reads (extractor.gold)."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from extractor import ArticleExtraction, InputError, extract_offline
from extractor.gold import (
    GoldArticle,
    GoldQuote,
    GoldSpan,
    Prediction,
    pair_predictions,
    read_gold,
    read_predictions,
    write_gold,
)

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "gold"
TEXT = 'Mayor Ann Lee said: "We will open the bridge." Critics disagreed.'


def quote_at(text: str, passage: str, speaker: str | None = "Ann Lee") -> GoldQuote:
    start = text.index(passage)
    return GoldQuote(
        span=GoldSpan(start=start, end=start + len(passage), text=passage), speaker=speaker
    )


def test_span_text_must_fit_its_offsets() -> None:
    with pytest.raises(ValidationError, match="end - start"):
        GoldSpan(start=0, end=3, text="ab")
    with pytest.raises(ValidationError, match="not after its start"):
        GoldSpan(start=4, end=4, text="")


def test_an_article_has_text_or_path_not_both() -> None:
    with pytest.raises(ValidationError, match="exactly one of 'text' and 'path'"):
        GoldArticle(id="a")
    with pytest.raises(ValidationError, match="exactly one of 'text' and 'path'"):
        GoldArticle(id="a", text="x", path="a.txt")


def test_write_then_read_gives_the_same_articles(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    articles = [
        GoldArticle(id="a", path="a.txt", quotes=[quote_at(TEXT, "We will open the bridge.")]),
        GoldArticle(id="b", text="Nothing said.", annotated=["events"]),
    ]
    write_gold(articles, tmp_path / "gold.jsonl")
    loaded = read_gold(tmp_path / "gold.jsonl")
    assert [g.article for g in loaded] == articles
    assert loaded[0].text == TEXT and loaded[1].text == "Nothing said."


def test_a_span_that_is_not_the_text_is_refused_naming_it(tmp_path: Path) -> None:
    bad = GoldArticle(
        id="a",
        text=TEXT,
        quotes=[GoldQuote(span=GoldSpan(start=0, end=5, text="Ann L"), speaker="Ann Lee")],
    )
    write_gold([bad], tmp_path / "gold.jsonl")
    with pytest.raises(InputError, match=r"'a': quotes\[0\] says 'Ann L' at 0-5, but the text"):
        read_gold(tmp_path / "gold.jsonl")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"id": "a"}\n',
            r"gold.jsonl:1: not a gold article: give exactly one of",
        ),
        ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', "id 'a' appears twice"),
        ("\n\n", "holds no article"),
        ('{"id": "a", "path": "missing.txt"}\n', "no such file"),
        ('{"id": "a", "text": "x", "colour": 1}\n', "colour"),
    ],
)
def test_bad_gold_files_are_refused_with_the_line(
    tmp_path: Path, content: str, message: str
) -> None:
    (tmp_path / "gold.jsonl").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_gold(tmp_path / "gold.jsonl")


def test_read_gold_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such gold file"):
        read_gold(tmp_path / "nope.jsonl")


def test_the_shipped_gold_set_reads_and_every_span_is_its_text() -> None:
    loaded = read_gold(GOLD / "gold.jsonl")
    assert len(loaded) >= 5
    for item in loaded:
        for _label, span in item.article.spans():
            assert item.text[span.start : span.end] == span.text
    readme = (GOLD / "README.md").read_text(encoding="utf-8")
    for item in loaded:
        assert item.article.path is not None and Path(item.article.path).name in readme
    example = next(g for g in loaded if g.article.id == "peacekeepers-2025-08-27")
    assert (len(example.article.quotes), len(example.article.events)) == (13, 9)


def test_shipped_events_are_dated_against_the_date_line() -> None:
    """docs/eval.md's rule: a statement made 'today' (or a release's statement) is the article's
    date; 'later this year' runs from the article's date to the year's end."""
    import datetime as dt

    checked = 0
    for item in read_gold(GOLD / "gold.jsonl"):
        published = item.article.published
        for ev in item.article.events:
            said = ev.span.text
            if "today said" in said or "issued the following statement" in said:
                assert (ev.date, ev.date_end) == (published, published), said
                checked += 1
            if "later this year" in said:
                assert published is not None
                assert (ev.date, ev.date_end) == (published, dt.date(published.year, 12, 31))
                checked += 1
    assert checked == 3  # Hagel's statement and 'later this year', Holdren's statement


def test_the_shipped_gold_is_what_annotate_py_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["annotate.py", "--check"])
    module = runpy.run_path(str(GOLD / "annotate.py"))
    assert module["main"]() == 0


def _result(path: str) -> ArticleExtraction:
    from extractor.models import SourceText

    result = extract_offline(TEXT)
    return result.model_copy(update={"source": SourceText(path=path, length=len(TEXT))})


def test_an_extract_json_file_is_one_prediction(tmp_path: Path) -> None:
    file = tmp_path / "result.json"
    file.write_text(_result("news/a.txt").model_dump_json(indent=2), encoding="utf-8")
    [pred] = read_predictions(file)
    assert pred.source_path == "news/a.txt" and pred.id is None
    assert pred.result is not None and pred.result.quotes[0].text == "We will open the bridge."


def test_batch_lines_are_predictions_and_an_error_line_keeps_its_partial(tmp_path: Path) -> None:
    ok = {
        "id": "a.txt",
        "source": "news/a.txt",
        "result": json.loads(_result("news/a.txt").model_dump_json()),
        "usage": {},
        "timing": {"started": "2026-11-29T21:40:00Z", "seconds": 1.0},
    }
    failed = {
        "id": "b.txt",
        "source": "news/b.txt",
        "error": "ExtractionError",
        "message": "no reply grounded",
        "partial": None,
    }
    file = tmp_path / "results.jsonl"
    file.write_text("\n".join(json.dumps(x) for x in (ok, failed)) + "\n", encoding="utf-8")
    first, second = read_predictions(file)
    assert first.id == "a.txt" and first.result is not None and first.error is None
    assert second.result is None and second.error == "ExtractionError: no reply grounded"


def test_a_folder_of_result_files_is_read_whole(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(
            _result(f"{name}.txt").model_dump_json(), encoding="utf-8"
        )
    assert [p.source_path for p in read_predictions(tmp_path)] == ["a.txt", "b.txt"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty; expected 'extractor extract --format json' output"),
        ("{not json\n", "not JSON"),
        ('{"type": "quote", "text": "x"}\n{"type": "usage"}\n', "extract --format jsonl"),
        ('{"quotes": [{"text": 1}]}', "not an extraction result"),
        ("[1]", r"p\.json\[0\]: a JSON int, not a result object"),
    ],
)
def test_bad_prediction_files_are_refused(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "p.json").write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_predictions(tmp_path / "p.json")


def test_predictions_pair_by_id_then_file_then_name(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "b.txt").write_text(TEXT, encoding="utf-8")
    gold = read_gold_from(
        tmp_path,
        [
            GoldArticle(id="a", path="a.txt"),
            GoldArticle(id="b", path="b.txt"),
            GoldArticle(id="c", text=TEXT),
        ],
    )
    result = _result("x")
    preds = [
        Prediction(result, id="c"),
        Prediction(result, source_path=str(tmp_path / "a.txt")),
        Prediction(result, id="elsewhere/b.txt"),
        Prediction(result, id="d"),
    ]
    paired, left = pair_predictions(gold, preds, base=tmp_path)
    assert paired == {"c": preds[0], "a": preds[1], "b": preds[2]}
    assert left == [preds[3]]


def test_one_gold_article_and_one_anonymous_prediction_pair(tmp_path: Path) -> None:
    gold = read_gold_from(tmp_path, [GoldArticle(id="only", text=TEXT)])
    pred = Prediction(_result("somewhere-else.txt"), source_path="somewhere-else.txt")
    assert pair_predictions(gold, [pred])[0] == {"only": pred}


def read_gold_from(folder: Path, articles: list[GoldArticle]):  # type: ignore[no-untyped-def]
    write_gold(articles, folder / "gold.jsonl")
    return read_gold(folder / "gold.jsonl")


def test_a_result_beats_an_error_line_for_the_same_article(tmp_path: Path) -> None:
    gold = read_gold_from(tmp_path, [GoldArticle(id="a", text=TEXT)])
    failed = Prediction(None, id="a.txt", error="ExtractionError: cut off")
    done = Prediction(_result("a.txt"), id="a.txt")
    paired, left = pair_predictions(gold, [failed, done])
    assert paired == {"a": done} and left == [failed]
