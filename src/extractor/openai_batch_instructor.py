"""The two instructor functions the Batch API path needs that instructor does not export.

A batch request line must carry exactly the body `Extractor` would send, and its reply must be
read exactly as instructor reads a live one. instructor builds the one and reads the other in
``handle_response_model`` and ``process_response``: neither is in the top-level package's public
API (``instructor.__all__``); both are listed in the ``instructor.processing`` subpackage's
``__all__`` and defined in its ``v2`` core's ``response`` module (checked against instructor
1.17.0, the floor and the version tested). Kept here alone, so that if a release moves or changes
them, one module and `REQUIRED` say what to fix; the import fails with that message, not an
opaque one, and tests/test_openai_batch.py checks the parameters used.
"""

from __future__ import annotations

from typing import Any

from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from extractor import pipeline
from extractor.inference import INSTRUCTOR_MODES, instructor_model
from extractor.settings import Settings

try:
    from instructor.processing import handle_response_model, process_response
except ImportError as exc:  # pragma: no cover - only with an instructor that moved them
    raise ImportError(
        "extractor's Batch API path (--via openai-batch) needs "
        "instructor.processing.handle_response_model and process_response, which this "
        f"instructor release does not offer ({exc}); checked against instructor 1.17.0: "
        "install that release or report the instructor version to extractor's maintainers"
    ) from exc

__all__ = ["REQUIRED", "parse_reply", "request"]

REQUIRED = {
    "handle_response_model": ("response_model", "mode", "kwargs"),
    "process_response": ("response", "response_model", "stream", "validation_context", "strict"),
}
"""The parameters used of each function (tests check that instructor still takes them)."""


def request(prompt: pipeline.Prompt, settings: Settings) -> tuple[type[BaseModel], dict[str, Any]]:
    """The response model instructor parses with and the request body it would send."""
    model, body = handle_response_model(
        instructor_model(prompt.response_model),
        mode=INSTRUCTOR_MODES[settings.mode],
        messages=prompt.messages,
        model=settings.model,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,
    )
    assert model is not None  # a response model was given
    return model, body


def parse_reply(response: ChatCompletion, prompt: pipeline.Prompt, settings: Settings) -> Any:
    """The reply read as instructor reads a live one: its response model validated with the
    prompt's context (grounding validators included); raises what instructor raises."""
    model, _ = request(prompt, settings)
    return process_response(
        response,
        response_model=model,
        stream=False,
        validation_context=prompt.context.as_validation_context(),
        strict=True,
        mode=INSTRUCTOR_MODES[settings.mode],
    )
