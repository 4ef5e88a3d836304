"""Offline speakers: parser-free rules name who said each quotation found by the finder.

Every article here is written for these tests (invented people and events) or is the shipped
example article; none is copied from a corpus.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from extractor.attribution import Attribution, attribute, offline_quotes
from extractor.models import Quote, QuoteKind
from extractor.quotations import find_quotations

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "extractor"


def speakers(text: str) -> list[tuple[str, str | None]]:
    """(quoted words, speaker) for every quotation in the text."""
    return [
        (text[a.quotation.start : a.quotation.end], a.speaker)
        for a in attribute(text, find_quotations(text))
    ]


def attributions(text: str) -> list[Attribution]:
    return attribute(text, find_quotations(text))


def test_said_verb_before_the_name_after_the_quote_with_role_and_organisation() -> None:
    text = '"We have no update on the schedule," said White House spokesman Josh Earnest.'
    (a,) = attributions(text)
    assert a.speaker == "Josh Earnest"
    assert a.role == "spokesman" and a.organization == "White House"
    assert a.verb == "said" and a.kind == "direct" and a.rule == "said X after"


def test_name_then_said_verb_after_the_quote() -> None:
    text = "\u201cThe bridge opens in May,\u201d Mayor Ana Ruiz told reporters on Tuesday."
    (a,) = attributions(text)
    assert a.speaker == "Ana Ruiz" and a.verb == "told" and a.role == "mayor"


def test_said_verb_before_the_quote_with_a_colon() -> None:
    text = 'Council member Pedro Alves said on Monday: "The budget is balanced."'
    assert speakers(text) == [("The budget is balanced.", "Pedro Alves")]


def test_colon_introduction_without_a_verb() -> None:
    text = "Senator Lena Park: \u2018We Will Not Back Down\u2019\n\nThe senator spoke for an hour."
    (a,) = attributions(text)
    assert a.speaker == "Lena Park" and a.rule == "colon"


def test_according_to() -> None:
    text = '"Turnout was the highest in decades," according to Marta Silva, the county clerk.'
    (a,) = attributions(text)
    assert a.speaker == "Marta Silva" and a.verb == "according to"


def test_dash_after_the_quote() -> None:
    text = "\u201cI never expected to vote for him.\u201d \u2015 Rosa Delgado\n"
    (a,) = attributions(text)
    assert a.speaker == "Rosa Delgado" and a.rule == "dash after"


def test_partial_quote_inside_reported_speech() -> None:
    text = (
        "Governor Tom Becker said the plan was \u201ca promise kept to families\u201d in the state."
    )
    (a,) = attributions(text)
    assert a.speaker == "Tom Becker" and a.partial and a.kind == "partial"


def test_appositive_between_name_and_verb_becomes_the_role() -> None:
    text = (
        '"It is a tax cut for the few," Helen Marsh, director of the Budget Policy Center, '
        "said on Friday."
    )
    (a,) = attributions(text)
    assert a.speaker == "Helen Marsh"
    assert a.role == "director of the Budget Policy Center"


def test_the_paragraphs_speaker_for_its_other_quotes() -> None:
    text = (
        '"We are ready," said Foreign Minister Ivo Brandt. '
        '"The talks can start on Friday." He then left the building.'
    )
    assert speakers(text) == [
        ("We are ready,", "Ivo Brandt"),
        ("The talks can start on Friday.", "Ivo Brandt"),
    ]


def test_continuation_paragraphs_and_a_multi_paragraph_quote() -> None:
    text = (
        '"We have listened to the families," said Senator Ruth Okafor.\n\n'
        '"We will hold hearings in every county.\n\n'
        '"And we will not stop until the law is changed."\n\n'
        "The hearings begin in June."
    )
    found = attributions(text)
    assert [a.speaker for a in found] == ["Ruth Okafor", "Ruth Okafor"]
    assert found[1].quotation.multi_paragraph
    assert found[1].rule == "continues the last paragraph's quote"


def test_pronouns_resolve_to_the_last_named_speaker_with_the_fullest_name() -> None:
    text = (
        "Donald Trump spoke in Ohio on Monday.\n\n"
        'Trump said the trade deal was "a total disaster" for workers.\n\n'
        '"We will fix it," he added.'
    )
    found = attributions(text)
    assert [a.speaker for a in found] == ["Donald Trump", "Donald Trump"]
    assert "pronoun" in found[1].rule


def test_pronoun_prefers_the_named_subject_of_its_own_paragraph() -> None:
    text = (
        '"The numbers are clear," said economist Paul Weber.\n\n'
        "Sen. Clara Novak questioned him: \u201cWhy did you change them?\u201d she said."
    )
    assert [s for _, s in speakers(text)] == ["Paul Weber", "Clara Novak"]


def test_one_person_keeps_one_name_across_the_article() -> None:
    text = (
        '"We will win this state," said Maria Elena Costa, the party chair.\n\n'
        "Later, at a rally, Costa repeated the promise. "
        '"Every vote counts," Costa said.'
    )
    found = attributions(text)
    assert {a.speaker for a in found} == {"Maria Elena Costa"}
    assert found[1].role == "party chair"


def test_transcript_turns_take_the_fullest_name() -> None:
    text = (
        "Senator Dana Whitfield debated Governor Luis Ortega on Tuesday.\n\n"
        "WHITFIELD: We cut taxes for working families.\n"
        "ORTEGA: You cut services too."
    )
    assert [s for _, s in speakers(text)] == ["Dana Whitfield", "Luis Ortega"]


def test_quoted_transcript_turns_take_the_label() -> None:
    text = (
        "Anchor Beth Moreno interviewed Governor Alan Marsh.\n\n"
        '"MORENO: Will you run again?\n\n'
        '"MARSH: Not this time."'
    )
    assert [s for _, s in speakers(text)] == ["Beth Moreno", "Alan Marsh"]


def test_coordinated_verb_and_passive_clause_name_the_sentence_subject() -> None:
    text = (
        "Foreign Minister Olga Varga dismissed the summit and indicated the premier accepted "
        'only to "raise the level of the talks."\n\n'
        'Mayor Ted Quinn said he asked about the matter and was assured it "had no problem."'
    )
    assert [s for _, s in speakers(text)] == ["Olga Varga", "Ted Quinn"]


def test_second_quote_of_a_sentence_takes_its_subject_not_a_later_word() -> None:
    # the search for the subject starts at the sentence's start, not after the first quote
    text = (
        'Mayor Ana Ruiz said the council had a "clear plan" for Northern bridges, adding that '
        'the delay was "a matter of weeks."'
    )
    assert [s for _, s in speakers(text)] == ["Ana Ruiz", "Ana Ruiz"]


def test_said_verb_with_its_subject_beats_the_object_of_a_passive_clause() -> None:
    text = (
        "Speaking beside Governor Paul Hale in Denver, Senator Mia Cole said she had "
        '"personally called" Chief Omar Diaz and was assured the chief "saw no risk in it."'
    )
    assert [s for _, s in speakers(text)] == ["Mia Cole", "Mia Cole"]


def test_a_quote_nested_in_an_excerpt_is_read_within_the_excerpt() -> None:
    text = (
        'Columnist Ann Ross wrote: "Then Governor Tom Reed walked in and shouted '
        "\u201cFour more years!\u201d and waving. "
        'A clerk\u2019s form read \u201cfit to travel.\u201d"\n\n'
        '"We never saw him again," Ross added.'
    )
    found = attributions(text)
    assert [text[a.quotation.start : a.quotation.end][:16] for a in found] == [
        "Then Governor To",
        "Four more years!",
        "fit to travel.",
        "We never saw him",
    ]
    # the inner quotes are not the excerpt's author's words; the outer ones keep their speaker
    assert [a.speaker for a in found] == ["Ann Ross", "Tom Reed", None, "Ann Ross"]


def test_unattributed_quote_has_no_speaker() -> None:
    text = 'The sign read "Closed for the season" in red letters, and nothing more.'
    found = attribute(text, find_quotations(text))
    assert all(a.speaker is None for a in found)


def test_abbreviations_do_not_end_the_sentence() -> None:
    text = '"This is a disgusting day," said Rep. J.T. Holloway (D-Ore.), head of the caucus.'
    assert speakers(text) == [("This is a disgusting day,", "J.T. Holloway")]


def test_shipped_example_article() -> None:
    text = (ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt").read_text("utf-8")
    found = attributions(text)
    named = {text[a.quotation.start : a.quotation.end]: a.speaker for a in found}
    # every quote of the article, its speaker judged by hand from the text
    assert named == {
        "negative attitude": "Dmitry Peskov",
        "one of the root causes": "Dmitry Peskov",  # "Peskov said ..., adding that ..."
        "specifically asked": "Donald Trump",
        "had no problem with it.": "Donald Trump",  # "Trump said he ... and was assured ..."
        "raise the level of its representation at talks with Ukraine.": "Sergei Lavrov",
        "When it comes to security, they are willing to put people on the ground,": "Donald Trump",
        "We're willing to help them with things, especially, probably, if you talk about air "
        "support, because there is nobody who has the kind of stuff we have.": "Donald Trump",
    }
    assert next(a for a in found if a.speaker == "Dmitry Peskov").organization == "Kremlin"


def test_offline_quotes_are_library_records_with_exact_spans() -> None:
    text = (ROOT / "examples" / "articles" / "peacekeepers-2025-08-27.txt").read_text("utf-8")
    quotes = offline_quotes(text)
    assert quotes and all(isinstance(q, Quote) for q in quotes)
    for q in quotes:
        assert q.span is not None
        assert text[q.span.start : q.span.end] == q.text == q.span.text
        assert q.kind in (QuoteKind.DIRECT, QuoteKind.PARTIAL)
        assert q.speaker.name
    assert any(q.speaker.name == "Dmitry Peskov" and q.verb == "said" for q in quotes)


def test_offline_quotes_leave_out_titles() -> None:
    text = 'She appeared on CBS\'s "Face the Nation" on Sunday. "We will win," she said.'
    assert [q.text for q in offline_quotes(text)] == ["We will win,"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                '"We won," ',
                "said ",
                "Ana Ruiz",
                " he said. ",
                "\u201cYes.\u201d ",
                "according to ",
                "\n\n",
                ": ",
                "Sen. ",
                "the mayor ",
                "\u2015 ",
                "'",
                ", ",
                "TRUMP: ",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_never_raises_and_every_quote_span_is_exact(text: str) -> None:
    for q in offline_quotes(text):
        assert q.span is not None and text[q.span.start : q.span.end] == q.text


def test_module_imports_without_openai() -> None:
    """The rules load alone: no openai, no instructor (the package __init__ is bypassed)."""
    code = (
        "import sys, types\n"
        f"pkg = types.ModuleType('extractor'); pkg.__path__ = [{str(SRC)!r}]\n"
        "sys.modules['extractor'] = pkg\n"
        "import extractor.attribution\n"
        "text = 'He said: \"We will win.\"'\n"
        "assert extractor.attribution.offline_quotes(text)\n"
        "bad = [m for m in ('openai', 'instructor', 'httpx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
