"""Chunked request bodies held to ``MAX_BODY_BYTES`` like bodies with a ``Content-Length``.

Flask refuses a ``Content-Length`` over ``MAX_CONTENT_LENGTH`` with a 413 before reading anything. A
chunked body has no length: Werkzeug then reads at most ``MAX_CONTENT_LENGTH`` bytes and stops there
without an error, so an oversized body would be cut short and the truncated JSON accepted (or
answered with a confusing parse error). This WSGI middleware reads a chunked body up front, one byte
past the limit at most: over the limit it answers 413 in our JSON error shape; otherwise it hands the
app the body it read, with its ``Content-Length`` now known. It acts only where the server says it
terminates the input stream itself (``wsgi.input_terminated``: gunicorn, Werkzeug's server).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

WSGIApp = Any  # a WSGI callable (environ, start_response) -> iterable of bytes


class ChunkedBodyLimit:
    """Wraps a WSGI app; see the module docstring."""

    def __init__(self, app: WSGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not chunked or not environ.get("wsgi.input_terminated"):
            return self.app(environ, start_response)  # a known length: Flask checks it
        stream = environ["wsgi.input"]
        body = bytearray()
        while len(body) <= self.max_bytes:
            chunk = stream.read(min(65536, self.max_bytes + 1 - len(body)))
            if not chunk:
                break
            body.extend(chunk)
        if len(body) > self.max_bytes:
            return self._too_large(start_response)
        # the body is de-chunked now and has a length (Werkzeug ignores Content-Length while the
        # request still says chunked)
        environ["wsgi.input"] = io.BytesIO(bytes(body))
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def _too_large(self, start_response: Any) -> Iterable[bytes]:
        message = f"the request body is larger than the limit of {self.max_bytes} bytes"
        payload = json.dumps({"error": {"code": "request_entity_too_large", "message": message}}).encode()
        start_response(
            "413 Request Entity Too Large",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(payload))),
                ("Connection", "close"),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [payload]
