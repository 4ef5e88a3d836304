"""Tests for the response model: lean JSON Schema for the LLM, grounding on validation."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from extractor import alignment
from extractor.alignment import ArticleIndex
from extractor.dates import DatePrecision
from extractor.models import ArticleExtraction, Event, Quote
from extractor.response_model import (
    GroundingContext,
    grounding_report,
    lean_json_schema,
    response_model_for,
    to_schema,
)
from extractor.spans import Alignment

TEXT = (
    "Kremlin spokesman Dmitry Peskov said Moscow rejects the plan. "
    '"We will not accept foreign troops," Peskov said. '
    "Leaders met last week in Washington to discuss the proposal."
)
PUBLISHED = dt.date(2025, 8, 27)
INVENTED = "We will send troops to the moon"

VALID: dict[str, Any] = {
    "events": [
        {
            "kind": "meeting",
            "summary": "Leaders met in Washington.",
            "date_text": "last week",
            "status": "occurred",
            "evidence": "Leaders met last week in Washington",
        }
    ],
    "quotes": [
        {
            "text": "We will not accept foreign troops,",
            "speaker": {"name": "Dmitry Peskov"},
            "kind": "direct",
        }
    ],
    "commitments": [
        {
            "actor": {"name": "Russia"},
            "polarity": "will_not",
            "kind": "refusal",
            "action": "accept foreign troops",
            "evidence": "We will not accept foreign troops",
        }
    ],
}


def valid() -> dict[str, Any]:
    return copy.deepcopy(VALID)


def with_invented_quote() -> dict[str, Any]:
    data = valid()
    data["quotes"].append({"text": INVENTED, "speaker": {"name": "Peskov"}, "kind": "direct"})
    return data


def context() -> GroundingContext:
    return GroundingContext(ArticleIndex(TEXT))


def nodes(schema: Any) -> Iterator[dict[str, Any]]:
    """Every dict inside a JSON Schema."""
    if isinstance(schema, dict):
        yield schema
        for value in schema.values():
            yield from nodes(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from nodes(item)


# the schema the model sees


@pytest.fixture(scope="module")
def lean() -> dict[str, Any]:
    return response_model_for(ArticleExtraction).model_json_schema()


def test_lean_schema_leaves_out_library_fields(lean: dict[str, Any]) -> None:
    for node in nodes(lean):
        properties = node.get("properties", {})
        assert not {"span", "usage", "published"} & set(properties), properties.keys()
        assert not {"span", "usage", "published"} & set(node.get("required", []))
    assert not {"Span", "Usage", "Alignment"} & set(lean.get("$defs", {}))
    assert not any(node.get("readOnly") for node in nodes(lean))


def test_lean_schema_keeps_what_the_model_fills(lean: dict[str, Any]) -> None:
    assert set(lean["properties"]) == {"events", "quotes", "commitments"}
    quote = lean["properties"]["quotes"]["items"]
    assert set(quote["properties"]) == {"text", "speaker", "kind", "verb"}
    assert "text" in quote["required"]
    assert "description" in quote["properties"]["text"]
    assert "date" in lean["properties"]["events"]["items"]["properties"]


def test_lean_schema_writes_a_definition_used_once_where_it_is_used(lean: dict[str, Any]) -> None:
    # Quote, Event and Commitment are each used once: inlined. Actor is used in all three: kept.
    assert set(lean["$defs"]) == {"Actor"}
    assert lean["properties"]["quotes"]["items"]["properties"]["speaker"]["$ref"] == (
        "#/$defs/Actor"
    )
    assert "#/$defs/Quote" not in json.dumps(lean)
    # An enum's values say its type.
    assert lean["properties"]["quotes"]["items"]["properties"]["kind"]["enum"] == [
        "direct",
        "partial",
        "reported",
    ]
    assert "type" not in lean["properties"]["quotes"]["items"]["properties"]["kind"]


def test_inlining_keeps_a_recursive_definition() -> None:
    class Node(BaseModel):
        label: str
        children: list[Node] = []

    class Tree(BaseModel):
        root: Node

    lean = lean_json_schema(Tree.model_json_schema())
    assert set(lean["$defs"]) == {"Node"}  # refers to itself: cannot be written out
    assert lean["properties"]["root"]["$ref"] == "#/$defs/Node"


def test_lean_schema_has_no_property_titles(lean: dict[str, Any]) -> None:
    for node in nodes(lean):
        for name, prop in node.get("properties", {}).items():
            assert "title" not in prop, name
    for name, definition in lean["$defs"].items():
        assert "title" not in definition, name
    assert lean["title"] == "ArticleExtraction"


def test_lean_schema_is_smaller_than_the_full_one(lean: dict[str, Any]) -> None:
    assert len(json.dumps(lean)) < len(json.dumps(ArticleExtraction.model_json_schema()))


def test_full_schema_still_describes_library_fields() -> None:
    full = ArticleExtraction.model_json_schema()
    assert {"usage", "published"} <= set(full["properties"])
    assert "span" in full["$defs"]["Quote"]["properties"]


def test_response_model_is_cached_and_named_like_the_schema() -> None:
    model = response_model_for(ArticleExtraction)
    assert model is response_model_for(ArticleExtraction)
    assert model.__name__ == "ArticleExtraction"
    assert issubclass(model, ArticleExtraction)


# validation with a grounding context


def test_invented_quote_fails_validation_naming_the_value() -> None:
    grounding = context()
    with pytest.raises(ValidationError) as excinfo:
        response_model_for(ArticleExtraction).model_validate(
            with_invented_quote(), context=grounding.as_validation_context()
        )
    message = str(excinfo.value)
    assert INVENTED in message
    assert "quotes[1].text" in message


def test_invented_quote_leaves_the_grounded_items_as_partial() -> None:
    grounding = context()
    with pytest.raises(ValidationError):
        response_model_for(ArticleExtraction).model_validate(
            with_invented_quote(), context=grounding.as_validation_context()
        )
    partial = grounding.partial
    assert isinstance(partial, ArticleExtraction)
    assert [q.text for q in partial.quotes] == ["We will not accept foreign troops,"]
    assert len(partial.events) == 1
    assert len(partial.commitments) == 1
    assert partial.quotes[0].span is not None
    assert partial.quotes[0].span.start == TEXT.index("We will not accept")
    assert "quotes[1].text" not in partial.spans


def test_valid_reply_is_grounded_and_converts_to_the_callers_class() -> None:
    grounding = context()
    instance = response_model_for(ArticleExtraction).model_validate(
        valid(), context=grounding.as_validation_context()
    )
    assert grounding.partial is None
    for record in (*instance.events, *instance.quotes, *instance.commitments):
        assert record.span is not None
        assert TEXT[record.span.start : record.span.end] == record.span.text
    spans = grounding_report(instance).spans
    assert set(spans) == {
        "events[0].evidence",
        "quotes[0].text",
        "commitments[0].evidence",
    }

    result = to_schema(instance, ArticleExtraction)

    assert type(result) is ArticleExtraction
    for name in ArticleExtraction.model_fields:
        assert getattr(result, name) == getattr(instance, name), name
    assert result.quotes[0].span == spans["quotes[0].text"]


def test_a_validated_reply_holds_the_articles_own_characters() -> None:
    data = valid()
    data["quotes"][0]["text"] = "\u201cWe will not accept foreign\ntroops,\u201d"
    data["events"][0]["evidence"] = '"Leaders met last week in Washington"'
    instance = response_model_for(ArticleExtraction).model_validate(
        data, context=context().as_validation_context()
    )
    assert instance.quotes[0].text == "We will not accept foreign troops,"
    assert instance.events[0].evidence == "Leaders met last week in Washington"
    for record, text in (
        (instance.quotes[0], instance.quotes[0].text),
        (instance.events[0], instance.events[0].evidence),
    ):
        assert record.span is not None
        assert record.span.text == text
        assert record.span.alignment is Alignment.NORMALIZED  # the marks are not the article's
    assert instance.commitments[0].span is not None
    assert instance.commitments[0].span.alignment is Alignment.EXACT


def test_a_value_longer_than_the_article_is_named_without_being_searched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    searched: list[int] = []
    real = alignment._normalize

    def counting(text: str) -> tuple[str, list[int], list[int]]:
        searched.append(len(text))
        return real(text)

    grounding = context()
    grounding.index.find("no such words")  # the article is normalised here, on a first search
    monkeypatch.setattr(alignment, "_normalize", counting)
    data = valid()
    data["quotes"][0]["text"] = "We will not accept foreign troops, " * 20_000
    with pytest.raises(ValidationError) as excinfo:
        response_model_for(ArticleExtraction).model_validate(
            data, context=grounding.as_validation_context()
        )
    assert "quotes[0].text" in str(excinfo.value)
    assert "is not in the article" in str(excinfo.value)
    assert max(searched, default=0) < len(TEXT)  # short values only (a name, say)


def test_to_schema_returns_an_instance_of_the_schema_unchanged() -> None:
    plain = ArticleExtraction()
    assert to_schema(plain, ArticleExtraction) is plain


def test_a_valid_reply_carries_its_report_and_writes_nothing_to_the_context() -> None:
    grounding = context()
    model = response_model_for(ArticleExtraction)
    with pytest.raises(ValidationError):
        model.model_validate(with_invented_quote(), context=grounding.as_validation_context())
    assert len(grounding.partials) == 1 and grounding.partial is not None
    instance = model.model_validate(valid(), context=grounding.as_validation_context())
    assert len(grounding.partials) == 1  # only failed attempts leave their records there
    assert "quotes[0].text" in grounding_report(instance).spans


def test_span_sent_by_the_model_is_overwritten() -> None:
    data = valid()
    made_up = {"start": 0, "end": 7, "text": "Kremlin", "alignment": "exact"}
    data["quotes"][0]["span"] = made_up
    data["events"][0]["span"] = made_up
    instance = response_model_for(ArticleExtraction).model_validate(
        data, context=context().as_validation_context()
    )
    quote_span = instance.quotes[0].span
    event_span = instance.events[0].span
    assert quote_span is not None and event_span is not None
    assert (quote_span.start, quote_span.text) == (
        TEXT.index("We will not accept"),
        "We will not accept foreign troops,",
    )
    assert event_span.start == TEXT.index("Leaders met")


def test_event_date_is_resolved_against_the_published_date() -> None:
    instance = response_model_for(ArticleExtraction).model_validate(
        valid(), context=context().as_validation_context()
    )
    [event] = instance.events
    event.date_from_text(PUBLISHED)
    assert event.date == dt.date(2025, 8, 18)
    assert event.date_end == dt.date(2025, 8, 24)
    assert event.precision is DatePrecision.WEEK


def test_event_date_is_left_alone_without_a_published_date() -> None:
    instance = response_model_for(ArticleExtraction).model_validate(
        valid(), context=context().as_validation_context()
    )
    [event] = instance.events
    event.date_from_text(None)
    assert event.span is not None  # grounded all the same
    assert (event.date, event.date_end) == (None, None)
    assert event.precision is DatePrecision.UNKNOWN


def test_event_is_dated_by_the_dates_step_not_by_validation() -> None:
    grounding = context().as_validation_context()
    event = Event.model_validate(valid()["events"][0], context=grounding)
    assert (event.date, event.precision) == (None, DatePrecision.UNKNOWN)
    event.date_from_text(PUBLISHED)
    assert (event.date, event.precision) == (dt.date(2025, 8, 18), DatePrecision.WEEK)


def test_model_precision_and_range_are_not_trusted() -> None:
    """The model's own precision/date_end are dropped; its ISO date is kept as a day."""
    raw = {
        **valid()["events"][0],
        "date_text": "at some point",
        "date": "2025-08-20",
        "date_end": "2025-12-31",
        "precision": "year",
    }
    event = Event.model_validate(raw, context=context().as_validation_context())
    event.date_from_text(PUBLISHED)
    assert (event.date, event.date_end, event.precision) == (
        dt.date(2025, 8, 20),
        dt.date(2025, 8, 20),
        DatePrecision.DAY,
    )


# validation without context: no grounding


def test_without_context_nothing_is_grounded() -> None:
    instance = response_model_for(ArticleExtraction).model_validate(with_invented_quote())
    assert [q.text for q in instance.quotes][-1] == INVENTED
    assert all(q.span is None for q in instance.quotes)
    assert instance.events[0].date is None


def test_saved_result_round_trips_with_its_spans() -> None:
    instance = response_model_for(ArticleExtraction).model_validate(
        valid(), context=context().as_validation_context()
    )
    result = to_schema(instance, ArticleExtraction)
    result.events[0].date_from_text(PUBLISHED)

    loaded = ArticleExtraction.model_validate_json(result.model_dump_json())

    assert loaded.quotes[0].span == result.quotes[0].span
    assert loaded.events[0].span == result.events[0].span
    assert loaded.commitments[0].span == result.commitments[0].span
    assert loaded.events[0].date == dt.date(2025, 8, 18)
    assert loaded == ArticleExtraction.model_validate(result.model_dump())


def test_saved_result_with_an_ungroundable_quote_still_loads() -> None:
    data = with_invented_quote()
    data["quotes"][1]["span"] = {"start": 0, "end": 7, "text": "Kremlin"}
    loaded = response_model_for(ArticleExtraction).model_validate_json(json.dumps(data))
    assert isinstance(loaded.quotes[1], Quote)
    assert loaded.quotes[1].span is not None
    assert loaded.quotes[1].span.text == "Kremlin"  # no grounding without a context


def test_malformed_span_sent_by_the_model_is_ignored() -> None:
    data = valid()
    data["quotes"][0]["span"] = {"start": 5, "end": 2, "text": "x"}
    instance = response_model_for(ArticleExtraction).model_validate(
        data, context=context().as_validation_context()
    )
    assert instance.quotes[0].span is not None
    assert instance.quotes[0].span.start == TEXT.index("We will not accept")


def test_optional_fields_are_omitted_not_null_and_enums_carry_no_docstring() -> None:
    """An optional key with a null default is left out by the model rather than sent as null."""
    schema = response_model_for(ArticleExtraction).model_json_schema()
    record = schema["properties"]["quotes"]["items"]
    quote = record["properties"]
    assert quote["verb"]["type"] == "string" and "anyOf" not in quote["verb"]
    assert "verb" not in record.get("required", [])
    assert (
        Quote.model_validate({"text": "x", "speaker": {"name": "y"}, "kind": "direct"}).verb is None
    )
    assert quote["kind"]["enum"] == ["direct", "partial", "reported"]
    assert "How the speech" not in json.dumps(quote["kind"])  # no enum docstring


def test_a_required_nullable_field_keeps_null_as_a_type() -> None:
    class Strict(BaseModel):
        note: str | None

    schema = response_model_for(Strict).model_json_schema()
    assert schema["properties"]["note"]["type"] == ["string", "null"]


def test_the_lean_schema_is_built_once_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """instructor asks for the schema on every call; building it was 30 % of client CPU."""

    class Once(BaseModel):
        note: str

    model = response_model_for(Once)
    built: list[int] = []
    real = Once.model_json_schema.__func__  # type: ignore[attr-defined]

    def counting(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        built.append(1)
        return real(cls, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(Once, "model_json_schema", classmethod(counting))
    first = model.model_json_schema()
    first["properties"].clear()  # a caller's change does not reach the next caller
    second = model.model_json_schema()
    assert len(built) == 1 and second["properties"] == {"note": {"type": "string"}}


def test_instructor_gets_the_same_prepared_model_every_call() -> None:
    from extractor.inference import instructor_model

    model = response_model_for(ArticleExtraction)
    assert instructor_model(model) is instructor_model(model)
    assert issubclass(instructor_model(model), model)
