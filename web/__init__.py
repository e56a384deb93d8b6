"""Taskyard's web process: the REST API, our pages and rq-dashboard, built by :func:`create_app`."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from redis import Redis

from jobs.api_tokens import TokenStore
from jobs.connection import connect
from jobs.registry import load_tasks
from jobs.settings import Settings, load_settings
from web.errors import register_error_handlers
from web.extension import Taskyard
from web.security.body_limit import ChunkedBodyLimit


class IsoJSONProvider(DefaultJSONProvider):
    """Flask's JSON with ISO 8601 datetimes (Flask's default is the HTTP date format)."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        return DefaultJSONProvider.default(o)


def create_app(
    settings: Settings | None = None,
    connection: Redis | None = None,
    clock: Callable[[], float] | None = None,
) -> Flask:
    """Build the app. Reads the environment only when ``settings`` is not given; connects lazily
    (redis-py opens sockets on first use), so building an app never touches Redis. ``clock`` (epoch
    seconds, default ``time.time``) is what ``Taskyard.now`` reads."""
    settings = settings or load_settings()
    connection = connection if connection is not None else connect(settings)
    load_tasks(settings.process.task_modules)

    app = Flask(__name__)
    app.json = IsoJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.access.secret_key or secrets.token_urlsafe(32),
        MAX_CONTENT_LENGTH=settings.web.max_body_bytes,
        JSON_SORT_KEYS=False,
    )
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, settings.web.max_body_bytes)  # type: ignore[method-assign]
    tokens = TokenStore(connection, settings.access.admin_token)
    Taskyard(settings, connection, tokens, clock or time.time).init_app(app)
    register_error_handlers(app)

    from web.admin.scheduler import create_blueprint as create_scheduler_blueprint
    from web.api import create_blueprint
    from web.monitoring.health import bp as health_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(create_blueprint())
    app.register_blueprint(create_scheduler_blueprint())

    from web import pages
    from web.monitoring import metrics
    from web.queue_dashboard import mount as dashboard
    from web.security import headers, session

    headers.init_app(app)
    session.init_app(app, settings)
    pages.init_app(app)
    dashboard.init_app(app, settings, connection)
    metrics.init_app(app, settings, connection)
    return app
