"""Reading and validating JSON request bodies."""

from __future__ import annotations

import contextlib
import json
import math
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


def _not_json_number(token: str) -> float:
    raise ApiError(400, "invalid_json", f"{token} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ApiError(400, "invalid_json", f"the number {text[:20]} is too large for a 64-bit float")
    return value


def _reject_non_finite(raw: bytes) -> None:
    """NaN, Infinity and numbers that overflow to infinity: Python's and pydantic's parsers accept
    them, but they are not JSON, and echoing them back would make our own responses invalid JSON."""
    with contextlib.suppress(ValueError):  # not JSON at all: pydantic says what is wrong
        json.loads(raw, parse_constant=_not_json_number, parse_float=_finite)


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
    _reject_non_finite(raw)
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        if any(e["type"] == "json_invalid" for e in error.errors()):
            raise ApiError(400, "invalid_json", "the body is not valid JSON") from None
        raise validation_error(error) from None
