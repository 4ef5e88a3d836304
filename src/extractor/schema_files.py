"""The JSON Schema contracts in ``schemas/``: one file per public model, generated, checked in.

They describe the output as users receive it (serialisation mode), so library-computed fields
such as ``span`` and ``usage`` are present and marked ``readOnly``.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from extractor.models import (
    Actor,
    ArticleExtraction,
    Commitment,
    Event,
    Quote,
    SourceText,
    Usage,
)
from extractor.spans import Span

__all__ = ["PUBLIC_MODELS", "render_schemas", "stale_schemas", "write_schemas"]

PUBLIC_MODELS: tuple[type[BaseModel], ...] = (
    ArticleExtraction,
    Event,
    Quote,
    Commitment,
    Actor,
    Span,
    Usage,
    SourceText,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def render_schemas(models: tuple[type[BaseModel], ...] = PUBLIC_MODELS) -> dict[str, str]:
    """File name to JSON text for each model's output schema."""
    rendered = {}
    for model in models:
        schema = {"$schema": DIALECT, **model.model_json_schema(mode="serialization")}
        rendered[f"{model.__name__}.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return rendered


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema file into existing `directory`; return the files that changed."""
    changed = []
    for name, text in render_schemas().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    return changed


def stale_schemas(directory: Path) -> list[str]:
    """Names of schema files in `directory` that are missing or differ from the models."""
    stale = []
    for name, text in render_schemas().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale
