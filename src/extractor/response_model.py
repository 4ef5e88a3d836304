"""The response model handed to instructor: the caller's schema, grounded, with a lean schema.

`response_model_for(schema)` subclasses the caller's model so that
- its JSON Schema, as the LLM sees it, leaves out every field the library computes (``readOnly``)
  and the ``title`` pydantic adds to each property (tokens the model does not need), and
- keys the schema does not have at its top level are errors (a reply of another shape is
  re-asked; unknown keys inside nested records are ignored, as pydantic does by default), and
- validating it with a grounding context (`GroundingContext`) checks every `Verbatim` field
  against the article and raises, naming each value not found, so instructor re-asks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, ValidationInfo, model_validator

from extractor.alignment import ArticleIndex
from extractor.grounding import GroundingReport, ground, without_ungrounded
from extractor.spans import GROUNDING_CONTEXT_KEY, Span, ValidationContext, grounding_state

__all__ = ["GroundingContext", "lean_json_schema", "response_model_for"]

T = TypeVar("T", bound=BaseModel)


@dataclass
class GroundingContext:
    """Per-call state that validators read from instructor's validation context."""

    index: ArticleIndex
    published: dt.date | None = None
    spans: dict[str, Span] = field(default_factory=dict)
    partial: BaseModel | None = None

    def as_validation_context(self) -> ValidationContext:
        """The ``context=`` for instructor: validators find this object in it."""
        return ValidationContext({GROUNDING_CONTEXT_KEY: self})


def lean_json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop ``readOnly`` properties, per-property titles, null defaults and unused definitions."""

    def trim(node: Any) -> Any:
        if isinstance(node, list):
            return [trim(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = _nullable_as_type_list({key: trim(value) for key, value in node.items()})
        properties = out.get("properties")
        if isinstance(properties, dict):
            kept = {
                name: {
                    k: v
                    for k, v in prop.items()
                    if k != "title" and not (k == "default" and v is None)
                }
                for name, prop in properties.items()
                if not (isinstance(prop, dict) and prop.get("readOnly"))
            }
            out["properties"] = kept
            if "required" in out:
                out["required"] = [name for name in out["required"] if name in kept]
        return out

    lean = trim(schema)
    definitions = lean.get("$defs")
    if isinstance(definitions, dict):
        body = {k: v for k, v in lean.items() if k != "$defs"}
        used: set[str] = set()
        pending = [body]
        while pending:
            text = repr(pending.pop())
            for name in definitions:
                if name not in used and f"#/$defs/{name}'" in text:
                    used.add(name)
                    pending.append(definitions[name])
        # Enum docstrings add nothing for the model: the values and the field's description do.
        lean["$defs"] = {
            k: {
                key: value
                for key, value in v.items()
                if key != "title" and not (key == "description" and "enum" in v)
            }
            for k, v in definitions.items()
            if k in used
        }
        if not lean["$defs"]:
            del lean["$defs"]
    return cast(dict[str, Any], lean)


def _nullable_as_type_list(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf: [{type: X, ...}, {type: null}]`` as ``type: [X, "null"]``: the same, shorter."""
    branches = node.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2 or {"type": "null"} not in branches:
        return node
    (other,) = [b for b in branches if b != {"type": "null"}]
    if not isinstance(other, dict) or not isinstance(other.get("type"), str) or "$ref" in other:
        return node
    merged = {k: v for k, v in node.items() if k != "anyOf"}
    return {**other, **merged, "type": [other["type"], "null"]}


@cache
def response_model_for(schema: type[T]) -> type[T]:
    """The caller's schema with grounding on validation and a lean JSON Schema for the model."""

    def model_json_schema(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        return lean_json_schema(schema.model_json_schema(*args, **kwargs))

    def ground_all(self: BaseModel, info: ValidationInfo) -> BaseModel:
        grounding = grounding_state(info)
        if not isinstance(grounding, GroundingContext):
            return self
        report: GroundingReport = ground(self, grounding.index)
        grounding.spans = report.spans
        if report.issues:
            grounding.partial = without_ungrounded(self, report.issues)
            raise ValueError(report.message())
        grounding.partial = None
        return self

    namespace = {
        "__module__": schema.__module__,
        "__qualname__": schema.__qualname__,
        "__doc__": schema.__doc__,
        # Keys the schema does not have mean the reply is not this schema: re-ask, don't ignore.
        "model_config": ConfigDict(extra="forbid"),
        "model_json_schema": classmethod(model_json_schema),
        "_ground": model_validator(mode="after")(ground_all),
    }
    # Same name as the caller's class, so validation errors (which the model reads) name it.
    grounded = type(schema.__name__, (schema,), namespace)
    return cast(type[T], grounded)


def to_schema(instance: BaseModel, schema: type[T]) -> T:
    """Rebuild a validated response-model instance as the caller's class, without validating."""
    if type(instance) is schema:
        return instance
    values = {name: getattr(instance, name) for name in schema.model_fields}
    return schema.model_construct(_fields_set=set(instance.model_fields_set), **values)
