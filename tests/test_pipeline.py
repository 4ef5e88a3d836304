"""The pipeline's steps one by one, and quotations first end to end against the scripted server.

Replies queued here are HAND-WRITTEN stand-ins for a model (see tests/scripted_server.py).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from extractor import ArticleExtraction, Extractor, QuoteKind
from extractor.answers import (
    ArticleAnswer,
    EventAnswer,
    QuoteAnswer,
    assemble,
    one_name_each,
    rule_speakers,
)
from extractor.models import Actor, NotAQuotation, Quote
from extractor.pipeline import (
    find,
    ground,
    merge,
    plan,
    prompt,
    read,
    resolve_dates,
    result,
)
from extractor.quotations import find_quotations
from extractor.spans import Span

from people_schema import People
from scripted_server import Reply, ScriptedServer, completion

TEXT = (
    "date 2025-03-04 Ministers met in Brussels on Monday.\n\n"
    'Anna Berg, the Swedish envoy, said the plan was "a serious step forward" for the bloc.\n\n'
    '"We will not send troops," Berg said. "But we will pay for the training."\n\n'
    'Critics called the deal a "paper tiger". Jonas Weber told reporters: '
    '"Nobody here believes the figures."'
)


def article() -> Any:
    return read(TEXT, None, ArticleExtraction, max_chars=100_000)


def answer(**quotes: Any) -> dict[str, Any]:
    return {"events": [], "quotes": list(quotes.values()), "commitments": []}


BERG = {"name": "Anna Berg", "role": "envoy", "country": "Sweden"}
WEBER = {"name": "Jonas Weber"}
# HAND-WRITTEN: an answer for every quotation of TEXT, by number.
ALL = [
    {"n": 1, "speaker": BERG, "kind": "partial", "verb": "said"},
    {"n": 2, "speaker": BERG, "kind": "direct", "verb": "said"},
    {"n": 3, "speaker": BERG, "kind": "direct", "verb": "said"},
    {"n": 4, "kind": "scare"},
    {"n": 5, "speaker": WEBER, "kind": "direct", "verb": "told"},
]


# --- the steps, one by one ------------------------------------------------------------------


def test_read_takes_the_date_from_the_date_line_or_the_caller() -> None:
    assert article().published == dt.date(2025, 3, 4)
    given = read(TEXT, "2025-01-02", ArticleExtraction, max_chars=100_000)
    assert given.published == dt.date(2025, 1, 2)
    assert article().builtin and not read(TEXT, None, People, max_chars=100_000).builtin


def test_find_numbers_the_quotations_for_the_built_in_schema_only() -> None:
    found = find(article())
    assert [TEXT[q.start : q.end] for q in found] == [
        "a serious step forward",
        "We will not send troops,",
        "But we will pay for the training.",
        "paper tiger",
        "Nobody here believes the figures.",
    ]
    assert find(read(TEXT, None, People, max_chars=100_000)) == ()


def test_plan_is_one_chunk_when_the_article_fits() -> None:
    [chunk] = plan(article(), find(article()))
    assert (chunk.start, chunk.end) == (0, len(TEXT))
    [chunk] = plan(article(), find(article()), len(TEXT))
    assert (chunk.start, chunk.end) == (0, len(TEXT))


def test_plan_cuts_a_longer_article_outside_quotations_and_repeats_it_for_passes() -> None:
    quotations = find(article())
    chunks = plan(article(), quotations, 120)
    assert len(chunks) > 1 and chunks[0].start == 0 and chunks[-1].end == len(TEXT)
    for chunk in chunks:
        for q in quotations:
            assert not q.outer_start < chunk.start < q.outer_end
            assert not q.outer_start < chunk.end < q.outer_end
    assert plan(article(), quotations, 120, passes=2) == chunks * 2


def test_budget_counts_the_prompt_overhead_measured_on_an_empty_article() -> None:
    from extractor.pipeline import budget, prompt_overhead_tokens

    overhead = prompt_overhead_tokens(article())
    request = prompt(article(), plan(article())[0])
    shown = sum(len(m["content"]) for m in request.messages) - len(TEXT)
    assert shown // 4 < overhead < 3000  # the messages' framing and the schema
    assert prompt_overhead_tokens(article(), find(article())) > overhead  # [Qn] markers
    assert budget(article(), context_tokens=8192, max_tokens=4096) == int(4096 / 1.5 * 4)
    small = budget(article(), context_tokens=overhead + 1024 + 200, max_tokens=1024)
    assert small == 200 * 4  # the context, not the reply, bounds it


def test_prompt_numbers_the_quotations_and_asks_for_numbers_not_words() -> None:
    a = article()
    request = prompt(a, plan(a)[0], find(a))
    user = request.messages[-1]["content"]
    assert 'said the plan was [Q1]"a serious step forward"' in user
    assert '§3 [Q2]"We will not send troops," Berg said. §4 [Q3]"But' in user
    assert "[Q5]" in user and "[Q6]" not in user
    assert "[Qn] quotation n" in request.messages[0]["content"]
    assert "\u00a71 " in user  # sentences are numbered too
    schema = request.response_model.model_json_schema()
    # Quotations are answered by number, speech without marks by sentence: no words to copy.
    assert schema["properties"]["speakers"]["additionalProperties"] == {"type": "string"}
    assert set(schema["properties"]["reported"]["items"]["properties"]) == {"s", "speaker", "verb"}
    assert "quotes" not in schema["properties"]  # the older shape is read, not asked for
    shown = json.dumps(schema)
    assert '"evidence"' not in shown and '"text"' not in shown
    assert schema["title"] == "ArticleExtraction"


def test_prompt_for_a_callers_schema_has_no_numbers() -> None:
    a = read(TEXT, None, People, max_chars=100_000)
    request = prompt(a, plan(a)[0], find(a))
    assert "[Q1]" not in request.messages[-1]["content"]
    assert request.context.quotations == ()


def validated(data: dict[str, Any]) -> tuple[Any, Any]:
    a = article()
    request = prompt(a, plan(a)[0], find(a))
    reply = request.response_model.model_validate(
        data, context=request.context.as_validation_context()
    )
    return a, ground(a, request, reply)


def test_ground_turns_numbers_into_quotes_with_the_finders_spans() -> None:
    _, part = validated(answer(**{str(i): a for i, a in enumerate(ALL)}))
    data = part.data
    assert isinstance(data, ArticleExtraction)
    assert [q.text for q in data.quotes][:2] == [
        "a serious step forward",
        "We will not send troops,",
    ]
    for quote in data.quotes:
        assert quote.span is not None and TEXT[quote.span.start : quote.span.end] == quote.text
        assert quote.confirmed
    assert data.coverage is not None
    assert (data.coverage.found, data.coverage.attributed) == (5, 4)
    [ruled] = data.coverage.ruled_out
    assert (ruled.span.text, ruled.reason, ruled.by) == (
        "paper tiger",
        NotAQuotation.SCARE,
        "model",
    )
    assert part.spans["quotes[0].text"] == data.quotes[0].span


def test_a_skipped_quotation_is_kept_with_the_rule_speaker_unconfirmed() -> None:
    _, part = validated(answer(a=ALL[0], b=ALL[1], d=ALL[3], e=ALL[4]))  # [Q3] skipped
    data = part.data
    skipped = next(q for q in data.quotes if q.text.startswith("But we will pay"))
    assert (skipped.speaker.name, skipped.confirmed) == ("Anna Berg", False)
    assert data.coverage.unattributed == [skipped.span]
    assert data.coverage.attributed == 3


def test_a_pronoun_speaker_becomes_the_rule_speaker() -> None:
    pronoun = {"n": 2, "speaker": {"name": "she"}, "kind": "direct"}
    _, part = validated(answer(a=ALL[0], b=pronoun, c=ALL[2], d=ALL[3], e=ALL[4]))
    quote = next(q for q in part.data.quotes if q.text.startswith("We will not"))
    assert quote.speaker.name == "Anna Berg" and not quote.confirmed


def test_reported_speech_is_copied_and_grounded() -> None:
    reported = {
        "text": "the plan was",
        "speaker": BERG,
        "kind": "reported",
        "verb": "said",
    }
    _, part = validated(answer(a=reported, **{str(i): a for i, a in enumerate(ALL)}))
    [quote] = [q for q in part.data.quotes if q.kind is QuoteKind.REPORTED]
    assert quote.span is not None and quote.span.start == TEXT.index("the plan was")


def test_markers_copied_back_by_the_model_are_stripped_before_grounding() -> None:
    event = {
        "kind": "statement",
        "summary": "Berg spoke.",
        "status": "occurred",
        "evidence": '[Q2]"We will not send troops," Berg said',
    }
    _, part = validated({"events": [event], "quotes": ALL, "commitments": []})
    evidence = part.data.events[0].evidence
    assert "[Q" not in evidence and evidence.endswith('We will not send troops," Berg said')
    assert TEXT[part.data.events[0].span.start : part.data.events[0].span.end] == evidence


def test_an_invented_number_fails_validation_naming_it_and_the_skipped_ones() -> None:
    a = article()
    request = prompt(a, plan(a)[0], find(a))
    invented = {"n": 9, "speaker": BERG, "kind": "direct"}
    with pytest.raises(ValueError) as caught:
        request.response_model.model_validate(
            answer(a=ALL[0], b=invented), context=request.context.as_validation_context()
        )
    message = str(caught.value)
    assert "quotes[1].n: there is no [Q9] (numbers: [Q1] to [Q5])" in message
    assert "skipped: [Q2], [Q3], [Q4], [Q5]" in message
    assert request.context.partial is not None  # the grounded rest, for the error


def test_resolve_dates_dates_events_inside_any_schema() -> None:
    event = EventAnswer.model_validate({"s": 1, "kind": "meeting", "date_text": "on Monday"})
    part = ground(article(), prompt(article(), plan(article())[0]), ArticleAnswer(events=[event]))
    resolve_dates(part, dt.date(2025, 3, 4))
    assert part.data.events[0].date == dt.date(2025, 3, 3)


def test_merge_gives_one_person_one_name() -> None:
    _, part = validated(answer(**{str(i): a for i, a in enumerate(ALL)}))
    part.data.quotes[1].speaker.name = "Berg"
    merged = merge(article(), [part], find(article()))
    assert {q.speaker.name for q in merged.data.quotes} == {"Anna Berg", "Jonas Weber"}


def test_an_actor_described_once_is_described_everywhere() -> None:
    described = Actor(name="Anna Berg", role="envoy", country="Sweden")
    data = ArticleExtraction(
        quotes=[
            Quote(text="a", speaker=described, kind=QuoteKind.REPORTED),
            Quote(text="b", speaker=Actor(name="Berg"), kind=QuoteKind.REPORTED),
        ]
    )
    later = one_name_each(data, "Anna Berg spoke.").quotes[1].speaker
    assert (later.name, later.role, later.country) == ("Anna Berg", "envoy", "Sweden")


def test_one_name_each_uses_the_fullest_name_the_article_writes() -> None:
    text = "President Donald Trump spoke. Later, Trump said more."
    data = ArticleExtraction(
        quotes=[Quote(text="more", speaker=Actor(name="Trump"), kind=QuoteKind.REPORTED)]
    )
    assert one_name_each(data, text).quotes[0].speaker.name == "Donald Trump"


def test_result_has_one_shape_for_both_schemas() -> None:
    from extractor.models import Usage

    a, part = validated(answer(**{str(i): x for i, x in enumerate(ALL)}))
    built_in = result(a, merge(a, [part], find(a)), Usage(requests=1))
    assert built_in.published == dt.date(2025, 3, 4) and built_in.usage.requests == 1
    for name in ("data", "spans", "coverage", "usage", "published", "source"):
        assert hasattr(built_in, name), name


def test_rule_speakers_said_after_before_and_pronouns() -> None:
    text = (
        'Officials said "the talks are over" on Friday. "We are done," said Maria Lopez. '
        '"Nothing more," she added.'
    )
    quotations = find_quotations(text)
    assert [a.name if a else None for a, _ in rule_speakers(text, quotations)] == [
        "Officials",
        "Maria Lopez",
        "Maria Lopez",
    ]


def test_a_quotation_over_two_paragraphs_is_one_quote(server: ScriptedServer) -> None:
    text = (
        'Anna Berg said on Monday: "The plan is sound and the money is there.\n\n'
        '"We will fund the training from next year."\n\nOthers disagreed.'
    )
    server.replies.append(Reply(completion(answer(a={"n": 1, "speaker": BERG, "kind": "direct"}))))
    got = extractor(server).extract(text)
    [quote] = got.quotes
    assert quote.span is not None and quote.confirmed
    assert quote.span.start == text.index("The plan")
    assert quote.span.end == text.index('."\n\nOthers') + 1
    assert got.coverage is not None and (got.coverage.found, got.coverage.attributed) == (1, 1)


def test_assemble_maps_an_answer_that_copied_the_words_onto_its_number() -> None:
    """Older replies copied the quoted words instead of a number: they count for the number."""
    quotations = find_quotations(TEXT)
    span = Span(start=quotations[4].start, end=quotations[4].end, text="x" * 33)
    copied = QuoteAnswer(text="x", speaker=Actor(name="Jonas Weber"), kind="direct", span=span)
    data = assemble(ArticleAnswer(quotes=[copied]), TEXT, quotations)
    weber = [q for q in data.quotes if q.speaker.name == "Jonas Weber"]
    assert len(weber) == 1 and weber[0].confirmed and weber[0].text.startswith("Nobody")


# --- end to end, against the scripted server -------------------------------------------------


def extractor(server: ScriptedServer) -> Extractor:
    return Extractor("m", base_url=server.base_url, api_key="k", max_transient_retries=0)


def test_a_skipped_quotation_is_in_the_result_without_an_extra_call(
    server: ScriptedServer,
) -> None:
    server.replies.append(Reply(completion(answer(a=ALL[0], b=ALL[1], d=ALL[3], e=ALL[4]))))
    got = extractor(server).extract(TEXT)
    assert len(server.requests) == 1
    skipped = next(q for q in got.quotes if q.text == "But we will pay for the training.")
    assert skipped.speaker.name == "Anna Berg"  # "Berg said": the fullest name the article uses
    assert skipped.confirmed is False
    assert skipped.span is not None and TEXT[skipped.span.start : skipped.span.end] == skipped.text
    assert got.coverage is not None and got.coverage.unattributed == [skipped.span]


async def test_the_async_twin_keeps_a_skipped_quotation_too(server: ScriptedServer) -> None:
    server.replies.append(Reply(completion(answer(a=ALL[0], b=ALL[1], d=ALL[3], e=ALL[4]))))
    got = await extractor(server).aextract(TEXT)
    assert len(server.requests) == 1
    [skipped] = [q for q in got.quotes if not q.confirmed]
    assert skipped.text == "But we will pay for the training."


def test_an_invented_number_is_reasked_naming_it(server: ScriptedServer) -> None:
    invented = {"n": 7, "speaker": WEBER, "kind": "direct"}
    server.replies.extend(
        [
            Reply(completion(answer(a=ALL[0], b=invented))),
            Reply(completion(answer(**{str(i): a for i, a in enumerate(ALL)}))),
        ]
    )
    got = extractor(server).extract(TEXT)
    assert len(server.requests) == 2
    reask = json.dumps(server.requests[1]["messages"][2:])
    assert "there is no [Q7]" in reask and "[Q2], [Q3], [Q4], [Q5]" in reask
    assert all(q.confirmed for q in got.quotes) and got.usage.requests == 2


def test_numbers_are_reasked_once_then_those_naming_nothing_are_dropped(
    server: ScriptedServer,
) -> None:
    invented = {"n": 7, "speaker": WEBER, "kind": "direct"}
    reply = Reply(completion(answer(a=ALL[0], b=invented)))
    server.replies.extend([reply, reply])
    got = extractor(server).extract(TEXT)
    assert len(server.requests) == 2  # not max_reasks + 1
    assert got.coverage is not None and got.coverage.attributed == 1
    assert [q.text for q in got.quotes if q.confirmed] == ["a serious step forward"]


def test_the_request_carries_numbers_not_quote_text(server: ScriptedServer) -> None:
    server.replies.append(Reply(completion(answer(**{str(i): a for i, a in enumerate(ALL)}))))
    extractor(server).extract(TEXT)
    [request] = server.requests
    parameters = request["tools"][0]["function"]["parameters"]
    assert parameters["properties"]["speakers"]["type"] == "object"
    assert parameters["properties"]["events"]["items"]["properties"]["s"] == {"type": "integer"}
    assert "copied exactly" not in json.dumps(parameters)
    assert "[Q1]" in request["messages"][-1]["content"]


def test_a_callers_schema_is_unchanged_by_quotations_first(server: ScriptedServer) -> None:
    reply = {"people": [{"name": "Anna Berg", "quote": "We will not send troops"}]}
    server.replies.append(Reply(completion(reply, name="People")))
    got = extractor(server).extract(TEXT, schema=People)
    assert got.coverage is None and got.source is None
    assert got.spans["people[0].quote"].start == TEXT.index("We will not send")
    assert "[Q1]" not in server.requests[0]["messages"][-1]["content"]


def test_the_model_free_steps_import_without_openai() -> None:
    code = (
        "import sys, extractor.pipeline, extractor.answers, extractor.prompting; "
        "loaded = ('openai', 'instructor', 'httpx', 'tenacity'); "
        "print(sorted(m for m in loaded if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_coverage_spans_move_with_the_records_to_index_the_file() -> None:
    """The command prints offsets into the file: coverage's spans move with the quotes' spans."""
    from extractor import read_article
    from extractor.render import against_source

    path = Path(__file__).resolve().parents[1] / "examples" / "articles"
    loaded = read_article(path / "peacekeepers-2025-08-27.txt", max_chars=1_000_000)
    a = read(loaded.text, loaded.published, ArticleExtraction, max_chars=1_000_000)
    request = prompt(a, plan(a)[0], find(a))
    reply = request.response_model.model_validate(
        {"quotes": [{"n": 1, "kind": "scare"}]}, context=request.context.as_validation_context()
    )
    moved = against_source(ground(a, request, reply).data, loaded)  # type: ignore[arg-type]
    whole = (path / "peacekeepers-2025-08-27.txt").read_text(encoding="utf-8")
    assert moved.coverage is not None
    for span in [*moved.coverage.unattributed, *(r.span for r in moved.coverage.ruled_out)]:
        assert whole[span.start : span.end] == span.text


def test_merged_coverage_is_counted_once_on_the_whole_article() -> None:
    # HAND-WRITTEN answers of two passes over TEXT: the first says [Q4] is a scare quote and
    # skips [Q5]; the second answers [Q5] and skips [Q4] (rules give it no speaker).
    a, first = validated(answer(**{str(i): x for i, x in enumerate(ALL[:4])}))
    _, second = validated(answer(q1=ALL[0], q5=ALL[4]))
    merged = merge(a, [first, second], find(a)).data
    assert isinstance(merged, ArticleExtraction) and merged.coverage is not None
    coverage = merged.coverage
    assert coverage.found == 5  # not 10: both passes read the same quotations
    assert coverage.attributed == 4 and coverage.unattributed == []
    assert [r.span.text for r in coverage.ruled_out] == ["paper tiger"]
    assert "paper tiger" not in [q.text for q in merged.quotes]
    assert len(merged.quotes) == 4 and all(q.confirmed for q in merged.quotes)
