"""Environment variables spelled the way the design notes spell them mean what the notes mean."""

from __future__ import annotations

import subprocess
import sys

import pytest
from redis import Redis
from rq.job import Job

from jobs.connection import connect, connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.handler_context import use_settings
from jobs.settings import SettingsError, load_or_exit, load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV, ApiClient
from tests.drive import drive
from tests.receivers import fail_then_succeed, serve
from web import create_app


# --- JOB_RETRY_DELAY: milliseconds, or a unit ----------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("5000", 5.0), ("5000ms", 5.0), ("5s", 5.0), ("1.5s", 1.5), ("1m", 60.0), ("2h", 7200.0), ("250", 0.25)],
)
def test_job_retry_delay_reads_milliseconds_and_units(raw: str, seconds: float) -> None:
    """The background-jobs design note sets ``JOB_RETRY_DELAY=5000`` for Bull, which reads milliseconds
    (as ``"retryDelay": 300000 // Wait 5 minutes`` does in the scheduled-tasks note)."""
    assert load_settings({"JOB_RETRY_DELAY": raw}).worker.retry_delay == seconds


@pytest.mark.parametrize("raw", ["soon", "5 minutes", "-5", "5d"])
def test_a_bad_job_retry_delay_names_the_variable(raw: str) -> None:
    """``JOB_RETRY_DELAY=5000``: anything that is not a number of ms or a duration is refused."""
    with pytest.raises(SettingsError) as caught:
        load_settings({"JOB_RETRY_DELAY": raw})
    assert caught.value.variable == "JOB_RETRY_DELAY" and "5000ms" in str(caught.value)


def test_the_notes_job_retry_delay_gives_a_job_a_five_second_retry(connection: Redis, settings) -> None:  # type: ignore[no-untyped-def]
    """``JOB_MAX_RETRIES=3`` and ``JOB_RETRY_DELAY=5000``: a task without its own policy retries three
    times, five seconds apart (it used to be 5000 seconds, 83 minutes)."""
    noted = load_settings({**TEST_ENV, "REDIS_URL": settings.redis.url, "JOB_MAX_RETRIES": "3",
                           "JOB_RETRY_DELAY": "5000"})  # fmt: skip
    job = enqueue(connection, noted, JobRequest("tests.default_retry")).job
    fetched = Job.fetch(job.id, connection=connection)
    assert (fetched.retries_left, fetched.retry_intervals) == (3, [5, 5, 5])
    api = ApiClient(create_app(noted, connection).test_client(), ADMIN_TOKEN)
    task = api.post("/admin/scheduler", json={"name": "x", "handler": "system.echo", "schedule": "@every 1h"})
    assert task.get_json()["retryDelay"] == 5000


def test_a_bare_number_that_looks_like_seconds_warns_once_at_start(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``JOB_RETRY_DELAY=5000`` is milliseconds; ``JOB_RETRY_DELAY=60`` (seconds, as this setting used
    to be read) becomes 60 ms, so every process says so in one line when it starts."""
    load_or_exit({"JOB_RETRY_DELAY": "60"})
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "taskyard: configuration warning: JOB_RETRY_DELAY=60 is read as 60 milliseconds (a bare number is "
        "milliseconds, as in the design notes); write 60s if you meant seconds"
    ]
    for quiet in ("5000", "60s", "1m"):
        load_or_exit({"JOB_RETRY_DELAY": quiet})
        assert capsys.readouterr().err == ""


def test_the_scheduler_process_prints_the_warning_first(redis_url: str) -> None:
    """The same line from a real process (the Procfile's scheduler), before anything else it logs."""
    env = {"PATH": "/usr/bin:/bin", "JOB_RETRY_DELAY": "30", "REDIS_URL": redis_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline().strip()  # the warning comes before any other output
    finally:
        process.terminate()
        process.communicate(timeout=30)  # also closes the pipe
    assert first.startswith("taskyard: configuration warning: JOB_RETRY_DELAY=30 is read as 30 milliseconds")


def test_a_contradiction_stops_a_process_with_one_line() -> None:
    """``REDIS_PORT=6379`` beside a REDIS_URL on another port: the process refuses to start."""
    env = {"PATH": "/usr/bin:/bin", "REDIS_PORT": "1", "REDIS_URL": "redis://127.0.0.1:2/0"}
    result = subprocess.run(
        [sys.executable, "-m", "scheduler"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "taskyard: configuration error: REDIS_PORT: 1 contradicts REDIS_URL's port 2; set one"
    )


# --- REDIS_HOST / REDIS_PORT / REDIS_PASSWORD ------------------------------------------------------
@pytest.mark.parametrize(
    ("env", "url"),
    [
        ({"REDIS_HOST": "redis.internal"}, "redis://redis.internal:6379/0"),
        ({"REDIS_HOST": "localhost", "REDIS_PORT": "6380"}, "redis://localhost:6380/0"),
        ({"REDIS_PASSWORD": "p@ss/word"}, "redis://:p%40ss%2Fword@127.0.0.1:6379/0"),
        ({"REDIS_PORT": "6390"}, "redis://127.0.0.1:6390/0"),
        ({"REDIS_URL": "redis://h:6379/1", "REDIS_HOST": "h", "REDIS_PORT": "6379"}, "redis://h:6379/1"),
        ({"REDIS_URL": "redis://:pw@h:6379/0", "REDIS_PASSWORD": "pw"}, "redis://:pw@h:6379/0"),
    ],
)
def test_redis_host_port_password_build_the_url_when_redis_url_is_unset(env: dict, url: str) -> None:
    """The background-jobs note: ``host: process.env.REDIS_HOST || 'localhost'``, ``port:
    parseInt(process.env.REDIS_PORT || '6379')``, ``password: process.env.REDIS_PASSWORD``."""
    assert load_settings(env).redis.url == url


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"REDIS_URL": "redis://a:6379/0", "REDIS_HOST": "b"}, "REDIS_HOST"),
        ({"REDIS_URL": "redis://a:6379/0", "REDIS_PORT": "6380"}, "REDIS_PORT"),
        ({"REDIS_URL": "redis://:x@a:6379/0", "REDIS_PASSWORD": "y"}, "REDIS_PASSWORD"),
        ({"REDIS_URL": "unix:///tmp/redis.sock", "REDIS_HOST": "a"}, "REDIS_HOST"),
        ({"REDIS_PORT": "seventy"}, "REDIS_PORT"),
        ({"REDIS_PORT": "70000"}, "REDIS_PORT"),
    ],
)
def test_a_contradictory_or_bad_redis_combination_is_refused(env: dict, variable: str) -> None:
    """``REDIS_HOST=localhost``, ``REDIS_PORT=6379`` beside a ``REDIS_URL`` that says otherwise: which
    one was meant is unknowable, so neither silently wins."""
    with pytest.raises(SettingsError) as caught:
        load_settings(env)
    assert caught.value.variable == variable


def test_a_password_protected_redis_is_reached_through_the_three_variables(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``REDIS_HOST=localhost``, ``REDIS_PORT=6379``, ``REDIS_PASSWORD=your-secure-password`` against
    a real redis-server that requires the password."""
    from jobs.local.redis_server import RedisServer, free_port

    port = free_port()
    server = RedisServer(port, tmp_path).start()
    try:
        connect_url(server.url).config_set("requirepass", "your-secure-password")
        env = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(port), "REDIS_PASSWORD": "your-secure-password"}
        client = connect(load_settings(env))
        assert client.ping() is True
        wrong = connect(load_settings({**env, "REDIS_PASSWORD": "guess"}))
        with pytest.raises(Exception, match=r"(?i)auth|password|WRONGPASS"):
            wrong.ping()
    finally:
        server.stop()


# --- ENABLE_WEBHOOK_RETRIES ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "env", [{"ENABLE_WEBHOOK_RETRIES": "false"}, {"WEBHOOK_RETRY_SCHEDULE": ""}], ids=["disabled", "empty"]
)
def test_webhook_retries_off_dead_letters_a_failed_delivery_at_once(
    env: dict, redis_url: str, connection: Redis
) -> None:
    """The task-scheduling note: ``if (!process.env.ENABLE_WEBHOOK_RETRIES) { return; }``: with
    retries off a failed delivery is not retried; it is ``failed`` (the dead-letter list) after one try."""
    settings = load_settings({**TEST_ENV, "REDIS_URL": redis_url, "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
                              **env})  # fmt: skip
    assert settings.webhooks.retry_schedule == ()
    api = ApiClient(create_app(settings, connection).test_client(), ADMIN_TOKEN)
    with use_settings(settings), serve(fail_then_succeed(5)) as receiver:
        body = {
            "url": receiver.url + "/hook",
            "secret": "whsec-0123456789abcdef",
            "events": ["order.created"],
        }
        assert api.post("/api/v1/webhooks/endpoints", json=body).status_code == 201
        [queued] = api.post("/api/v1/events", json={"type": "order.created", "payload": {}}).get_json()[
            "deliveries"
        ]

        def status() -> str:
            return str(api.get(f"/api/v1/webhooks/deliveries/{queued['id']}").get_json()["status"])

        drive(connection, settings, lambda: status() == "failed")  # final: nothing is scheduled after it
        assert len(receiver.requests) == 1
    assert api.get(f"/api/v1/webhooks/deliveries/{queued['id']}").get_json()["attempts"] == 1


def test_webhook_retries_stay_on_by_default() -> None:
    """``ENABLE_WEBHOOK_RETRIES=true`` (or unset) keeps the retry schedule (1m, 5m, 15m, 1h, 6h)."""
    assert load_settings({"ENABLE_WEBHOOK_RETRIES": "true"}).webhooks.retry_schedule == (
        60,
        300,
        900,
        3600,
        21600,
    )
    assert load_settings({}).webhooks.retry_schedule == (60, 300, 900, 3600, 21600)
    with pytest.raises(SettingsError):
        load_settings({"ENABLE_WEBHOOK_RETRIES": "sometimes"})
