"""Our server-rendered pages under /dashboard: what rq-dashboard does not show.

One blueprint per app (built by :func:`create_blueprint`), Jinja templates in ``templates/``, a little
vanilla JS in ``static/``: no front-end build step. Every page reads through :mod:`web.read_model.queries`. A page
whose figures change renders them in a fragment template; ``static/refresh.js`` re-fetches the page
with ``X-Fragment: 1`` every few seconds and swaps the fragment in, so figures move without a reload.
Lists are paginated on the server (``?page=&per_page=``).

Access: the browser session (:mod:`web.security.session`); viewers read, admins also press buttons; every POST
carries the session's CSRF token (:mod:`web.security.csrf`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from web.errors import ApiError
from web.security.csrf import csrf_token
from web.security.session import require_login

URL_PREFIX = "/dashboard"
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 100


def render(template: str, fragment: str | None = None, **context: Any) -> Response:
    """The full page, or only its figures when the refresh script asks (``X-Fragment: 1``)."""
    name = fragment if fragment and request.headers.get("X-Fragment") == "1" else template
    response = make_response(render_template(name, **context))
    response.headers["Cache-Control"] = "no-store"
    return response


def pagination() -> tuple[int, int]:
    """``(page, per_page)`` from the query string; a 400 for anything but sensible whole numbers."""
    values = []
    for name, default, maximum in (("page", 1, 1_000_000), ("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)):
        raw = request.args.get(name, str(default))
        if not raw.isdigit() or not 1 <= int(raw) <= maximum:
            raise ApiError(400, "validation_error", f"{name}: expected a whole number from 1 to {maximum}")
        values.append(int(raw))
    return values[0], values[1]


def query_string(**overrides: Any) -> str:
    """This request's query string with ``overrides`` (pagination links keep the filters)."""
    args = request.args.to_dict()
    args.update({k: str(v) for k, v in overrides.items()})
    return urlencode(args)


def ms_time(value: float) -> str:
    """Milliseconds since the epoch as an ISO time in UTC (the scheduler stores ms)."""
    return datetime.fromtimestamp(value / 1000, UTC).isoformat(timespec="seconds")


def has_endpoint(name: str) -> bool:
    """Whether the app has a view called ``name`` (navigation shows only pages that exist)."""
    return name in current_app.view_functions


def _guard() -> BaseResponse | None:
    if request.endpoint == "pages.static":  # CSS and JS are no secret; the login page uses them
        return None
    return require_login()


def _root() -> Response:
    return redirect(url_for("pages.overview"))  # type: ignore[return-value]


def create_blueprint() -> Blueprint:
    """The /dashboard blueprint with every page module's routes (a fresh blueprint per app)."""
    from web.pages import dead_letters, integrations, jobs, overview, schedule_form, schedules, webhook_pages

    bp = Blueprint(
        "pages",
        __name__,
        url_prefix=URL_PREFIX,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static",
    )
    bp.before_request(_guard)
    for module in (overview, jobs, schedule_form, schedules, dead_letters, integrations, webhook_pages):
        module.register(bp)
    return bp


def init_app(app: Flask) -> None:
    """Register the pages, and make ``csrf_token()`` available to every template."""
    from web.pages import error_pages, humane
    from web.pages.schedule_form import status_label

    app.jinja_env.filters["ms_time"] = ms_time
    app.jinja_env.filters.update(when=humane.when, duration=humane.duration, task_status=status_label)
    error_pages.init_app(app)
    app.jinja_env.globals.update(csrf_token=csrf_token, query_string=query_string, has_endpoint=has_endpoint)
    app.register_blueprint(create_blueprint())
    app.add_url_rule("/", "root", _root, methods=["GET"])
