"""Merging: the records of an article's chunks (or passes) into one result for the whole article.

Three steps, each callable alone:

- `shift_spans`: a chunk's result indexes the chunk's text; every `Span` in it is rebuilt with the
  chunk's start added, and checked against the whole article (``article[start:end] == text``).
- `unify_actor_names`: one person has one name in every record of the article. Names are grouped
  by last name; within a group, a name whose words are all in a fuller one ("Trump", "President
  Donald Trump") becomes the fullest name ("Donald Trump": titles before a name are not part of
  it). Different people who share a surname ("Donald Trump", "Melania Trump") keep their names,
  and a bare "Trump" beside both is left as it is: it could be either.
- `merge_records`: the same record found by two chunks (in their overlap) or two passes is kept
  once (the rule is in its docstring).

`merge_extractions` does all three for `ArticleExtraction` results.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

from extractor.errors import ConfigurationError, InputError
from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    Event,
    Quote,
    Usage,
)
from extractor.spans import Span

__all__ = [
    "MIN_OVERLAP",
    "canonical_names",
    "merge_extractions",
    "merge_lists",
    "merge_records",
    "mergeable",
    "shift_span",
    "shift_spans",
    "unify_actor_names",
]

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R", bound="Quote | Commitment | Event")

MIN_OVERLAP = 0.5
"""Two spans are the same record's when they share at least this much of their union."""

_BUCKET = 256  # characters per bucket of the span index used to find overlapping records


# --- shifting -------------------------------------------------------------------------------


def shift_span(span: Span, offset: int, article: str) -> Span:
    """The span of a chunk starting at `offset`, as a span of the whole article."""
    start, end = span.start + offset, span.end + offset
    if offset < 0 or article[start:end] != span.text:
        raise InputError(
            f"span {span.start}-{span.end} of the chunk at offset {offset} is not "
            f"{span.text[:40]!r} in the article: pass the offset where the chunk's text starts "
            "in the article the chunk was cut from"
        )
    return Span(start=start, end=end, text=span.text, alignment=span.alignment)


def _shifted(value: Any, offset: int, article: str) -> Any:
    """`value` with every span inside it shifted; the same object when it holds none."""
    if isinstance(value, Span):
        return shift_span(value, offset, article)
    if isinstance(value, BaseModel):
        return shift_spans(value, offset, article)
    if isinstance(value, list | tuple):
        items = [_shifted(item, offset, article) for item in value]
        if all(new is old for new, old in zip(items, value, strict=True)):
            return value
        return type(value)(items)
    if isinstance(value, dict):
        changed = {key: _shifted(item, offset, article) for key, item in value.items()}
        if all(changed[key] is item for key, item in value.items()):
            return value
        return changed
    return value


def shift_spans(result: M, offset: int, article: str) -> M:
    """A copy of a chunk's result (any model: records, `Extraction`) with article-wide spans.

    Spans are frozen, so new ones are built; the result passed in is not changed (and is what
    comes back, checked, for the chunk at offset 0).
    Raises InputError when a span's text is not at its shifted place in `article`.
    """
    if offset == 0:
        for span in _spans_in(result):
            shift_span(span, 0, article)  # checked all the same
        return result
    updates = {}
    for name in type(result).model_fields:
        value = getattr(result, name)
        new = _shifted(value, offset, article)
        if new is not value:
            updates[name] = new
    return result.model_copy(update=updates) if updates else result


def _spans_in(value: Any) -> Iterable[Span]:
    """Every span inside a model, list or dict."""
    if isinstance(value, Span):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _spans_in(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _spans_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _spans_in(item)


# --- actor names ----------------------------------------------------------------------------

# Words that introduce a name rather than belong to it: "President Donald Trump" is Donald Trump.
_TITLES = frozenset(
    [
        "president",
        "vice",
        "prime",
        "minister",
        "chancellor",
        "secretary",
        "state",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "sir",
        "dame",
        "lord",
        "lady",
        "gen",
        "general",
        "sen",
        "senator",
        "rep",
        "representative",
        "gov",
        "governor",
        "mayor",
        "king",
        "queen",
        "prince",
        "princess",
        "pope",
        "lt",
        "col",
        "capt",
        "sgt",
        "adm",
        "admiral",
        "prof",
        "professor",
        "rev",
        "judge",
        "justice",
        "ambassador",
        "envoy",
        "former",
        "foreign",
        "defence",
        "defense",
        "leader",
        "chief",
        "ceo",
        "chairman",
        "chairwoman",
        "chair",
        "director",
        "commander",
        "the",
    ]
)
_PARTICLES = frozenset(
    [
        "von",
        "van",
        "der",
        "den",
        "de",
        "da",
        "di",
        "del",
        "della",
        "la",
        "le",
        "du",
        "bin",
        "al",
        "ibn",
    ]
)
_SUFFIXES = frozenset(["jr", "sr", "ii", "iii", "iv"])
_STRIP = re.compile(r"^[\W_]+|[\W_]+$")


def _word(token: str) -> str:
    """A token compared as a name word: case folded, outer punctuation and a possessive gone."""
    word = _STRIP.sub("", token).casefold().replace(".", "")
    return word[:-2] if word.endswith(("'s", "\u2019s")) else word


def _core(name: str) -> list[str]:
    """The tokens of a name proper: the capitalised run at its end, titles before it dropped."""
    tokens = name.split()
    core: list[str] = []
    for token in reversed(tokens):
        word = _word(token)
        if not word or word in _TITLES:
            break
        if token[0].isupper() or (core and word in _PARTICLES) or (not core and word in _SUFFIXES):
            core.append(token)
            continue
        break
    while core and _word(core[-1]) in _PARTICLES:  # a particle cannot begin a name
        core.pop()
    return core[::-1]


def _key(core: list[str]) -> str:
    """The last name of a core: its last word that is not a suffix."""
    words = [_word(token) for token in core]
    while len(words) > 1 and words[-1] in _SUFFIXES:
        words.pop()
    return words[-1] if words else ""


def canonical_names(names: Iterable[str]) -> dict[str, str]:
    """Which name each of an article's actor names becomes (only names that change are keys).

    Names sharing a last name form a group. A name whose words are all in one fullest name of its
    group becomes that name (its words without the titles before them; of equally full ones, the
    most frequent, then the first). A name contained in two fullest names that differ ("Trump"
    beside "Donald Trump" and "Melania Trump") is left unchanged, and so is a group of one name.
    """
    counts = Counter(names)
    groups: dict[str, list[str]] = {}
    for name in counts:  # first-seen order
        core = _core(name)
        if core:
            groups.setdefault(_key(core), []).append(name)
    renames: dict[str, str] = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        cores = {name: _core(name) for name in members}
        words = {name: frozenset(_word(token) for token in cores[name]) for name in members}
        fullest = [
            name for name in members if not any(words[name] < words[other] for other in members)
        ]
        by_words: dict[frozenset[str], str] = {}
        for name in sorted(fullest, key=lambda n: (-counts[n], members.index(n))):
            by_words.setdefault(words[name], " ".join(cores[name]))
        for name in members:
            targets = {w for w in by_words if words[name] <= w}
            if len(targets) == 1:
                target = by_words[targets.pop()]
                if target != name:
                    renames[name] = target
    return renames


def _renamed_actor(actor: Actor, renames: dict[str, str]) -> Actor:
    new = renames.get(actor.name)
    return actor if new is None else actor.model_copy(update={"name": new})


def _renamed(record: R, renames: dict[str, str]) -> R:
    """The record with its actors renamed (a copy when any name changes)."""
    if isinstance(record, Quote):
        speaker = _renamed_actor(record.speaker, renames)
        return (
            record if speaker is record.speaker else record.model_copy(update={"speaker": speaker})
        )
    if isinstance(record, Commitment):
        actor = _renamed_actor(record.actor, renames)
        return record if actor is record.actor else record.model_copy(update={"actor": actor})
    actors = [_renamed_actor(actor, renames) for actor in record.actors]
    if all(new is old for new, old in zip(actors, record.actors, strict=True)):
        return record
    named: dict[str, Actor] = {}  # "Trump" and "Donald Trump" in one event: one actor, the fuller
    for actor in actors:
        kept = named.get(actor.name)
        if kept is None or _filled(actor.model_dump()) > _filled(kept.model_dump()):
            named[actor.name] = actor  # a dict keeps the first position
    return record.model_copy(update={"actors": list(named.values())})


def _actors(record: Quote | Commitment | Event) -> list[Actor]:
    if isinstance(record, Quote):
        return [record.speaker]
    if isinstance(record, Commitment):
        return [record.actor]
    return list(record.actors)


def unify_actor_names(records: Sequence[R]) -> list[R]:
    """The records with one name per person across all of them (see `canonical_names`)."""
    renames = canonical_names(actor.name for record in records for actor in _actors(record))
    if not renames:
        return list(records)
    return [_renamed(record, renames) for record in records]


# --- merging records ------------------------------------------------------------------------


def _filled(value: Any) -> int:
    """How many leaf values of a dumped record are filled (not None, not empty)."""
    if isinstance(value, dict):
        return sum(_filled(item) for item in value.values())
    if isinstance(value, list):
        return sum(_filled(item) for item in value) if value else 0
    return 0 if value is None or value == "" else 1


def _overlap(a: Span, b: Span) -> float:
    """The share of the two spans' union that both cover (1.0 for the same span)."""
    union = max(a.end, b.end) - min(a.start, b.start)
    if union == 0:
        return 1.0 if a.start == b.start else 0.0
    return max(0, min(a.end, b.end) - max(a.start, b.start)) / union


def _compatible(a: Quote | Commitment | Event, b: Quote | Commitment | Event) -> bool:
    """Whether two records of one type can be the same statement (beyond their spans)."""
    if isinstance(a, Commitment) and isinstance(b, Commitment):
        return a.polarity is b.polarity
    if isinstance(a, Event) and isinstance(b, Event):
        return a.kind is b.kind
    return type(a) is type(b)


@dataclass
class _Cluster:
    """Records taken for one: the one kept so far, and which parts have contributed."""

    best: Any
    order: int  # when the kept record was found
    parts: set[int] = field(default_factory=set)


def _rank(record: Quote | Commitment | Event, order: int) -> tuple[bool, int, int, int]:
    """Higher is kept: confirmed by the model, the longer span, more filled fields, found first."""
    confirmed = getattr(record, "confirmed", True) is not False  # quotes the model attributed
    length = record.span.end - record.span.start if record.span is not None else -1
    return (confirmed, length, _filled(record.model_dump()), -order)


def merge_records(parts: Sequence[Sequence[R]], *, min_overlap: float = MIN_OVERLAP) -> list[R]:
    """One record for each record found by several parts (chunks or passes) of one article.

    `parts` holds each part's records, spans in whole-article offsets (see `shift_spans`). Records
    of two different parts are the same when they are of the same type, their spans share at least
    `min_overlap` of their union, and, for commitments, their polarity, for events, their kind
    agree; a record joins the overlapping one it shares most with. Records of one part are never
    merged with each other: the model listed them apart (two commitments may cite one sentence).
    Records without a span are merged only when equal in every field.
    Of the records taken for one, the one kept whole is the one the model confirmed (a quote the
    model attributed beats one attributed by the library's rules only), then the one with the
    longer span, then the one with more filled fields, then the one found first. The result is in
    article order (records without a span last, in the order found).
    """
    clusters: list[_Cluster] = []
    buckets: dict[tuple[type, int], list[int]] = {}  # (type, start // _BUCKET) -> clusters
    spanless: dict[str, int] = {}
    order = 0
    for part, records in enumerate(parts):
        for record in records:
            order += 1
            span = record.span
            if span is None:
                key = f"{type(record).__name__}:{record.model_dump_json()}"
                found = spanless.get(key)
                if found is not None and part not in clusters[found].parts:
                    clusters[found].parts.add(part)
                    continue
                spanless[key] = len(clusters)
                clusters.append(_Cluster(record, order, {part}))
                continue
            best_index, best_share = -1, 0.0
            for bucket in range(span.start // _BUCKET, span.end // _BUCKET + 1):
                for index in buckets.get((type(record), bucket), ()):
                    cluster = clusters[index]
                    if part in cluster.parts or not _compatible(cluster.best, record):
                        continue
                    share = _overlap(cluster.best.span, span)
                    if share >= min_overlap and share > best_share:
                        best_index, best_share = index, share
            if best_index < 0:
                best_index = len(clusters)
                clusters.append(_Cluster(record, order, {part}))
            else:
                cluster = clusters[best_index]
                cluster.parts.add(part)
                if _rank(record, order) > _rank(cluster.best, cluster.order):
                    cluster.best, cluster.order = record, order
            for bucket in range(span.start // _BUCKET, span.end // _BUCKET + 1):
                indexes = buckets.setdefault((type(record), bucket), [])
                if not indexes or indexes[-1] != best_index:
                    indexes.append(best_index)
    kept = [cluster.best for cluster in clusters]
    with_span = sorted(
        (r for r in kept if r.span is not None), key=lambda r: (r.span.start, r.span.end)
    )
    return with_span + [r for r in kept if r.span is None]


def merge_extractions(
    parts: Sequence[ArticleExtraction], *, min_overlap: float = MIN_OVERLAP
) -> ArticleExtraction:
    """One result from the results of an article's chunks or passes (spans article-wide).

    Actor names are unified across all records first (`unify_actor_names`), then each list is
    merged (`merge_records`); usage is summed; the date line and source are the first given.
    Anything else a part holds about the article as a whole (quotation coverage) is not merged:
    the chunks overlap, so it is computed again on the whole article.
    """
    records: list[Quote | Commitment | Event] = []
    for part in parts:
        records.extend(part.quotes)
        records.extend(part.commitments)
        records.extend(part.events)
    renames = canonical_names(actor.name for record in records for actor in _actors(record))

    def each(records: Sequence[R]) -> list[R]:
        return [_renamed(record, renames) for record in records] if renames else list(records)

    usage = Usage()
    for part in parts:
        usage = usage.add(part.usage)
    return ArticleExtraction(
        quotes=merge_records([each(p.quotes) for p in parts], min_overlap=min_overlap),
        commitments=merge_records([each(p.commitments) for p in parts], min_overlap=min_overlap),
        events=merge_records([each(p.events) for p in parts], min_overlap=min_overlap),
        published=next((p.published for p in parts if p.published is not None), None),
        usage=usage,
        source=next((p.source for p in parts if p.source is not None), None),
    )


# --- a caller's own schema ------------------------------------------------------------------

_PATH_HEAD = re.compile(r"^(\w+)\[(\d+)\]")


def mergeable(schema: type[BaseModel]) -> bool:
    """Whether results of `schema` from several chunks can be merged: every field is a list."""
    return all(
        getattr(info.annotation, "__origin__", None) is list
        for info in schema.model_fields.values()
    )


def merge_lists(
    parts: Sequence[tuple[BaseModel, dict[str, Span], int]], article: str, schema: type[M]
) -> tuple[M, dict[str, Span]]:
    """One result of a caller's schema whose fields are all lists, from its chunks' results.

    `parts` holds each chunk's data, its spans by path (``people[0].quote``) and the chunk's
    start. Spans are shifted to article offsets (`shift_spans`), lists concatenated in order, and
    a record equal in every field to one already kept (found twice, in an overlap or by another
    pass) is left out with its spans; span paths are renumbered to match.
    Raises ConfigurationError when a field is not a list.
    """
    if not mergeable(schema):
        raise ConfigurationError(
            f"{schema.__name__} has fields that are not lists: its results from several chunks "
            "cannot be merged"
        )
    lists: dict[str, list[Any]] = {name: [] for name in schema.model_fields}
    seen: dict[str, set[str]] = {name: set() for name in schema.model_fields}
    spans: dict[str, Span] = {}
    for data, part_spans, offset in parts:
        shifted = shift_spans(data, offset, article)
        moved = {path: shift_span(span, offset, article) for path, span in part_spans.items()}
        for name in schema.model_fields:
            for index, item in enumerate(getattr(shifted, name) or []):
                key = item.model_dump_json() if isinstance(item, BaseModel) else repr(item)
                if key in seen[name]:
                    continue
                seen[name].add(key)
                prefix, new = f"{name}[{index}]", f"{name}[{len(lists[name])}]"
                for path, span in moved.items():
                    head = _PATH_HEAD.match(path)
                    if head and head[0] == prefix:
                        spans[new + path[len(prefix) :]] = span
                lists[name].append(item)
    return schema.model_construct(None, **lists), spans
