"""Grounding: every `Verbatim` field must be found in the article; its span is computed here.

`ground` walks any Pydantic object, looks each verbatim value up in the article, fills the
record's `LibrarySpan` field with the occurrence that fits (the one nearest to where the record's
actor is named, not already taken by an identical record), replaces the value by the article's own
characters at that span (outer quotation marks and spaces trimmed), and reports what could not be
found, with the closest passage as a hint for the re-ask.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel

from extractor.alignment import ArticleIndex, Placer
from extractor.spans import LibraryComputed, Span, VerbatimText

__all__ = ["GroundingIssue", "GroundingReport", "ground", "library_fields", "verbatim_fields"]

logger = logging.getLogger(__name__)

Path = tuple[str | int, ...]


def _marked(annotation: Any, marker: type) -> bool:
    """Whether `marker` annotates the type or a type inside it (``Verbatim | None``, lists)."""
    if get_origin(annotation) is Annotated:
        if any(isinstance(m, marker) for m in annotation.__metadata__):
            return True
        return _marked(get_args(annotation)[0], marker)
    return any(_marked(arg, marker) for arg in get_args(annotation))


def _has_marker(model: type[BaseModel], name: str, marker: type) -> bool:
    field = model.model_fields[name]
    return any(isinstance(m, marker) for m in field.metadata) or _marked(field.annotation, marker)


@cache
def _fields(model: type[BaseModel], marker: type) -> tuple[str, ...]:
    return tuple(name for name in model.model_fields if _has_marker(model, name, marker))


def verbatim_fields(model: type[BaseModel]) -> list[str]:
    """Names of the fields of `model` that must be copied verbatim from the article."""
    return list(_fields(model, VerbatimText))


def library_fields(model: type[BaseModel]) -> list[str]:
    """Names of the fields of `model` that the library fills after validation."""
    return list(_fields(model, LibraryComputed))


def format_path(path: Path) -> str:
    """Render a field path as ``quotes[2].text``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True)
class GroundingIssue:
    """A verbatim value that is not in the article."""

    path: Path
    value: str
    closest: str | None

    def describe(self) -> str:
        """One line for the re-ask message and the error report."""
        shown = self.value if len(self.value) <= 160 else self.value[:157] + "..."
        line = f'{format_path(self.path)}: "{shown}" is not in the article'
        if self.closest:
            line += f'; the closest passage is "{self.closest}"'
        return line


@dataclass
class GroundingReport:
    """What grounding found: a span per verbatim field, and the values it could not find."""

    spans: dict[str, Span] = field(default_factory=dict)
    issues: list[GroundingIssue] = field(default_factory=list)

    def message(self) -> str:
        """The re-ask message: every value not found, and what to do about it."""
        lines = [
            "These values are not in the article. Copy text exactly as the article writes it "
            "(same words, same order, no paraphrase), or leave the item out:"
        ]
        lines += [f"- {issue.describe()}" for issue in self.issues]
        return "\n".join(lines)


_CONTAINERS = (BaseModel, list, tuple, dict)


def _walk(obj: Any, path: Path) -> Iterator[tuple[Path, BaseModel]]:
    """Every Pydantic model inside `obj`, outermost first, with its path."""
    if isinstance(obj, BaseModel):
        yield path, obj
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            if isinstance(value, _CONTAINERS):  # a string or a number holds no model
                yield from _walk(value, (*path, name))
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            if isinstance(item, _CONTAINERS):
                yield from _walk(item, (*path, i))
    elif isinstance(obj, dict):
        for key, item in obj.items():
            if isinstance(item, _CONTAINERS):
                yield from _walk(item, (*path, str(key)))


def _strings(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """Every string in a verbatim field's value, through lists, tuples, sets and dicts."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _strings(item, (*path, i))
    elif isinstance(value, (set, frozenset)):
        for i, item in enumerate(sorted(value, key=str)):
            yield from _strings(item, (*path, i))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, str(key)))


def _with_texts(value: Any, path: Path, texts: dict[Path, str]) -> Any:
    """`value` with the strings at the given paths replaced, rebuilt like `_strings` walks it."""
    if isinstance(value, str):
        return texts.get(path, value)
    if isinstance(value, (list, tuple)):
        items = [_with_texts(item, (*path, i), texts) for i, item in enumerate(value)]
        return items if type(value) is list else type(value)(items)
    if isinstance(value, (set, frozenset)):
        ordered = sorted(value, key=str)
        return type(value)(_with_texts(item, (*path, i), texts) for i, item in enumerate(ordered))
    if isinstance(value, dict):
        return {key: _with_texts(item, (*path, str(key)), texts) for key, item in value.items()}
    return value


def _anchor_offsets(
    record: BaseModel, index: ArticleIndex, cache: dict[tuple[str, ...], list[int]]
) -> list[int]:
    """Sorted offsets where the record's actors are named (by their last name), to place it."""
    names = []
    for _, inner in _walk(record, ()):
        name = getattr(inner, "name", None)
        if isinstance(name, str) and name.split():
            names.append(name.split()[-1])
    key = tuple(names)
    if key not in cache:
        cache[key] = sorted({s.start for last in set(names) for s in index.find(last)})
    return cache[key]


def ground(obj: BaseModel, index: ArticleIndex) -> GroundingReport:
    """Find every verbatim value of `obj` in the article, filling span fields as it goes.

    Each value found is replaced by the article's own text at its span (quotation marks around
    it and outer spaces trimmed), so a record says what the article says, character for character.
    """
    report = GroundingReport()
    taken: dict[tuple[type, str], set[tuple[int, int]]] = {}
    placers: dict[tuple[type, str, str], Placer] = {}
    named_at: dict[tuple[str, ...], list[int]] = {}
    for path, record in _walk(obj, ()):
        model = type(record)
        span_fields = library_fields(model)
        for position, name in enumerate(verbatim_fields(model)):
            first = True
            texts: dict[Path, str] = {}
            value = getattr(record, name)
            for value_path, text in _strings(value, (*path, name)):
                found = index.find(text)
                if not found:
                    near = index.closest(text)
                    report.issues.append(
                        GroundingIssue(value_path, text, near[0].text if near else None)
                    )
                    continue
                placer = placers.get((model, name, text))
                if placer is None:
                    placer = placers[model, name, text] = Placer(found, index.sentence_ends)
                used = taken.setdefault((model, name), set())
                chosen = placer.take(_anchor_offsets(record, index, named_at), used)
                used.add((chosen.start, chosen.end))
                report.spans[format_path(value_path)] = chosen
                if chosen.text != text:
                    texts[value_path] = chosen.text
                if position == 0 and first and "span" in span_fields:
                    object.__setattr__(record, "span", chosen)
                first = False
            if texts:
                object.__setattr__(record, name, _with_texts(value, (*path, name), texts))
    for issue in report.issues:
        logger.debug("ungrounded %s", issue.describe())
    return report


def without_ungrounded(obj: BaseModel, issues: list[GroundingIssue]) -> BaseModel | None:
    """A copy of `obj` without the list items that hold ungrounded values; None if impossible."""
    drop: dict[Path, set[int]] = {}
    for issue in issues:
        list_at = max((i for i, part in enumerate(issue.path) if isinstance(part, int)), default=-1)
        if list_at < 0:
            return None
        drop.setdefault(issue.path[:list_at], set()).add(int(issue.path[list_at]))
    copy = obj.model_copy(deep=True)
    try:
        _drop_items(copy, drop)
    except (AttributeError, IndexError, KeyError, TypeError):  # a set, or a path we cannot edit
        return None
    return copy


def _drop_items(copy: BaseModel, drop: dict[Path, set[int]]) -> None:
    """Remove the listed items from the lists at the given paths, in place."""
    # Deepest lists first, so removing an item never shifts a path still to be handled.
    for list_path in sorted(drop, key=len, reverse=True):
        holder: Any = copy
        for part in list_path[:-1]:
            holder = _child(holder, part)
        last = list_path[-1]
        items = _child(holder, last)
        if not isinstance(items, (list, tuple)):
            raise TypeError(f"cannot drop items from a {type(items).__name__}")
        kept = type(items)(item for i, item in enumerate(items) if i not in drop[list_path])
        if isinstance(holder, BaseModel):
            object.__setattr__(holder, str(last), kept)
        else:
            holder[last] = kept


def _child(holder: Any, part: str | int) -> Any:
    """One step down a path: an attribute of a model, else an item of a list or dict."""
    return getattr(holder, str(part)) if isinstance(holder, BaseModel) else holder[part]
