"""The built-in answer by number: quotations as a map of speakers, records by their sentence."""

from __future__ import annotations

from typing import Any

import pytest

from extractor.answers import ArticleAnswer
from extractor.models import ArticleExtraction, NotAQuotation, QuoteKind
from extractor.pipeline import (
    ArticleInput,
    Prompt,
    find,
    ground,
    merge,
    parallel_budget,
    plan,
    prompt,
    read,
)
from extractor.pipeline import _covered as covered

TEXT = (
    "date 2025-03-04 Ministers met in Brussels on Monday.\n\n"
    'Anna Berg, the Swedish envoy, said the plan was "a serious step forward" for the bloc.\n\n'
    '"We will not send troops," Berg said. "But we will pay for the training."\n\n'
    'Critics called the deal a "paper tiger". Jonas Weber told reporters: '
    '"Nobody here believes the figures." He said Sweden would refuse to pay more.'
)
# Sentences as the prompt numbers them (after the date line):
# 1 Ministers met ...  2 Anna Berg ... 3 "We will not send troops," Berg said.
# 4 "But we will pay ..."  5 Critics called ...  6 Jonas Weber told ...  7 He said Sweden ...

# HAND-WRITTEN: what a model answers, in the shape the schema asks for.
ANSWER: dict[str, Any] = {
    "people": [{"name": "Anna Berg", "role": "envoy", "country": "Sweden"}],
    "events": [{"s": 1, "kind": "meeting", "actors": ["Ministers"], "date_text": "on Monday"}],
    "speakers": {"1": "Anna Berg", "Q2": "Anna Berg", "[Q3]": "Anna Berg", "5": "Jonas Weber"},
    "not_speech": {"4": "scare"},
    "reported": [{"s": 7, "speaker": "Jonas Weber", "verb": "said"}],
    "commitments": [
        {
            "s": 7,
            "actor": "Sweden",
            "polarity": "will_not",
            "kind": "refusal",
            "action": "pay more",
        }
    ],
}


def article() -> ArticleInput:
    return read(TEXT, None, ArticleExtraction, max_chars=100_000)


def request() -> Prompt:
    a = article()
    return prompt(a, plan(a)[0], find(a))


def validated(data: dict[str, Any]) -> ArticleExtraction:
    asked = request()
    reply = asked.response_model.model_validate(data, context=asked.context.as_validation_context())
    result = ground(article(), asked, reply).data
    assert isinstance(result, ArticleExtraction)
    return result


def test_records_by_sentence_get_the_sentence_as_evidence_and_span() -> None:
    data = validated(ANSWER)
    [event] = data.events
    assert event.evidence == "Ministers met in Brussels on Monday."
    assert event.span is not None and TEXT[event.span.start : event.span.end] == event.evidence
    assert event.summary == event.evidence  # no summary given: the sentence says it
    [commitment] = data.commitments
    assert commitment.evidence == "He said Sweden would refuse to pay more."
    assert commitment.actor.name == "Sweden" and commitment.action == "pay more"
    [reported] = [q for q in data.quotes if q.kind is QuoteKind.REPORTED]
    assert reported.text == commitment.evidence and reported.speaker.name == "Jonas Weber"


def test_speakers_by_number_make_quotes_and_people_describe_them() -> None:
    data = validated(ANSWER)
    quoted = [q for q in data.quotes if q.kind is not QuoteKind.REPORTED]
    assert [q.text for q in quoted] == [
        "a serious step forward",
        "We will not send troops,",
        "But we will pay for the training.",
        "Nobody here believes the figures.",
    ]
    assert [q.kind for q in quoted] == [QuoteKind.PARTIAL] + [QuoteKind.DIRECT] * 3
    assert all(q.confirmed for q in quoted)
    berg = quoted[0].speaker
    assert (berg.name, berg.role, berg.country) == ("Anna Berg", "envoy", "Sweden")
    assert quoted[0].verb == "said"  # from the rules: the map gives speakers only
    assert data.coverage is not None
    [ruled] = data.coverage.ruled_out
    assert (ruled.span.text, ruled.reason, ruled.by) == (
        "paper tiger",
        NotAQuotation.SCARE,
        "model",
    )


def test_a_summary_given_is_kept() -> None:
    events = [{"s": 1, "kind": "meeting", "summary": "Ministers met."}]
    assert validated({**ANSWER, "events": events}).events[0].summary == "Ministers met."


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"events": [{"s": 99, "kind": "meeting"}]}, "events[0].s: there is no sentence 99"),
        ({"events": [{"kind": "meeting"}]}, "events[0]: give s, the number of its sentence"),
        ({"reported": [{"s": 0, "speaker": "X"}]}, "quotes[5].s: there is no sentence 0"),
        ({"speakers": {"one": "Anna Berg"}}, "'one' is not a quotation number n"),
        ({"speakers": {"8": "Anna Berg"}}, "there is no [Q8] (numbers: [Q1] to [Q5])"),
    ],
)
def test_a_number_that_names_nothing_is_reasked_naming_it(
    change: dict[str, Any], problem: str
) -> None:
    asked = request()
    with pytest.raises(ValueError, match="name no quotation or sentence") as caught:
        asked.response_model.model_validate(
            {**ANSWER, **change}, context=asked.context.as_validation_context()
        )
    assert problem in str(caught.value)


def test_the_older_shape_with_copied_words_still_grounds() -> None:
    older = {
        "events": [
            {
                "kind": "meeting",
                "summary": "Ministers met.",
                "status": "occurred",
                "evidence": "Ministers met in Brussels",
            }
        ],
        "quotes": [{"n": 1, "speaker": {"name": "Anna Berg"}, "kind": "partial"}],
        "commitments": [],
    }
    data = validated(older)
    assert data.events[0].evidence == "Ministers met in Brussels"
    assert data.events[0].span is not None and data.events[0].span.start == TEXT.index("Minist")
    assert data.quotes[0].speaker.name == "Anna Berg" and data.quotes[0].confirmed


def test_the_answer_model_loads_no_article_words() -> None:
    schema = ArticleAnswer.model_json_schema()
    assert "quotes" not in schema["properties"]  # read, never asked for


def test_a_cut_reply_is_complete_as_far_as_its_last_collection_reaches() -> None:
    asked = request()
    context = asked.context
    reply = asked.response_model.model_validate(
        {"events": ANSWER["events"], "speakers": {"1": "Anna Berg"}},
        context=context.as_validation_context(),
    )
    # Cut inside speakers, with reported and commitments still to come: nothing is complete.
    candidate = {"events": ANSWER["events"], "speakers": {"1": "Anna Berg"}}
    assert covered(reply, candidate, "speakers", context) == 0
    # Cut inside commitments, the last collection: complete up to its last whole record.
    reply = asked.response_model.model_validate(
        {"commitments": ANSWER["commitments"]}, context=context.as_validation_context()
    )
    reach = covered(reply, {"commitments": ANSWER["commitments"]}, "commitments", context)
    assert reach == len(TEXT)  # sentence 7 ends the text


def test_concurrent_chunks_are_about_equal_and_never_tiny() -> None:
    text = "\n\n".join([TEXT] * 60)  # 21,700 characters
    long = read(text, None, ArticleExtraction, max_chars=10**6)
    quotations = find(long)
    budget = parallel_budget(long, quotations, 40_000, 16)
    sizes = [c.end - c.start for c in plan(long, quotations, budget)]
    assert len(sizes) == 5  # 16 would each be about 1,400 characters: too many prompts
    assert max(sizes) - min(sizes) < 1_000  # equal, give or take a paragraph
    assert parallel_budget(long, quotations, 40_000, 2) >= len(text) // 2
    assert parallel_budget(long, quotations, 3_000, 16) == 3_000  # never above the bound
    short = read(TEXT, None, ArticleExtraction, max_chars=10**6)
    assert parallel_budget(short, find(short), 40_000, 16) == 40_000  # one chunk: unchanged


def test_one_person_named_twice_in_one_event_is_one_actor() -> None:
    # "Berg" and "Anna Berg" in one event's actors: one name, so one actor (the fuller one).
    events = [{"s": 3, "kind": "statement", "actors": ["Berg", "Anna Berg", "Jonas Weber"]}]
    a = article()
    asked = request()
    reply = asked.response_model.model_validate(
        {**ANSWER, "events": events}, context=asked.context.as_validation_context()
    )
    merged = merge(a, [ground(a, asked, reply)], find(a)).data
    assert [actor.name for actor in merged.events[0].actors] == ["Anna Berg", "Jonas Weber"]
    assert merged.events[0].actors[0].role == "envoy"
