"""Command-line options several commands share (``extract``, ``batch``...), said once.

Typer reads a parameter's option from its ``Annotated`` type, so a command writes
``model: ModelOption = None`` and gets the same flag, type and help as every other command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from extractor.settings import Mode

__all__ = ["BaseUrlOption", "ModeOption", "ModelOption"]

ModelOption = Annotated[str | None, typer.Option(help="Model name [env: EXTRACTOR_MODEL].")]
BaseUrlOption = Annotated[
    str | None, typer.Option(help="OpenAI-compatible endpoint [env: OPENAI_BASE_URL].")
]
ModeOption = Annotated[
    Mode | None, typer.Option(help="Structured-output mode [env: EXTRACTOR_MODE].")
]
