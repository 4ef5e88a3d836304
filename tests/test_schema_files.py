"""The checked-in JSON Schema files match the models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from extractor.schema_files import PUBLIC_MODELS, render_schemas, stale_schemas, write_schemas

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_checked_in_schemas_are_current() -> None:
    assert stale_schemas(SCHEMAS) == [], "models changed: run `extractor schema` and commit"


def test_one_file_per_public_model() -> None:
    assert sorted(p.name for p in SCHEMAS.glob("*.json")) == sorted(
        f"{m.__name__}.json" for m in PUBLIC_MODELS
    )


def test_library_computed_fields_are_read_only() -> None:
    quote = json.loads((SCHEMAS / "Quote.json").read_text())
    assert quote["properties"]["span"]["readOnly"] is True
    extraction = json.loads((SCHEMAS / "ArticleExtraction.json").read_text())
    assert extraction["properties"]["usage"]["readOnly"] is True
    assert extraction["properties"]["source"]["readOnly"] is True  # set by the command line


def test_a_changed_model_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_schemas(tmp_path)
    assert stale_schemas(tmp_path) == []

    class Actor(BaseModel):
        name: str
        nickname: str | None = None

    changed = tuple(Actor if m.__name__ == "Actor" else m for m in PUBLIC_MODELS)
    monkeypatch.setattr("extractor.schema_files.render_schemas", lambda: render_schemas(changed))
    assert stale_schemas(tmp_path) == ["Actor.json"]
