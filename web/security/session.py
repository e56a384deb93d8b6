"""Browser login: an API token typed once into /login becomes a signed session cookie.

The cookie (Flask's signed session) carries no secret: only a random session id, checked against
``taskyard:web-session:<sid>`` in Redis on every request. So logout, token revocation and token expiry
end a browser session at once, even for a copied cookie. The cookie is HttpOnly, SameSite=Strict, and
Secure whenever the request came over HTTPS (directly, or per ``X-Forwarded-Proto`` from a proxy).

A session started with the bootstrap ``ADMIN_TOKEN`` stays valid only while that variable keeps its
value: the Redis record holds the token's SHA-256 and is compared with the current one. The cookie
never carries anything derived from a token (it is signed, not encrypted: anything in it can be read
and guessed against offline).

Failed logins are counted per client address (:mod:`web.security.auth_throttle`); after ``MAX_FAILURES``
within ``FAILURE_WINDOW`` each further attempt from that address must wait, the wait doubling with
each failure (at most ``MAX_BLOCK``). Pages, rq-dashboard and the login form itself are browser
surfaces; the REST API (``/api/v1``) never reads this cookie, so it needs no CSRF protection.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from rq.utils import as_text
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse

from jobs import keys
from jobs.api_tokens import Principal, digest
from jobs.settings import Settings
from web.errors import ApiError
from web.extension import state
from web.read_model.tokens import principal as find_principal
from web.read_model.tokens import token
from web.security.auth_throttle import FailureThrottle
from web.security.csrf import check_csrf, rotate_csrf_token

MAX_FAILURES = 5  # failed logins from one address before each further attempt must wait
FAILURE_WINDOW = 900  # seconds failed logins are remembered per address
MAX_BLOCK = 300  # longest wait, in seconds, imposed between attempts
MAX_TOKEN_CHARS = 512  # longer input is not a token; refused before hashing
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
BOOTSTRAP = "bootstrap:"  # session record prefix for ADMIN_TOKEN logins, followed by the token's SHA-256

bp = Blueprint("session", __name__, template_folder="pages/templates")


class TaskyardSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with ``Secure`` decided per request instead of per app: set over
    HTTPS, left off over plain HTTP (``make run`` on localhost), where a Secure cookie would be dropped."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure


def init_app(app: Flask, settings: Settings) -> None:
    """Cookie settings, the session interface and proxy handling for ``app``."""
    app.config.update(
        SESSION_COOKIE_NAME="taskyard_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        PERMANENT_SESSION_LIFETIME=timedelta(seconds=settings.access.session_lifetime),
    )
    app.session_interface = TaskyardSessionInterface()
    # X-Forwarded-Proto is always honoured: forging it can only make the forger's own cookie Secure
    # on plain HTTP (their browser then drops it). X-Forwarded-For decides the address that failed
    # logins are counted against and METRICS_ALLOW_IPS matches, so it is trusted only from the
    # TRUSTED_PROXIES hops a deployment declares (Heroku's router: 1).
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.web.trusted_proxies, x_proto=1)  # type: ignore[method-assign]
    app.register_blueprint(bp)


def client_address() -> str:
    return request.remote_addr or "unknown"


def session_principal() -> Principal | None:
    """Who is logged in through this request's cookie, or None. Checked against Redis each request."""
    if "session_principal" in g:
        cached: Principal | None = g.session_principal
        return cached
    g.session_principal = principal = _load_principal()
    return principal


def _load_principal() -> Principal | None:
    sid = session.get("sid")
    if not isinstance(sid, str):
        return None
    ext = state()
    raw = ext.connection.get(keys.web_session(sid))
    if raw is None:
        return None
    token_id = as_text(raw)
    if token_id.startswith(BOOTSTRAP):
        admin = ext.settings.access.admin_token
        if admin and secrets.compare_digest(token_id.removeprefix(BOOTSTRAP), digest(admin)):
            return Principal("bootstrap", "admin", "ADMIN_TOKEN")
        return None
    record = token(ext.tokens, token_id)
    if record is None or not record.usable(datetime.now(UTC)):
        return None
    return Principal(record.id, record.role, record.name)


def require_login(*, csrf: bool = True) -> BaseResponse | None:
    """``before_request`` body for browser surfaces.

    Not logged in: GETs are redirected to /login, other methods get a 401. Changes need an admin and,
    with ``csrf``, a valid CSRF token (see :mod:`web.security.csrf`). Returns a response to short-circuit with.
    """
    principal = session_principal()
    if principal is None:
        if request.method in SAFE_METHODS:
            return redirect(url_for("session.login", next=request.full_path.rstrip("?")))
        raise ApiError(401, "unauthorized", "log in first: /login")
    g.principal = principal
    if request.method not in SAFE_METHODS:
        if not principal.is_admin:
            raise ApiError(403, "forbidden", "you are logged in as a viewer; changes need an admin token")
        if csrf:
            check_csrf()
    return None


def _safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the overview: no open redirect through ``?next=``.

    Browsers strip tabs and newlines from URLs and read a backslash as ``/``, so ``/<TAB>/evil.example``
    is ``//evil.example``: anything with control characters or backslashes is refused outright, and what
    is left must be a path that no parser reads a scheme or host into.
    """
    default = url_for("pages.overview")
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _throttle() -> FailureThrottle:
    return FailureThrottle(
        state().connection, keys.login_failures, keys.login_block, MAX_FAILURES, FAILURE_WINDOW, MAX_BLOCK
    )


def _login_page(status: int, error: str | None = None, retry_after: int | None = None) -> Response:
    response = make_response(
        render_template("login.html", error=error, next=request.values.get("next", "")), status
    )
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """GET: the form. POST: check the CSRF token, the throttle and the token; on success set the session."""
    if request.method == "GET":
        if session_principal() is not None:
            return redirect(_safe_next(request.args.get("next")))
        return _login_page(200)
    ext = state()
    address = client_address()
    throttle = _throttle()
    wait = throttle.wait(address)
    if wait:
        return _login_page(429, f"too many failed logins from your address; try again in {wait} s", wait)
    check_csrf()
    secret = (request.form.get("token") or "").strip()
    principal = None
    if secret and len(secret) <= MAX_TOKEN_CHARS:
        principal = find_principal(ext.tokens, secret)
    if principal is None:
        throttle.record_failure(address)
        return _login_page(401, "invalid, expired or revoked token")
    sid = secrets.token_urlsafe(24)
    record = principal.token_id
    if principal.token_id == "bootstrap":
        record = BOOTSTRAP + digest(secret)
    ext.connection.set(keys.web_session(sid), record, ex=ext.settings.access.session_lifetime)
    session.clear()
    session.permanent = True
    session["sid"] = sid
    rotate_csrf_token()
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Any:
    """End the session here and in Redis (a copied cookie stops working too)."""
    if session_principal() is not None:
        check_csrf()
    sid = session.get("sid")
    if isinstance(sid, str):
        state().connection.delete(keys.web_session(sid))
    session.clear()
    return redirect(url_for("session.login"))
