"""The JSON in a free-text reply (``md_json`` mode), found in linear time, or None.

instructor raises a plain ValueError, which it does not re-ask, for a reply whose JSON it cannot
find within its work limit, or that is over 1 MiB or nested deeper than 128 levels. A reply like
that is the model's bad output: the caller re-asks when this module finds no JSON in it.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["json_in_reply"]

MAX_JSON_CHARS = 1024 * 1024  # instructor reads no more than this
MAX_DEPTH = 128  # nor deeper than this

# A fenced block, ```json ... ``` or ``` ... ```; the body is group 1.
FENCE = re.compile(r"```[ \t]*(?:json)?[ \t]*\r?\n?(.*?)```", re.DOTALL | re.IGNORECASE)
DECODER = json.JSONDecoder()


def json_in_reply(text: str) -> str | None:
    """The reply's JSON object or array as text, or None if it has none that can be read.

    The last fenced block that parses wins, then the whole reply, then (as instructor does) the
    last JSON value in the prose, looked for within a work budget linear in the reply's length.
    """
    if len(text) > 4 * MAX_JSON_CHARS:
        return None
    for block in [*[match.group(1) for match in FENCE.finditer(text)][::-1], text]:
        found = _usable(block.strip())
        if found is not None:
            return found
    return _last_value_in_prose(text)


def _usable(text: str) -> str | None:
    """`text` if it is one JSON object or array that instructor would read."""
    if not text or text[0] not in "{[" or len(text) > MAX_JSON_CHARS:
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return text if _depth_ok(value) else None


def _last_value_in_prose(text: str) -> str | None:
    """The last JSON value starting at a ``{`` or ``[``, each failed try charged in full."""
    budget = 16 * len(text)
    last: str | None = None
    index = 0
    while True:
        starts = [i for i in (text.find("{", index), text.find("[", index)) if i >= 0]
        if not starts:
            return last
        start = min(starts)
        if budget < len(text) - start:
            return last  # the rest is garbage: instructor would raise here
        try:
            value, end = DECODER.raw_decode(text, start)
        except (ValueError, RecursionError):
            budget -= len(text) - start
            index = start + 1
            continue
        budget -= end - start
        if end - start <= MAX_JSON_CHARS and _depth_ok(value):
            last = text[start:end]
        index = end


def _depth_ok(value: Any) -> bool:
    """Whether `value` nests no deeper than `MAX_DEPTH`."""
    pending = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, (dict, list)):
            if depth > MAX_DEPTH:
                return False
            children = node.values() if isinstance(node, dict) else node
            pending.extend((child, depth + 1) for child in children)
    return True
