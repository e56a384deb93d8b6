"""/healthz reports Redis, workers and schedulers, and says what is missing: the details to any valid
token, only the status to everyone else."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from flask import Flask
from redis import Redis

from jobs.local.redis_server import free_port
from jobs.settings import Settings, load_settings
from scheduler.engine import Engine
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient
from web import create_app


def test_degraded_without_worker_and_scheduler(api: ApiClient) -> None:
    api.post("/api/v1/jobs", json={"task": "system.echo", "delay_seconds": 30})
    report = api.get("/healthz")
    assert report.status_code == 200
    body = report.get_json()
    assert body["status"] == "degraded"
    assert body["redis"]["ok"] is True
    assert any("no worker" in p for p in body["problems"])
    assert any("no scheduler is running: 1 delayed" in p for p in body["problems"])


def test_scheduler_heartbeat_shows(app: Flask, connection: Redis, settings: Settings) -> None:
    engine = Engine(connection, settings, name="sched-a")
    engine.tick()
    body = ApiClient(app.test_client(), ADMIN_TOKEN).get("/healthz").get_json()
    assert [s["name"] for s in body["schedulers"]] == ["sched-a"]
    assert body["schedulers"][0]["leader"] is True
    assert not any("scheduler" in p for p in body["problems"])
    seen_at = datetime.fromisoformat(body["schedulers"][0]["at"])  # ISO 8601 with its offset, no epoch number
    assert seen_at.utcoffset() is not None and abs((datetime.now(UTC) - seen_at).total_seconds()) < 3600


def test_redis_down_is_503_json() -> None:
    settings = load_settings({**TEST_ENV, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    app = create_app(settings)
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"status": "down"}
    api = ApiClient(client, ADMIN_TOKEN)
    response = api.post("/api/v1/jobs", json={"task": "system.echo"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "redis_unavailable"
    assert api.get("/api/v1/queues").status_code == 503


def test_without_a_token_only_the_status_is_shown(app: Flask, connection: Redis, settings: Settings) -> None:
    Engine(connection, settings, name="sched-host-b").tick()
    api = ApiClient(app.test_client(), ADMIN_TOKEN)
    api.post("/api/v1/jobs", json={"task": "system.echo"})
    anonymous = app.test_client().get("/healthz")
    assert anonymous.status_code == 200
    assert anonymous.get_json() == {"status": "degraded"}
    assert "sched-host-b" not in anonymous.get_data(as_text=True)
    wrong = app.test_client().get("/healthz", headers={"Authorization": "Bearer not-a-token"})
    assert wrong.get_json() == {"status": "degraded"}
    _, viewer_secret = app.extensions["taskyard"].tokens.create("probe", "viewer", None, datetime.now(UTC))
    viewer = ApiClient(app.test_client(), viewer_secret).get("/healthz").get_json()
    assert viewer["status"] == "degraded"
    assert [s["name"] for s in viewer["schedulers"]] == ["sched-host-b"]
    assert any("no worker" in p for p in viewer["problems"])


def test_engine_survives_redis_errors() -> None:
    settings = load_settings({**TEST_ENV, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    from jobs.connection import connect

    engine = Engine(connect(settings), settings)
    stop = threading.Event()
    thread = threading.Thread(target=engine.run, args=(stop,))
    thread.start()
    stop.wait(0.5)
    assert thread.is_alive()  # retrying, not crashed
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
