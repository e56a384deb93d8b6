"""rq-dashboard 0.9, mounted at /admin/queues inside our app and behind our browser login.

rq-dashboard has no auth of its own. Its blueprint, ``rq_dashboard.blueprint``, is one module-level
object, and Flask forbids adding hooks to a blueprint once it has been registered on any app. Tests
build many apps, so our hooks are added to it exactly once (:func:`_install_hooks`, before the first
registration) and find everything per app at request time through ``current_app``; registering the
same blueprint on many apps is then allowed.

Per request: login required (a GET without a session is sent to /login); a viewer may look but every
action (delete, requeue, requeue-all, empty, compact) is refused with a 403 and its buttons are
hidden; an admin may act, but only from a same-origin page (see :mod:`web.security.csrf` for why rq-dashboard's
POSTs are checked by ``Origin`` rather than a token). Scripts may instead send an API token
(``Authorization: Bearer``): the same roles apply, and no ``Origin`` is needed. rq-dashboard answers ``GET /requeue/<queue>``
(and so ``HEAD``) with a state change, so every action endpoint answers any method but POST with a 405.

Page sizes are capped at :data:`MAX_PER_PAGE` (one request over a large registry must not stall the
web tier). Its templates are served escaping and with CSP nonces (:mod:`web.queue_dashboard.templates`).
The Redis URL it shows in its header is :func:`display_url`: no credentials, no query string.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import rq_dashboard
import rq_dashboard.web
from flask import Flask, Response, current_app, g, jsonify, request
from redis import Redis
from rq.exceptions import NoSuchJobError
from werkzeug.wrappers import Response as BaseResponse

from jobs.settings import Settings
from web.errors import ApiError, error_response
from web.extension import state
from web.queue_dashboard import templates as dashboard_templates
from web.read_model.queries import queue_counts
from web.security.admin_access import admins_only
from web.security.auth import authenticate, bearer_secret
from web.security.csrf import check_same_origin
from web.security.headers import allow_eval
from web.security.session import SAFE_METHODS, require_login

URL_PREFIX = "/admin/queues"
POLL_INTERVAL_MS = 5000  # how often rq-dashboard's pages refresh their figures
MAX_PER_PAGE = 100  # largest page of jobs one request may ask for
LIMITS = {"per_page": MAX_PER_PAGE, "page": 10_000_000}  # highest values (1,000,000 jobs: 125,000 pages of 8)
ACTIONS = frozenset(
    {
        "rq_dashboard.delete_job_view",
        "rq_dashboard.requeue_job_view",
        "rq_dashboard.requeue_all",
        "rq_dashboard.empty_queue",
        "rq_dashboard.compact_queue",
    }
)
REGISTRIES = ("queued", "started", "finished", "failed", "deferred", "scheduled", "canceled")
VIEWER_STYLE = (
    "<style>#empty-btn,#compact-btn,#requeue-all-btn,#delete-job-btn,#requeue-job-btn,"
    "[data-role=requeue-job-btn],[data-role=delete-job-btn]{display:none!important}</style>"
)
BANNER = (
    '<div style="background:#223;color:#eee;padding:4px 12px;font:13px sans-serif">'
    '<a style="color:#9cf" href="/dashboard/">&larr; Taskyard dashboard</a>{extra}</div>'
)

_hooks_installed = False


def _only_instance_zero(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """App ``url_value_preprocessor`` (runs before rq-dashboard's own hook, which would raise a bare
    LookupError, a 500, for an instance it has no URL for): we configure exactly one Redis."""
    if endpoint and endpoint.startswith("rq_dashboard.") and (values or {}).get("instance_number", 0) != 0:
        raise ApiError(404, "not_found", "only Redis instance 0 exists")


def _check_arguments(args: dict[str, Any]) -> None:
    """rq-dashboard turns a bad registry name, order or page number into a 500; we answer 400."""
    registry = args.get("registry_name")
    if registry is not None and registry not in REGISTRIES:
        raise ApiError(400, "validation_error", f"registry_name: expected one of {', '.join(REGISTRIES)}")
    if args.get("order") not in (None, "asc", "dsc"):
        raise ApiError(400, "validation_error", "order: expected asc or dsc")
    queue = args.get("queue_name")
    if queue is not None and queue not in state().settings.worker.queues:
        raise ApiError(
            404, "not_found", f"no queue {queue!r}; queues are {', '.join(state().settings.worker.queues)}"
        )
    for name, highest in LIMITS.items():
        value = args.get(name)
        if value is not None and not (str(value).isdigit() and 1 <= int(value) <= highest):
            raise ApiError(400, "validation_error", f"{name}: expected a whole number from 1 to {highest}")


def _guard() -> BaseResponse | None:
    """rq-dashboard ``before_request``: our login, roles and cross-site checks."""
    allow_eval()  # its pages compile their underscore templates with new Function
    action = request.endpoint in ACTIONS or request.method not in SAFE_METHODS
    if action and request.method != "POST":
        raise ApiError(
            405, "method_not_allowed", "this action changes data: use POST", headers={"Allow": "POST"}
        )
    scripted = bearer_secret() is not None
    if scripted:
        # A script's API token, with the API's roles. No Origin check: a cross-site page cannot make a
        # browser send an Authorization header (that needs a CORS preflight we never grant).
        authenticate()
    else:
        redirect_to_login = require_login(csrf=False)
        if redirect_to_login is not None:
            return redirect_to_login
    if action:
        if not g.principal.is_admin:
            raise ApiError(403, "forbidden", "you are logged in as a viewer; rq-dashboard is read-only")
        if not scripted:
            check_same_origin()
    _check_arguments(request.view_args or {})
    # rq's Queue.compact RENAMEs the queue's list: a Redis error when the queue is empty
    if (
        request.endpoint == "rq_dashboard.compact_queue"
        and queue_counts(state().connection, (request.view_args or {})["queue_name"])["queued"] == 0
    ):
        return jsonify(status="OK")
    # rq-dashboard's own before_request (run just before this one) points current_app.redis_conn at a
    # client it builds from the URL on every request; use the app's one connection instead.
    current_app.redis_conn = state().connection  # type: ignore[attr-defined]
    return None


def _mark_read_only(response: Response) -> Response:
    """rq-dashboard ``after_request``: hide action buttons from viewers, and link back to our pages."""
    principal = g.get("principal")
    if principal is None or response.mimetype != "text/html" or response.direct_passthrough:
        return response
    extra = "" if principal.is_admin else " &middot; read-only (viewer)"
    head = (VIEWER_STYLE if not principal.is_admin else "") + "</head>"
    body = response.get_data(as_text=True)
    body = body.replace("</head>", head, 1).replace("<body>", "<body>" + BANNER.format(extra=extra), 1)
    response.set_data(body)
    return response


def _install_hooks() -> None:
    global _hooks_installed
    if not _hooks_installed:
        rq_dashboard.blueprint.before_request(_guard)
        rq_dashboard.blueprint.before_request(admins_only)  # after _guard: ADMIN_PATHS_ADMIN_ONLY
        rq_dashboard.blueprint.after_request(_mark_read_only)
        _hooks_installed = True


def _no_such_job(error: NoSuchJobError) -> Response:
    return error_response(404, "job_not_found", "no such job")


def display_url(url: str) -> str:
    """``url`` without user name, password and query string (where ``?password=`` may hide)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def init_app(app: Flask, settings: Settings, connection: Redis) -> None:
    """Mount rq-dashboard on ``app`` at /admin/queues, reading through ``connection``.

    rq-dashboard is given only the display URL: it shows that in its header and builds (never used)
    clients from it; every request reads through ``connection``, our factory's client.
    """
    app.config["RQ_DASHBOARD_REDIS_URL"] = display_url(settings.redis.url)
    app.config["RQ_DASHBOARD_POLL_INTERVAL"] = POLL_INTERVAL_MS
    rq_dashboard.web.setup_rq_connection(app)
    app.redis_conn = connection  # type: ignore[attr-defined]  # our factory's client, not a second pool
    app.register_error_handler(NoSuchJobError, _no_such_job)
    app.url_value_preprocessor(_only_instance_zero)
    _install_hooks()
    dashboard_templates.install(app.jinja_env)
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
