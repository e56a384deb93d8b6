"""Errors as HTML pages for a browser navigating our pages (and rq-dashboard's), JSON for everyone else.

A navigation is a request whose ``Sec-Fetch-Mode`` is ``navigate`` (every current browser sends it
when the user follows a link, types a URL or submits a form) or whose ``Accept`` prefers HTML over
JSON. The JSON APIs (``/api/``, ``/admin/scheduler``, ``/healthz``, ``/metrics``) always answer JSON,
whoever asks: a script must never have to parse a page. The page keeps the navigation and offers a
way back; it says what went wrong in the words of the JSON error (status, message, field details).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, make_response, render_template, request

from web.errors import ERROR_PAGE

log = logging.getLogger("taskyard.web")
JSON_ONLY = ("/api/", "/admin/scheduler", "/healthz", "/metrics")
TITLES = {
    400: "That request does not make sense",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    405: "Not allowed here",
    409: "That cannot be done now",
    413: "Too large",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Redis is not available",
}


def is_navigation() -> bool:
    """Whether this request is a browser loading a page (see the module docstring)."""
    if request.path.startswith(JSON_ONLY) or request.headers.get("X-Fragment") == "1":
        return False
    if request.headers.get("Sec-Fetch-Mode") == "navigate":
        return True
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_page(status: int, code: str, message: str, details: list[dict[str, Any]] | None) -> Response | None:
    """The HTML error page, or None when the request is not a navigation (the caller sends JSON)."""
    if not is_navigation():
        return None
    try:
        html = render_template(
            "error.html",
            status=status,
            title=TITLES.get(status, "Error"),
            code=code,
            message=message,
            details=details or [],
        )
    except Exception:  # the error page must never hide the error: fall back to JSON
        log.exception("error page failed to render")
        return None
    response = make_response(html, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    app.extensions[ERROR_PAGE] = error_page
