"""What tokens cost: one table of per-model prices, extended by the ``prices`` setting.

`PRICES` holds OpenAI's standard-tier list prices in US dollars per million tokens (input,
output), as published on https://openai.com/api/pricing/ in August 2025 (not re-checked since:
this machine has no network; check the page before relying on them). Cached-input discounts and
the Batch API's half price are not applied. A dated snapshot (``gpt-4o-mini-2024-07-18``) costs
what its model does; another variant (``gpt-4o-audio-preview``) is not priced as its stem.

Add or override models with the ``prices`` setting: ``EXTRACTOR_PRICES='{"my-model": [0.2,
0.8]}'`` (or ``extractor batch --prices prices.json`` with the same JSON), input and output
dollars per million tokens; a model named there wins over the table. A model found in neither
has no cost (the summary says its price is unknown).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated

from pydantic import Field

from extractor.models import Usage

__all__ = ["PRICES", "PerMillion", "cost", "price_of"]

PerMillion = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
"""US dollars per million tokens."""

PRICES: dict[str, tuple[float, float]] = {
    # model: (input, output) US dollars per million tokens; openai.com/api/pricing, August 2025
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "o4-mini": (1.10, 4.40),
    "gpt-5": (1.25, 10.00),
    "gpt-5-mini": (0.25, 2.00),
    "gpt-5-nano": (0.05, 0.40),
}


def price_of(
    model: str, extra: Mapping[str, tuple[float, float]] | None = None
) -> tuple[float, float] | None:
    """(input, output) dollars per million tokens of `model`, `extra` first; None if unknown.

    A dated snapshot not listed (``gpt-4o-2024-08-06``) costs what its model costs; any other
    name not listed (``gpt-4o-audio-preview``, priced apart) is unknown.
    """
    table = {**PRICES, **(extra or {})}
    if model in table:
        return table[model]
    return table.get(_SNAPSHOT.sub("", model))


_SNAPSHOT = re.compile(r"-\d{4}-\d{2}-\d{2}$")


def cost(
    usage: Usage, model: str, extra: Mapping[str, tuple[float, float]] | None = None
) -> float | None:
    """What `usage` cost in US dollars with `model`, or None when its price is unknown."""
    price = price_of(model, extra)
    if price is None:
        return None
    return (usage.prompt_tokens * price[0] + usage.completion_tokens * price[1]) / 1_000_000
