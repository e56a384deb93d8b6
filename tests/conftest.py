"""Shared fixtures: a real redis-server per test session on a free port, fakeredis for unit tests,
settings, the app and its client, and a burst worker."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import Queue

from jobs.connection import connect_url
from jobs.local.redis_server import RedisServer, embedded_server, free_port
from jobs.registry import load_tasks, registry
from jobs.settings import Settings, load_settings
from jobs.worker import TaskyardPreforkWorker, TaskyardSimpleWorker
from jobs.worker.error_summary import EXCEPTION_HANDLERS
from scheduler import runner
from scheduler.engine import Engine
from tests.clock import Clock
from web import create_app

ADMIN_TOKEN = "test-admin-token-0123456789"

load_tasks(("tests.fixtures",))

BUILTIN_SCHEDULES_OFF = {declared.override_variable: "off" for declared in registry.declared_schedules()}
"""``SCHEDULE_<NAME>=off`` for every declared schedule. The built-in ones fire on wall-clock boundaries (every
5 minutes, every hour): an engine on the real clock that a test ticks across one would put their jobs on the
test's queue beside the job it waits for. Tests of those schedules load settings without this."""

TEST_ENV = {
    "ADMIN_TOKEN": ADMIN_TOKEN,
    "SECRET_KEY": "test-secret",
    "TASK_MODULES": "tests.fixtures",
    "JOB_RETRY_DELAY": "1s",
    "HEARTBEAT_STALE": "5",
    "RQ_ALLOWED_FUNCTIONS": "tests.fixtures",  # its plain RQ functions (not tasks) run in the tests' workers
    **BUILTIN_SCHEDULES_OFF,
}


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the whole session, on a free port, stopped at the end."""
    server = RedisServer(free_port(), tmp_path_factory.mktemp("redis"), binary=embedded_server()).start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for this test."""
    client = connect_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
def settings(redis_url: str) -> Settings:
    return load_settings({**TEST_ENV, "REDIS_URL": redis_url})


@pytest.fixture
def connection(settings: Settings) -> Iterator[Redis]:
    client = connect_url(settings.redis.url)
    yield client
    client.close()


@pytest.fixture
def fake_connection() -> Redis:
    """fakeredis with RQ-compatible bytes responses, for fast unit tests."""
    return fakeredis.FakeRedis()


@pytest.fixture
def fake_settings() -> Settings:
    return load_settings(TEST_ENV)


@pytest.fixture
def app(settings: Settings, connection: Redis) -> Flask:
    return create_app(settings, connection)


@pytest.fixture
def fake_app(fake_settings: Settings, fake_connection: Redis) -> Flask:
    return create_app(fake_settings, fake_connection)


class ApiClient:
    """The Flask test client with a bearer token on every request."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        merged = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        merged.update(headers or {})
        return merged

    def get(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.post(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.put(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url: str, **kw):  # type: ignore[no-untyped-def]
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api(app: Flask) -> ApiClient:
    """An admin client of the app on real Redis."""
    return ApiClient(app.test_client(), ADMIN_TOKEN)


@pytest.fixture
def fake_api(fake_app: Flask) -> ApiClient:
    """An admin client of the app on fakeredis."""
    return ApiClient(fake_app.test_client(), ADMIN_TOKEN)


def run_worker(connection: Redis, queues: tuple[str, ...] = ("high", "default", "low")) -> None:
    """Run every queued job in this process (RQ's SimpleWorker, burst mode)."""
    worker = TaskyardSimpleWorker(
        [Queue(q, connection=connection) for q in queues],
        connection=connection,
        exception_handlers=EXCEPTION_HANDLERS,
        settings=load_settings(TEST_ENV),
    )
    worker.work(burst=True, with_scheduler=False)


def prefork_worker(
    connection: Redis,
    settings: Settings | None = None,
    queues: tuple[str, ...] = ("default",),
    **options: Any,
) -> TaskyardPreforkWorker:
    """The production worker on ``queues``, in this process (it forks its horse from here); ``options``
    go to its constructor as they are. Modules that run it take the :func:`restore_signals` fixture."""
    return TaskyardPreforkWorker(
        [Queue(q, connection=connection) for q in queues], connection=connection, settings=settings, **options
    )


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """A worker run in this process installs its own SIGTERM/SIGINT handlers; put pytest's back after
    the test. Opt in with ``pytestmark = pytest.mark.usefixtures("restore_signals")``."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def tmp_counter(tmp_path: Path) -> str:
    return str(tmp_path / "counter")


def create_task(api: ApiClient, **fields: object) -> dict[str, Any]:
    """POST /admin/scheduler: a one-time task ("now") adding 1 and 2 named t1, with ``fields`` over
    that; asserts it was created and returns it."""
    body = {"name": "t1", "handler": "tests.add", "params": {"a": 1, "b": 2}, "schedule": "now", **fields}
    response = api.post("/admin/scheduler", json=body)
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def executions(api: ApiClient, task_id: str) -> list[dict[str, Any]]:
    """A scheduled task's executions, newest first, as GET /admin/scheduler/<id>/executions lists them."""
    items: list[dict[str, Any]] = api.get(f"/admin/scheduler/{task_id}/executions").get_json()["items"]
    return items


def fire_and_work(engine: Engine, connection: Redis) -> None:
    """Fire the one due task and run its job (and any retry already due) in a burst worker."""
    assert engine.fire_due() == 1
    run_worker(connection)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def run_clock(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scheduled runs (scheduler.runner, in the test's own worker) read ``clock`` too."""
    monkeypatch.setattr(runner, "now", lambda: datetime.fromtimestamp(clock(), UTC))


@pytest.fixture
def engine(connection: Redis, settings: Settings, clock: Clock) -> Iterator[Engine]:
    """The scheduler's engine on the test's ``clock`` (a module may define its own)."""
    yield Engine(connection, settings, name="test-engine", clock=clock)
