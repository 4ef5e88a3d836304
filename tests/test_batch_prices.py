"""The price table: known models, dated snapshots, prices added by the ``prices`` setting."""

from __future__ import annotations

import pytest

from extractor.errors import ConfigurationError
from extractor.models import Usage
from extractor.prices import PRICES, cost, price_of
from extractor.settings import load_settings


def test_a_listed_model_and_its_dated_snapshot_cost_the_same() -> None:
    assert price_of("gpt-4o-mini") == PRICES["gpt-4o-mini"]
    assert price_of("gpt-4o-mini-2024-07-18") == PRICES["gpt-4o-mini"]  # not gpt-4o's
    assert price_of("gpt-4o-2024-08-06") == PRICES["gpt-4o"]
    assert price_of("smollm2-135m") is None
    assert price_of("gpt-4o-audio-preview") is None  # priced apart, not as gpt-4o
    assert price_of("gpt-4o-audio-preview-2024-12-17") is None
    assert price_of("gpt-5-chat-latest") is None


def test_cost_counts_input_and_output_tokens_at_their_prices() -> None:
    usage = Usage(prompt_tokens=2_000_000, completion_tokens=500_000)
    assert cost(usage, "gpt-4o-mini") == pytest.approx(2 * 0.15 + 0.5 * 0.60)
    assert cost(usage, "unknown-model") is None


def test_the_prices_setting_adds_and_overrides_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_PRICES", '{"my-model": [1, 2], "gpt-4o-mini": [0, 0]}')
    extra = load_settings().prices
    usage = Usage(prompt_tokens=1_000_000, completion_tokens=1_000_000)
    assert cost(usage, "my-model", extra) == pytest.approx(3.0)
    assert cost(usage, "gpt-4o-mini", extra) == 0.0
    with pytest.raises(ConfigurationError, match="prices"):
        load_settings(prices={"x": [-1, 2]})
