"""Protection of browser surfaces against cross-site requests.

Two checks, because the surfaces differ:

* Our own forms (login, logout, the pages' buttons) carry a synchronizer token: a random value kept in
  the signed session and echoed in a hidden ``csrf_token`` field (or an ``X-CSRF-Token`` header from
  our JS). :func:`check_csrf` demands it **and** a same-origin ``Origin``/``Referer``.
* rq-dashboard's delete/requeue/empty buttons are jQuery ``$.post`` calls from its own templates; they
  carry no token and we would have to fork its templates to add one. Browsers put an ``Origin``
  header on every POST (``fetch``/XHR and forms alike), and a cross-site page cannot forge it, so for
  those POSTs :func:`check_same_origin` alone decides: the request must say it comes from this very
  origin. A POST with neither ``Origin`` nor ``Referer`` is refused (no browser we support sends that).

The session cookie is also ``SameSite=Strict``, so a cross-site request normally arrives without it;
these checks are the second lock, for browsers or proxies that get SameSite wrong.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import request, session

from web.errors import ApiError

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def csrf_token() -> str:
    """This session's token, created on first use (templates call it for hidden fields)."""
    token = session.get(FIELD)
    if not isinstance(token, str):
        token = session[FIELD] = secrets.token_urlsafe(32)
    return token


def rotate_csrf_token() -> str:
    """A fresh token (at login, so a token planted before login is worthless after it)."""
    session[FIELD] = secrets.token_urlsafe(32)
    return str(session[FIELD])


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin() -> None:
    """Refuse (403) a request whose ``Origin`` (or, without one, ``Referer``) is not this server."""
    expected = _origin_of(request.host_url)
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        claimed = _origin_of(origin)
    else:
        referer = request.headers.get("Referer")
        claimed = _origin_of(referer) if referer else None
    if claimed is None or claimed != expected:
        raise ApiError(
            403, "csrf_failed", "cross-site request refused: the Origin or Referer must be this server"
        )


def check_csrf() -> None:
    """Refuse (403) a state-changing browser request without this session's token or from elsewhere."""
    check_same_origin()
    sent = request.form.get(FIELD) or request.headers.get(HEADER) or ""
    expected = session.get(FIELD)
    if not isinstance(expected, str) or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise ApiError(403, "csrf_failed", "missing or wrong CSRF token: reload the page and try again")
