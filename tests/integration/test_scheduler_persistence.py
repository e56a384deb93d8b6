"""Scheduled tasks, their state and history survive a Redis restart with append-only persistence."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from jobs.connection import connect_url
from jobs.local.redis_server import RedisServer, embedded_server, free_port
from jobs.settings import load_settings
from scheduler.engine import Engine
from scheduler.executions import ExecutionLog
from scheduler.store import TaskStore
from scheduler.tasks import Definition
from tests.conftest import TEST_ENV


def test_tasks_survive_a_redis_restart(tmp_path: Path) -> None:
    port = free_port()
    server = RedisServer(port, tmp_path, appendonly=True, binary=embedded_server()).start()
    try:
        connection = connect_url(server.url)
        store = TaskStore(connection)
        now = datetime.now(UTC)
        nightly = store.create(
            Definition("nightly", "system.echo", "0 3 * * *", timezone="Europe/Berlin"), now
        )
        soon = store.create(Definition("soon", "system.echo", "@every 1s"), now)
        paused = store.create(Definition("paused", "system.echo", "@every 1h"), now)
        store.pause(paused, now)
        ExecutionLog(connection).record(nightly.id, {"id": "e1", "startTime": 1, "status": "completed"})
        connection.close()
        server.stop()  # SIGTERM: Redis flushes the append-only file
        server = RedisServer(port, tmp_path, appendonly=True, binary=embedded_server()).start()
        connection = connect_url(server.url)
        store = TaskStore(connection)
        assert {t.definition.name: t.status for t in store.page(1, 10)[0]} == {
            "nightly": "active",
            "soon": "active",
            "paused": "paused",
        }
        assert store.get(nightly.id).next_run == nightly.next_run  # type: ignore[union-attr]
        assert ExecutionLog(connection).page(nightly.id)[1] == 1
        settings = load_settings({**TEST_ENV, "REDIS_URL": server.url})
        engine = Engine(connection, settings, clock=lambda: time.time() + 2)
        assert engine.fire_due() == 1  # "soon" is due after the restart and fires
        assert store.get(soon.id).current_job  # type: ignore[union-attr]
    finally:
        server.stop()
