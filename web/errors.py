"""Errors as JSON: one exception type for the API, one set of handlers for the app.

Every error body is ``{"error": {"code": ..., "message": ..., "details"?: [...]}}``. Bad input is a 4xx,
an unreachable or full Redis a 503, and anything unexpected a 500 whose body carries no traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, current_app, has_request_context, jsonify
from pydantic import ValidationError
from redis.exceptions import BusyLoadingError, OutOfMemoryError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("taskyard.web")
ERROR_PAGE = "taskyard.error_page"  # extension key of the HTML error page renderer


class ApiError(Exception):
    """An error the client should see: HTTP status, a stable code and a sentence saying what is wrong."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> Response:
    """Build the error response every handler returns: JSON, or the app's HTML error page when a
    browser navigates (the renderer in ``app.extensions[ERROR_PAGE]`` decides, and answers None for
    API calls; :mod:`web.pages.error_pages` installs it)."""
    renderer = current_app.extensions.get(ERROR_PAGE) if has_request_context() else None
    if renderer is not None:
        page = renderer(status, code, message, details)
        if page is not None:
            return page
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    response = jsonify({"error": body})
    response.status_code = status
    return response


def validation_details(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as ``[{"field": "a.b", "message": ...}]`` without echoing the input back."""
    details = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        details.append({"field": field, "message": item["msg"]})
    return details


def validation_error(error: ValidationError) -> ApiError:
    """A 400 that names every bad field."""
    details = validation_details(error)
    first = details[0] if details else {"field": "body", "message": "invalid"}
    summary = f"{first['field']}: {first['message']}"
    if len(details) > 1:
        summary += f" (and {len(details) - 1} more)"
    return ApiError(400, "validation_error", summary, details)


def is_out_of_memory(error: ResponseError) -> bool:
    """Redis refused a write because ``maxmemory`` is reached: redis-py raises ``OutOfMemoryError``
    (message without the ``OOM`` prefix); a Lua script relays it inside a generic error."""
    return isinstance(error, OutOfMemoryError) or "used memory > 'maxmemory'" in str(error)


def register_error_handlers(app: Flask) -> None:
    """Install the JSON error handlers on ``app``."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        response = error_response(error.status, error.code, error.message, error.details)
        response.headers.update(error.headers)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        code = (error.name or "error").lower().replace(" ", "_")
        response = error_response(error.code or 500, code, error.description or error.name)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    @app.errorhandler(BusyLoadingError)
    def _redis_down(error: Exception) -> Response:
        log.warning("redis unavailable: %s", error)
        response = error_response(503, "redis_unavailable", "Redis is unreachable; try again shortly")
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(ResponseError)
    def _redis_error(error: ResponseError) -> Response:
        if is_out_of_memory(error):
            log.error("redis is full: %s", error)
            response = error_response(503, "redis_full", "Redis is out of memory; nothing was stored")
            response.headers["Retry-After"] = "30"
            return response
        log.exception("redis error")
        return error_response(500, "internal_error", "internal error")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "internal error")
