"""Settings: one home, arguments over environment over defaults, clear errors."""

from __future__ import annotations

import pytest

from extractor import ConfigurationError, Extractor, Mode, Settings
from extractor.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "EXTRACTOR_API_KEY", "OPENAI_BASE_URL", "EXTRACTOR_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_environment_then_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.example/v1")
    monkeypatch.setenv("EXTRACTOR_MODE", "json")
    assert (Settings().model, Settings().base_url, Settings().mode) == (
        "env-model",
        "http://env.example/v1",
        Mode.JSON,
    )
    settings = load_settings(model="arg-model", base_url="http://arg.example/v1")
    assert (settings.model, settings.base_url, settings.mode) == (
        "arg-model",
        "http://arg.example/v1",
        Mode.JSON,
    )


def test_generic_variable_names_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """BASE_URL / API_KEY belong to other programs: reading them could send our key elsewhere."""
    monkeypatch.setenv("BASE_URL", "http://elsewhere.example/v1")
    monkeypatch.setenv("API_KEY", "not-ours")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-ours")
    settings = Settings()
    assert settings.base_url is None
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-ours"


def test_bad_environment_value_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_MAX_REASKS", "abc")
    with pytest.raises(ConfigurationError, match="max_reasks"):
        Extractor("m", api_key="k")


def test_unknown_option_is_named() -> None:
    with pytest.raises(ConfigurationError, match=r"max_reask\b"):
        load_settings(max_reask=3)


@pytest.mark.parametrize("url", ["notaurl", "ftp://x/v1", "http:///v1"])
def test_base_url_must_be_http_with_a_host(url: str) -> None:
    with pytest.raises(ConfigurationError, match="not an http\\(s\\) URL"):
        load_settings(base_url=url)


def test_empty_base_url_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "")
    assert Settings().base_url is None


def test_an_argument_replaces_a_bad_environment_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "localhost:8080")
    assert load_settings(base_url="http://127.0.0.1:8765/v1").base_url == "http://127.0.0.1:8765/v1"
    with pytest.raises(ConfigurationError, match="localhost:8080"):
        load_settings()


def test_repr_hides_credentials_in_the_base_url() -> None:
    settings = Settings(base_url="http://alice:s3cret@127.0.0.1:8765/v1", api_key="sk-abc")
    assert "s3cret" not in repr(settings) and "sk-abc" not in repr(settings)
    assert "127.0.0.1:8765" in repr(settings)


@pytest.mark.parametrize("name", ["timeout", "backoff_max", "retry_after_max", "backoff_initial"])
@pytest.mark.parametrize("value", [float("inf"), "inf", "1e400", float("nan"), 1e12])
def test_non_finite_or_huge_seconds_are_configuration_errors(name: str, value: object) -> None:
    """inf used to be accepted and fail later as 'connection failed: timestamp out of range'."""
    with pytest.raises(ConfigurationError, match=name):
        load_settings(**{name: value})


def test_non_finite_seconds_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXTRACTOR_TIMEOUT", "1e400")
    with pytest.raises(ConfigurationError, match="timeout"):
        Extractor("m", api_key="k")
