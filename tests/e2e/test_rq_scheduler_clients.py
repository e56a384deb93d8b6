"""rq-scheduler client code against the Procfile's processes: a one-shot, an interval job with ``repeat``
and a cron job run on time and exactly as often as asked, through a leader kill between two of our
scheduler processes, and beside a stock ``rqscheduler`` process."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq.registry import StartedJobRegistry

from jobs import keys
from jobs.settings import Settings
from scheduler.rq_scheduler_jobs import SCHEDULED_JOBS
from tests.e2e import rq_scheduler_client as client
from tests.e2e.fault_support import ROOT, Proc, wait_for

pytestmark = pytest.mark.slow
LEASE = "1"


def schedule_from_client_script(settings: Settings) -> dict[str, Any]:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "tests.e2e.rq_scheduler_client", settings.redis.url],
        env=env, cwd=ROOT, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return dict(json.loads(out.stdout))


def moments(connection: Redis, kind: str) -> list[dict[str, Any]]:
    return [json.loads(raw) for raw in connection.lrange(f"moments:{kind}", 0, -1)]


def all_ran(connection: Redis) -> bool:
    return (
        len(moments(connection, "one-shot")) >= 1
        and len(moments(connection, "interval")) >= client.INTERVAL_REPEAT
        and len(moments(connection, "cron")) >= client.CRON_REPEAT
    )


def settled(connection: Redis) -> bool:
    """Nothing scheduled, queued or running any more: no further run can happen."""
    return (
        connection.zcard(SCHEDULED_JOBS) == 0
        and connection.llen("rq:queue:default") == 0
        and StartedJobRegistry("default", connection=connection).count == 0
    )


def check_runs(connection: Redis, asked: dict[str, Any], never_early: bool = True) -> None:
    one_shot, interval, cron = (moments(connection, kind) for kind in ("one-shot", "interval", "cron"))
    assert len(one_shot) == 1, one_shot
    assert len(interval) == client.INTERVAL_REPEAT, interval
    assert len(cron) == client.CRON_REPEAT, cron
    cron_seconds = [math.floor(run["enqueued"]) for run in cron]
    assert len(set(cron_seconds)) == len(cron_seconds), "a cron occurrence ran twice"
    if never_early:
        assert one_shot[0]["enqueued"] >= asked["one_shot"]["due"]
        first_due = math.floor(asked["interval"]["first"]) + 1
        for number, run in enumerate(interval):  # each at least one interval after the one before's due
            assert run["enqueued"] >= first_due + number * client.INTERVAL
            assert run["enqueued"] >= asked["interval"]["first"]


def leader(connection: Redis) -> str | None:
    raw = connection.get(keys.SCHEDULER_LEADER)
    return raw.decode() if raw else None


def test_client_script_runs_on_time_through_a_leader_kill(
    connection: Redis, settings: Settings, tmp_path: Path
) -> None:
    extra = {"SCHEDULER_LEASE": LEASE, "JOB_CONCURRENCY": "1"}
    processes = [Proc(m, settings.redis.url, tmp_path / f"{n}.log", **extra) for n, m in
                 enumerate(("jobs.worker", "scheduler", "scheduler"))]  # fmt: skip
    try:
        wait_for(lambda: connection.hlen(keys.SCHEDULER_HEARTBEATS) == 2, 30, "two schedulers")
        first_leader = wait_for(lambda: leader(connection), 30, "a leader")
        asked = schedule_from_client_script(settings)
        wait_for(lambda: len(moments(connection, "cron")) >= 2, 30, "cron runs before the kill")
        report = json.loads(connection.hget(keys.SCHEDULER_HEARTBEATS, first_leader) or "{}")
        os.kill(int(report["pid"]), signal.SIGKILL)
        wait_for(lambda: leader(connection) not in (None, first_leader), 15, "a new leader")
        wait_for(lambda: all_ran(connection), 60, "every run the client asked for")
        wait_for(lambda: settled(connection), 30, "the store to empty and the worker to finish")
        check_runs(connection, asked)
    finally:
        for process in processes:
            process.stop()


def test_rqscheduler_beside_ours_doubles_nothing(
    connection: Redis, settings: Settings, tmp_path: Path
) -> None:
    """While ours leads it holds rq-scheduler's lock, so ``rqscheduler`` skips every run; when ours stops
    (SIGTERM releases the lock), ``rqscheduler`` takes over the rest, with its own timing."""
    rqscheduler = Path(sys.executable).parent / "rqscheduler"
    theirs_log = tmp_path / "rqscheduler.log"
    with open(theirs_log, "ab") as out:
        theirs = subprocess.Popen(
            [str(rqscheduler), "--url", settings.redis.url, "--interval", "0.1", "--verbose"],
            env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}, cwd=ROOT,
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    worker = Proc("jobs.worker", settings.redis.url, tmp_path / "worker.log", JOB_CONCURRENCY="1")
    ours = Proc("scheduler", settings.redis.url, tmp_path / "scheduler.log", SCHEDULER_LEASE=LEASE)
    try:
        wait_for(lambda: leader(connection), 30, "our scheduler leading")
        asked = schedule_from_client_script(settings)
        wait_for(lambda: len(moments(connection, "interval")) >= 3, 30, "runs moved by ours")
        assert "Lock already taken" in theirs_log.read_text(errors="replace")
        check_runs_so_far = moments(connection, "one-shot") + moments(connection, "interval")
        assert all(run["enqueued"] >= asked["interval"]["first"] for run in check_runs_so_far)
        assert ours.stop() == 0  # SIGTERM: our leader releases rq-scheduler's lock
        wait_for(lambda: all_ran(connection), 60, "rqscheduler moving the rest")
        wait_for(lambda: settled(connection), 30, "the store to empty and the worker to finish")
        check_runs(connection, asked, never_early=False)  # rqscheduler fires up to a second early
    finally:
        theirs.terminate()
        theirs.wait(timeout=30)
        worker.stop()
        ours.stop()
