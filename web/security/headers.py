"""Security headers on every response, and relative redirects.

Every HTML response (our pages, the login form, rq-dashboard, HTML error pages) gets a
Content-Security-Policy that runs only scripts from this origin plus inline ``<script>`` elements
carrying this response's nonce: injected markup (an ``onerror=`` attribute, a ``<script>`` without
the nonce, a ``javascript:`` URL) does not run even where escaping failed. Templates put the nonce on
an inline script with ``<script nonce="{{ csp_nonce() }}">``; better still, scripts live in
``static/`` files and need no nonce. Inline event handlers are never allowed.

rq-dashboard renders its lists with underscore's ``_.template``, which compiles templates with
``new Function``: its pages (and only those) add ``'unsafe-eval'`` (:func:`allow_eval`). That does not
let injected markup run script; it lets the page's own code build functions from strings.

Styles may be inline (``'unsafe-inline'`` in ``style-src``): rq-dashboard's markup and our banner use
``style=`` attributes, and a nonce cannot cover attributes. Escaping keeps user text out of markup.

Every response also gets ``X-Frame-Options: DENY`` (plus ``frame-ancestors 'none'`` in the policy)
against clickjacking and ``X-Content-Type-Options: nosniff``.

``Location`` headers are made relative when they point at this server: Werkzeug builds the URL of its
own redirects (``/admin/queues`` to ``/admin/queues/``) from the ``Host`` header, so a forged Host
would otherwise send the browser elsewhere.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, Response, g, request
from werkzeug.utils import redirect

NONCE_BYTES = 18  # 144 random bits per response


def csp_nonce() -> str:
    """This response's CSP nonce (created on first use; a Jinja global for templates)."""
    nonce: str | None = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(NONCE_BYTES)
    return nonce


def allow_eval() -> None:
    """Let this response's scripts use ``eval``/``new Function`` (rq-dashboard's templating)."""
    g.csp_allow_eval = True


def content_security_policy(nonce: str, eval_allowed: bool = False) -> str:
    """The policy for an HTML response whose inline scripts carry ``nonce``."""
    script = f"'self' 'nonce-{nonce}'" + (" 'unsafe-eval'" if eval_allowed else "")
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src {script}",
            "script-src-attr 'none'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def _relative_location(response: Response) -> None:
    location = response.headers.get("Location")
    if not location:
        return
    parts = urlsplit(location)
    if parts.scheme or parts.netloc:
        if parts.netloc.lower() != request.host.lower():
            return  # a deliberate redirect elsewhere (none today) keeps its URL
        location = urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
        if response.mimetype == "text/html" and not response.direct_passthrough:
            # Werkzeug's redirect page links to the absolute URL too
            response.set_data(redirect(location, response.status_code).get_data())
    response.headers["Location"] = location


def _add_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if response.mimetype == "text/html":
        response.headers["Content-Security-Policy"] = content_security_policy(
            csp_nonce(), bool(g.get("csp_allow_eval"))
        )
    _relative_location(response)
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response of ``app`` and ``csp_nonce()`` to its templates."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(_add_headers)
