"""/metrics: Prometheus text that parses, counters that move when jobs run, and access control."""

from __future__ import annotations

from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis

from jobs.enqueue import JobRequest, enqueue
from jobs.settings import Settings, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient, run_worker
from tests.web_login import make_token
from web import create_app

METRICS_TOKEN = "scraper-secret-0123456789"


def scrape(api: ApiClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics as {(name, sorted labels): value}, through prometheus_client's parser."""
    response = api.get("/metrics")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_counters_move_when_jobs_run(api: ApiClient, connection: Redis, settings: Settings) -> None:
    before = scrape(api)
    assert ("taskyard_queue_depth", (("queue", "default"),)) in before
    enqueue(connection, settings, JobRequest("tests.add", args=(1, 2)))
    enqueue(connection, settings, JobRequest("tests.add", args=(3, 4)))
    enqueue(connection, settings, JobRequest("tests.fail"))
    queued = scrape(api)
    add = (("queue", "default"), ("task", "tests.add"))
    fail = (("queue", "default"), ("task", "tests.fail"))
    assert queued[("taskyard_jobs_enqueued_total", add)] == 2
    assert queued[("taskyard_queue_depth", (("queue", "default"),))] == 3
    run_worker(connection)
    after = scrape(api)
    assert after[("taskyard_jobs_started_total", add)] == 2
    assert after[("taskyard_jobs_finished_total", add)] == 2
    assert after[("taskyard_jobs_failed_total", fail)] == 1
    assert after[("taskyard_job_duration_seconds_count", add)] == 2
    assert after[("taskyard_job_duration_seconds_bucket", tuple(sorted((*add, ("le", "+Inf")))))] == 2
    assert after[("taskyard_job_duration_seconds_sum", add)] > 0
    assert after[("taskyard_queue_depth", (("queue", "default"),))] == 0
    assert after[("taskyard_dead_letters", (("kind", "jobs"),))] == 1


def test_retries_are_counted(api: ApiClient, connection: Redis, settings: Settings, tmp_counter: str) -> None:
    flaky = JobRequest("tests.flaky", kwargs={"counter_file": tmp_counter, "failures": 1})
    enqueue(connection, settings, flaky)
    run_worker(connection)
    samples = scrape(api)
    assert samples[("taskyard_job_retries_total", (("queue", "default"), ("task", "tests.flaky")))] == 1


def test_access_needs_a_token_or_an_allowed_address(settings: Settings, connection: Redis) -> None:
    env = {**TEST_ENV, "REDIS_URL": settings.redis.url, "METRICS_TOKEN": METRICS_TOKEN}
    app: Flask = create_app(load_settings(env), connection)
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    for token in (METRICS_TOKEN, ADMIN_TOKEN, make_token(app, "viewer")):
        assert client.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    allowed = create_app(load_settings({**env, "METRICS_ALLOW_IPS": "10.0.0.0/8"}), connection).test_client()
    assert allowed.get("/metrics", environ_base={"REMOTE_ADDR": "10.2.3.4"}).status_code == 200
    assert allowed.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.1"}).status_code == 401


def test_queue_stats_is_admin_only(api: ApiClient, app: Flask, connection: Redis, settings: Settings) -> None:
    enqueue(connection, settings, JobRequest("tests.add", args=(1, 2)))
    enqueue(connection, settings, JobRequest("tests.fail"))
    run_worker(connection)
    enqueue(connection, settings, JobRequest("tests.add", args=(1, 2)))
    stats = api.get("/api/v1/queues/stats")
    assert stats.status_code == 200
    default = next(q for q in stats.get_json()["items"] if q["name"] == "default")
    assert default == {"name": "default", "waiting": 1, "active": 0, "completed": 1, "failed": 1}
    viewer = ApiClient(app.test_client(), make_token(app, "viewer"))
    assert viewer.get("/api/v1/queues/stats").status_code == 403
