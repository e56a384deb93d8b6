"""Reading and validating JSON request bodies."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from web.errors import ApiError, validation_error

M = TypeVar("M", bound=BaseModel)
MAX_NESTING = 32  # deeper JSON is refused before parsing, so hostile bodies can't exhaust the parser


def _too_deep(raw: bytes) -> bool:
    depth = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_NESTING:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def parse_body(model: type[M]) -> M:
    """The request body validated as ``model``, or an :class:`ApiError` saying what is wrong."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send a JSON body with Content-Type: application/json")
    raw = request.get_data(cache=True)
    if _too_deep(raw):
        raise ApiError(400, "validation_error", f"JSON nested deeper than {MAX_NESTING} levels")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "the body is not valid UTF-8") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
        raise validation_error(error) from None
