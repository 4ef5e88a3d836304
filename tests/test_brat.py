"""brat standoff attributions read as gold quotes (extractor.brat), on tiny files written here.

The sentences are the test's own, not from any corpus.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor import InputError
from extractor.brat import (
    attributions,
    gold_quotes,
    parse_standoff,
    read_brat,
    source_name,
)
from extractor.evaluation import evaluate
from extractor.models import QuoteKind

# 0         1         2         3         4         5         6         7         8
# 012345678901234567890123456789012345678901234567890123456789012345678901234567890
TEXT = (
    '"The ferry will run again," Mayor Ann Lee said. "We found the money."\n\n'
    'Officials said the repairs were "nearly done" and cost less than planned.\n\n'
    "He added that the harbour stays open."
)


def spans_of(text: str, *passages: str) -> str:
    """brat offsets 'a b;c d' of the passages, each at its first occurrence."""
    pieces = []
    for passage in passages:
        start = text.index(passage)
        pieces.append(f"{start} {start + len(passage)}")
    return ";".join(pieces)


def ann_for(text: str) -> str:
    """Three attributions: a quote in two pieces, a paraphrase with a partial quote, a pronoun."""
    lines = [
        ("T1", "Source", ["Mayor Ann Lee"]),
        ("T2", "Cue", ["said"]),
        ("T3", "Content", ['"The ferry will run again,"', '"We found the money."']),
        ("T4", "Source", ["Officials"]),
        ("T5", "Cue", ["said"]),
        ("T6", "Content", ['the repairs were "nearly done" and cost less than planned']),
        ("T7", "Source", ["He"]),
        ("T8", "Cue", ["added"]),
        ("T9", "Content", ["the harbour stays open"]),
    ]
    out = []
    for ident, label, passages in lines:
        offsets = spans_of(text, *passages)
        if ident == "T5":  # the second 'said'
            start = text.index("said", text.index("Officials"))
            offsets = f"{start} {start + 4}"
        out.append(f"{ident}\t{label} {offsets}\t{' '.join(passages)}")
    out += [
        "T10\tAttribution 0 0\t",
        "E1\tAttribution:T10 Source:T1 Cue:T2 Content:T3",
        "E2\tAttribution:T10 Cue:T5 Source:T4 Content:T6",
        "E3\tAttribution:T10 Source:T7 Cue:T8 Content:T9",
        "A1\tConfidence E1 High",
        "#1\tAnnotatorNotes T1\ta note",
    ]
    return "\n".join(out) + "\n"


def test_standoff_lines_are_read_discontinuous_spans_included() -> None:
    doc = parse_standoff(ann_for(TEXT))
    assert len(doc.spans[("T3")].fragments) == 2
    first, second = doc.spans["T3"].fragments
    assert TEXT[first[0] : first[1]] == '"The ferry will run again,"'
    assert TEXT[second[0] : second[1]] == '"We found the money."'
    found = attributions(doc)
    assert [a.source.text if a.source else None for a in found] == [
        "Mayor Ann Lee",
        "Officials",
        "He",
    ]


def test_marked_quotes_are_the_words_inside_the_marks() -> None:
    quotes = gold_quotes(TEXT, attributions(parse_standoff(ann_for(TEXT))))
    assert [(q.span.text, q.kind, q.speaker) for q in quotes] == [
        ("The ferry will run again", QuoteKind.DIRECT, "Mayor Ann Lee"),  # end punctuation cut
        ("We found the money", QuoteKind.DIRECT, "Mayor Ann Lee"),
        ("nearly done", QuoteKind.PARTIAL, None),  # 'Officials': nominal, unnamed
    ]
    assert quotes[2].speaker_mention == "Officials"
    for quote in quotes:
        assert TEXT[quote.span.start : quote.span.end] == quote.span.text


def test_all_mode_adds_unmarked_speech_as_reported_with_its_fragments() -> None:
    text = "The plan, the minister said, is dead and buried."
    first, second = "The plan", "is dead and buried"
    ann = (
        f"T1\tSource {spans_of(text, 'the minister')}\tthe minister\n"
        f"T2\tContent {spans_of(text, first, second)}\t{first} {second}\n"
        "T3\tAttribution 0 0\t\nE1\tAttribution:T3 Source:T1 Content2:T2\n"
    )
    found = attributions(parse_standoff(ann))
    assert gold_quotes(text, found, "marked") == []
    [quote] = gold_quotes(text, found, "all")
    assert quote.kind is QuoteKind.REPORTED and quote.speaker is None
    assert [f.text for f in quote.fragments] == [first, second]
    assert (quote.span.start, quote.span.end) == (0, len(text) - 1)


def test_a_pronoun_source_leaves_the_speaker_unnamed_and_keeps_the_mention() -> None:
    quotes = gold_quotes(TEXT, attributions(parse_standoff(ann_for(TEXT))), "all")
    harbour = next(q for q in quotes if q.span.text == "the harbour stays open")
    assert (harbour.speaker, harbour.speaker_mention) == (None, "He")


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("Mayor Ann Lee", "Mayor Ann Lee"),
        ("Ann Lee, a councillor who runs the ferry board", "Ann Lee"),
        ("the port's director, Bo Diaz,", "Bo Diaz"),
        ("Rep. Ann Lee (D-Maine)", "Rep Ann Lee"),
        ("Sen. Bo Diaz of Ohio", "Sen Bo Diaz"),
        ("he", None),
        ("a source", None),
        ("officials", None),
        ("Officials", None),
        ("White House aides", None),
    ],
)
def test_source_name_reads_the_name_a_source_gives(source: str, name: str | None) -> None:
    assert source_name(source) == name


def write_corpus(folder: Path, *, crlf: bool = False) -> None:
    """PolNeAR's layout: text/NAME.txt and attributions/NAME_ANNOTATOR.ann (two annotators);
    `crlf`: the text with \\r\\n line ends, its offsets counting each \\r (as brat's do)."""
    text = TEXT.replace("\n", "\r\n") if crlf else TEXT
    (folder / "text").mkdir(parents=True)
    (folder / "attributions").mkdir()
    (folder / "text" / "ferry.txt").write_bytes(text.encode("utf-8"))
    (folder / "attributions" / "ferry_aaaa.ann").write_text(ann_for(text), encoding="utf-8")
    (folder / "attributions" / "ferry_bbbb.ann").write_text("", encoding="utf-8")


def test_read_brat_finds_texts_beside_or_in_a_text_folder(tmp_path: Path) -> None:
    write_corpus(tmp_path / "polnear")
    [article] = read_brat(tmp_path / "polnear")
    assert article.article.id == "ferry" and len(article.article.quotes) == 3  # first annotator
    assert article.article.annotated == ["quotes"]
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "ferry.txt").write_text(TEXT, encoding="utf-8")
    (flat / "ferry.ann").write_text(ann_for(TEXT), encoding="utf-8")
    assert read_brat(flat)[0].article.quotes == article.article.quotes


@pytest.mark.parametrize(
    ("ann", "message"),
    [
        ("T1\tSource 0 3\tXYZ\n", "T1 says 'XYZ'"),
        ("T1\tSource 0 x\tXYZ\n", "bad offsets"),
        ("T1\tSource 5 3\tXYZ\n", "ends before it starts"),
        ("E1\tAttribution\n", "bad event arguments"),
    ],
)
def test_bad_standoff_is_refused_naming_the_line(tmp_path: Path, ann: str, message: str) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "a.ann").write_text(ann, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        read_brat(tmp_path)


def test_read_brat_refuses_a_folder_without_annotations(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no \.ann file"):
        read_brat(tmp_path)
    (tmp_path / "lonely.ann").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"no \.txt beside it"):
        read_brat(tmp_path)


def test_the_offline_path_scored_against_brat_gold(tmp_path: Path) -> None:
    from extractor.evaluation import offline_predictions

    write_corpus(tmp_path)
    gold = read_brat(tmp_path)
    report = evaluate(gold, offline_predictions(gold))
    # The finder finds all three marked passages; the rules name Ann Lee for both pieces and
    # some speaker for 'nearly done', whose gold source is unnamed (matched on span alone).
    quotes = report.types["quotes"]
    assert (quotes.gold, quotes.predicted, quotes.matched) == (3, 3, 3)
    assert (report.speakers.named, report.speakers.named_right) == (2, 2)
    assert report.speakers.unnamed == 1


def test_crlf_texts_are_read_as_text_mode_reads_them_offsets_mapped(tmp_path: Path) -> None:
    from extractor.evaluation import offline_predictions

    text = TEXT.replace("\n", "\r\n")
    (tmp_path / "ferry.txt").write_bytes(text.encode("utf-8"))
    (tmp_path / "ferry.ann").write_text(ann_for(text), encoding="utf-8")
    gold = read_brat(tmp_path)
    # The text as `extract` and `batch` read it (each line end one character), brat's offsets
    # (which count each \r) moved onto it: the same gold as the LF file's.
    assert gold[0].text == TEXT == (tmp_path / "ferry.txt").read_text(encoding="utf-8")
    (tmp_path / "lf").mkdir()
    (tmp_path / "lf" / "ferry.txt").write_text(TEXT, encoding="utf-8")
    (tmp_path / "lf" / "ferry.ann").write_text(ann_for(TEXT), encoding="utf-8")
    assert gold[0].article.quotes == read_brat(tmp_path / "lf")[0].article.quotes
    report = evaluate(gold, offline_predictions(gold))
    assert report.types["quotes"].matched == 3 and report.grounding.misplaced == 0


def test_a_lone_carriage_return_is_one_line_end_too(tmp_path: Path) -> None:
    text = TEXT.replace("\n\n", "\r\n\r", 1)  # \r\n then a lone \r: two line ends
    (tmp_path / "ferry.txt").write_bytes(text.encode("utf-8"))
    (tmp_path / "ferry.ann").write_text(ann_for(text), encoding="utf-8")
    [gold] = read_brat(tmp_path)
    assert gold.text == text.replace("\r\n", "\n").replace("\r", "\n")
    assert [q.span.text for q in gold.article.quotes] == [
        "The ferry will run again",
        "We found the money",
        "nearly done",
    ]


def test_same_named_texts_in_two_subfolders_are_both_read(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "ferry.txt").write_text(TEXT, encoding="utf-8")
        (tmp_path / sub / "ferry.ann").write_text(ann_for(TEXT), encoding="utf-8")
    (tmp_path / "a" / "ferry_second.ann").write_text("", encoding="utf-8")  # a 2nd annotator
    gold = read_brat(tmp_path)
    assert [g.article.id for g in gold] == ["ferry", "b/ferry"]
    assert [g.article.path for g in gold] == [
        str(tmp_path / "a" / "ferry.txt"),
        str(tmp_path / "b" / "ferry.txt"),
    ]
    assert all(len(g.article.quotes) == 3 for g in gold)


def test_all_mode_decides_per_fragment_of_a_discontinuous_content() -> None:
    text = '"We found the money," Ann Lee said, adding that the harbour stays open.'
    content = spans_of(text, '"We found the money,"', "the harbour stays open")
    ann = "\n".join(
        [
            f"T1\tSource {spans_of(text, 'Ann Lee')}\tAnn Lee",
            f"T2\tCue {spans_of(text, 'said')}\tsaid",
            f'T3\tContent {content}\t"We found the money," the harbour stays open',
            "E1\tAttribution:T2 Source:T1 Cue:T2 Content:T3",
        ]
    )
    found = attributions(parse_standoff(ann))
    marked = gold_quotes(text, found, "marked")
    assert [(q.span.text, q.kind) for q in marked] == [("We found the money", QuoteKind.DIRECT)]
    every = gold_quotes(text, found, "all")
    assert [(q.span.text, q.kind) for q in every] == [
        ("We found the money", QuoteKind.DIRECT),
        ("the harbour stays open", QuoteKind.REPORTED),  # the unmarked fragment, kept
    ]
