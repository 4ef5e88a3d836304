"""The response model handed to instructor: the caller's schema, grounded, with a lean schema.

`response_model_for(schema)` subclasses the caller's model so that
- its JSON Schema, as the LLM sees it, leaves out every field the library computes (``readOnly``)
  and the ``title`` pydantic adds to each property (tokens the model does not need), and
- keys the schema does not have at its top level are errors (a reply of another shape is
  re-asked; unknown keys inside nested records are ignored, as pydantic does by default), and
- validating it with a grounding context (`GroundingContext`) checks every `Verbatim` field
  against the article and raises, naming each value not found, so instructor re-asks. A valid
  instance carries its `GroundingReport` (read it with `grounding_report`); nothing is written
  back to the context except the last failed attempt's grounded records (`partials`), which the
  error keeps so nothing extracted is lost.

A schema can name further problems for the re-ask with a ``reask_problems(self, context)`` method
returning lines (the built-in answer model names quotation numbers it skipped or invented).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, PrivateAttr, ValidationInfo, model_validator

from extractor.alignment import ArticleIndex
from extractor.grounding import GroundingReport, ground, without_ungrounded
from extractor.spans import GROUNDING_CONTEXT_KEY, ValidationContext, grounding_state

if TYPE_CHECKING:
    from extractor.quotations import Quotation
    from extractor.sentences import Sentence

__all__ = [
    "GroundingContext",
    "grounding_report",
    "lean_json_schema",
    "response_model_for",
    "to_schema",
]

T = TypeVar("T", bound=BaseModel)


@dataclass(frozen=True)
class GroundingContext:
    """What validators read from instructor's validation context for one call."""

    index: ArticleIndex
    # The quotations numbered in the prompt ([Q1] is quotations[0]), for the built-in schema.
    quotations: Sequence[Quotation] = ()
    # The sentences numbered in the prompt (sentence 1 is sentences[0]), for the built-in schema.
    sentences: Sequence[Sentence] = ()
    # Each failed attempt's grounded records (None when none could be kept), last one last.
    partials: list[BaseModel | None] = field(default_factory=list, compare=False)

    def as_validation_context(self) -> ValidationContext:
        """The ``context=`` for instructor: validators find this object in it."""
        return ValidationContext({GROUNDING_CONTEXT_KEY: self})

    @property
    def partial(self) -> BaseModel | None:
        """The last failed attempt's grounded records, if any."""
        return self.partials[-1] if self.partials else None


def grounding_report(instance: BaseModel) -> GroundingReport:
    """The grounding report of a validated response-model instance (empty if never grounded)."""
    report = getattr(instance, "_grounding", None)
    return report if isinstance(report, GroundingReport) else GroundingReport()


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
            required = set(out.get("required", ()))
            kept = {
                name: _omittable(
                    {
                        k: v
                        for k, v in prop.items()
                        if k != "title" and not (k == "default" and v is None)
                    },
                    optional=name not in required and prop.get("default", 0) is None,
                )
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
    return _inline_single_use(_bare_enums(lean))


def _bare_enums(node: Any) -> Any:
    """``{"enum": [...], "type": "string"}`` as ``{"enum": [...]}``: the values say the type."""
    if isinstance(node, list):
        return [_bare_enums(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _bare_enums(value) for key, value in node.items()}
    values = out.get("enum")
    strings = isinstance(values, list) and all(isinstance(v, str) for v in values)
    if out.get("type") == "string" and strings:
        del out["type"]
    return out


def _inline_single_use(schema: dict[str, Any]) -> dict[str, Any]:
    """Each definition referenced once, written where it is used instead of under ``$defs``.

    The same schema in fewer tokens: a ``$ref`` and its definition's key cost about ten. A
    definition used twice or more, or by itself, stays where it is.
    """
    definitions = schema.get("$defs")
    if not isinstance(definitions, dict):
        return schema
    while True:
        counts = dict.fromkeys(definitions, 0)
        _count_refs(schema, counts)
        single = {
            name
            for name, count in counts.items()
            if count == 1 and f"#/$defs/{name}" not in json.dumps(definitions[name])
        }
        if not single:
            break
        schema = _replace_refs(schema, {name: definitions[name] for name in single})
        definitions = {k: v for k, v in schema["$defs"].items() if k not in single}
        schema["$defs"] = definitions
    if not definitions:
        del schema["$defs"]
    return schema


def _count_refs(node: Any, counts: dict[str, int]) -> None:
    if isinstance(node, list):
        for item in node:
            _count_refs(item, counts)
    elif isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in counts:
            counts[ref[8:]] += 1
        for value in node.values():
            _count_refs(value, counts)


def _replace_refs(node: Any, inline: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_replace_refs(item, inline) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in inline:
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**_replace_refs(copy.deepcopy(inline[ref[8:]]), inline), **siblings}
    return {key: _replace_refs(value, inline) for key, value in node.items()}


def _omittable(prop: dict[str, Any], optional: bool) -> dict[str, Any]:
    """An optional property whose default is null, without the null: the model omits it instead.

    (Sent as null it costs completion tokens for nothing; omitted, it validates to None all the
    same.)
    """
    if not optional:
        return prop
    kind = prop.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [t for t in kind if t != "null"]
        return {**prop, "type": rest[0] if len(rest) == 1 else rest}
    branches = prop.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        others = {k: v for k, v in prop.items() if k != "anyOf"}
        return {**rest[0], **others} if len(rest) == 1 else {**others, "anyOf": rest}
    return prop


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
def response_model_for(schema: type[T], name: str | None = None) -> type[T]:
    """The caller's schema with grounding on validation and a lean JSON Schema for the model.

    `name` names the class (and so the tool the model fills); the schema's own name by default.
    """

    built: dict[str, str] = {}

    def model_json_schema(cls: type[BaseModel], *args: Any, **kwargs: Any) -> dict[str, Any]:
        # Built once per set of arguments (instructor asks on every call); a copy each time, as
        # callers may change what they get (read back from JSON: five times as fast as deepcopy).
        key = repr((args, sorted(kwargs.items())))
        if key not in built:
            lean = lean_json_schema(schema.model_json_schema(*args, **kwargs))
            built[key] = json.dumps({**lean, "title": name} if name and "title" in lean else lean)
        return cast(dict[str, Any], json.loads(built[key]))

    def ground_all(self: BaseModel, info: ValidationInfo) -> BaseModel:
        grounding = grounding_state(info)
        if not isinstance(grounding, GroundingContext):
            return self
        report = ground(self, grounding.index)
        more = getattr(self, "reask_problems", None)
        problems: list[str] = more(grounding) if callable(more) else []
        if report.issues or problems:
            partial = without_ungrounded(self, report.issues) if report.issues else self
            grounding.partials.append(partial)
            lines = [report.message()] if report.issues else []
            raise ValueError("\n".join([*lines, *problems]))
        object.__setattr__(self, "_grounding", report)  # a private attribute of this class
        return self

    namespace = {
        "__module__": schema.__module__,
        "__qualname__": name or schema.__qualname__,
        "__doc__": schema.__doc__,
        # Keys the schema does not have mean the reply is not this schema: re-ask, don't ignore.
        "model_config": ConfigDict(extra="forbid"),
        "model_json_schema": classmethod(model_json_schema),
        "_ground": model_validator(mode="after")(ground_all),
        "_grounding": PrivateAttr(default=None),
    }
    # Same name as the caller's class, so validation errors (which the model reads) name it.
    grounded = type(name or schema.__name__, (schema,), namespace)
    return cast(type[T], grounded)


def to_schema(instance: BaseModel, schema: type[T]) -> T:
    """Rebuild a validated response-model instance as the caller's class, without validating."""
    if type(instance) is schema:
        return instance
    values = {name: getattr(instance, name) for name in schema.model_fields}
    return schema.model_construct(_fields_set=set(instance.model_fields_set), **values)
