"""Two real scheduler processes: each occurrence fires exactly once, and when the leader is killed
(SIGKILL) the other takes over and goes on firing. How fast it takes over is measured in `make bench`
(bench/README.md), not asserted here: the tests wait for events with generous deadlines."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis

from jobs import keys
from jobs.settings import Settings
from scheduler.executions import ExecutionLog
from tests.conftest import ApiClient
from tests.waiting import wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
LEASE = 1.0


def start(module: str, settings: Settings, **extra: str) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": settings.redis.url,
        "TASK_MODULES": "tests.fixtures",
        "SCHEDULER_LEASE": str(LEASE),
        "JOB_CONCURRENCY": "1",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    return subprocess.Popen([sys.executable, "-m", module], env=env, cwd=ROOT)


def leader(connection: Redis) -> str | None:
    raw = connection.get(keys.SCHEDULER_LEADER)
    return raw.decode() if raw else None


def pid_of(connection: Redis, name: str) -> int:
    return int(json.loads(connection.hget(keys.SCHEDULER_HEARTBEATS, name))["pid"])


@contextmanager
def running(*processes: subprocess.Popen[bytes]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Yield the started processes; terminate and reap whatever is still alive afterwards."""
    try:
        yield list(processes)
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            process.wait(timeout=30)


def stop_leader(connection: Redis, sig: signal.Signals) -> tuple[str, int, float]:
    """Once two schedulers report, send ``sig`` to the leader; return (its name, its pid, seconds until
    another scheduler led)."""
    first_leader = wait_for(lambda: leader(connection), 30, "a leader")
    wait_for(lambda: connection.hlen(keys.SCHEDULER_HEARTBEATS) == 2, 30, "two schedulers")
    pid = pid_of(connection, first_leader)
    os.kill(pid, sig)
    stopped_at = time.time()
    wait_for(lambda: (now_leading := leader(connection)) and now_leading != first_leader, 60, "a new leader")
    return first_leader, pid, time.time() - stopped_at


def test_two_schedulers_fire_each_occurrence_once_and_fail_over(
    api: ApiClient, connection: Redis, settings: Settings
) -> None:
    task = api.post(
        "/admin/scheduler",
        json={
            "name": "every-second",
            "handler": "tests.record_run",
            "schedule": "* * * * * *",
            "allowOverlap": True,
        },
    ).get_json()
    with running(start("scheduler", settings), start("scheduler", settings), start("jobs.worker", settings)):
        wait_for(lambda: connection.hlen(keys.SCHEDULER_HEARTBEATS) == 2, 30, "two schedulers")
        wait_for(lambda: connection.llen("test:runs") >= 3, 60, "three runs under the first leader")
        first_leader, _, _ = stop_leader(connection, signal.SIGKILL)
        second_leader = leader(connection)
        before = connection.llen("test:runs")
        wait_for(lambda: connection.llen("test:runs") >= before + 3, 60, "three runs under the new leader")
    assert second_leader != first_leader
    executions, _ = ExecutionLog(connection).page(task["id"], per_page=1000)
    occurrences = sorted(e["occurrence"] for e in executions if e["occurrence"])
    assert len(occurrences) >= 6
    assert len(occurrences) == len(set(occurrences)), "an occurrence fired twice"
    assert all((b - a) % 1000 == 0 for a, b in itertools.pairwise(occurrences))  # whole-second occurrences
    assert all(e["lateness"] is None or e["lateness"] >= 0 for e in executions)
    runs = [r.decode() for r in connection.lrange("test:runs", 0, -1)]
    assert len(runs) == len(set(runs)) == len(occurrences), "a run executed twice"


def test_hundred_every_second_tasks_through_a_leader_kill(connection: Redis, settings: Settings) -> None:
    from datetime import UTC, datetime

    from scheduler.store import TaskStore
    from scheduler.tasks import Definition

    store = TaskStore(connection)
    now = datetime.now(UTC)
    ids = [
        store.create(Definition(f"c{i}", "system.noop", "* * * * * *", allow_overlap=True), now).id
        for i in range(100)
    ]
    per_task: dict[str, list[int]] = {task_id: [] for task_id in ids}

    def ours() -> list[tuple[str, int]]:
        """(task id, occurrence) of each pushed run of these tasks; the built-in declared schedules
        (health metrics every few minutes) push to the same queue and are left out."""
        runs = []
        for raw in connection.lrange("rq:queue:default", 0, -1):
            task_id, _, occurrence = raw.decode().removeprefix("sched-").rpartition("-")
            if task_id in per_task:
                runs.append((task_id, int(occurrence)))
        return runs

    def pushed() -> int:
        return len(ours())

    with running(start("scheduler", settings), start("scheduler", settings)):
        wait_for(lambda: connection.hlen(keys.SCHEDULER_HEARTBEATS) == 2, 30, "two schedulers")
        wait_for(lambda: pushed() >= 200, 60, "two occurrences of every task under the first leader")
        _, _, takeover = stop_leader(connection, signal.SIGKILL)
        before = pushed()
        wait_for(
            lambda: pushed() >= before + 200, 60, "two more occurrences of every task under the new leader"
        )
    runs = ours()
    assert len(runs) == len(set(runs)), "a job was pushed twice"
    for task_id, occurrence in runs:
        per_task[task_id].append(occurrence)
    for occurrences in per_task.values():
        occurrences.sort()
        assert len(occurrences) >= 4
        assert all(o % 1000 == 0 for o in occurrences)
        assert all((b - a) % 1000 == 0 for a, b in itertools.pairwise(occurrences))
    print(f"takeover after SIGKILL: {takeover:.2f}s (lease {LEASE}s)")


def test_sigterm_hands_leadership_over_at_once(connection: Redis, settings: Settings) -> None:
    """A Heroku-style restart (SIGTERM) releases the lease, so the standby leads before the lease could
    have expired: the lease is far longer than the wait's deadline."""
    lease = "300"
    pair = (
        start("scheduler", settings, SCHEDULER_LEASE=lease),
        start("scheduler", settings, SCHEDULER_LEASE=lease),
    )
    with running(*pair) as processes:
        _, pid, _ = stop_leader(connection, signal.SIGTERM)  # waits at most 60 s for the new leader
        exited = next(p for p in processes if p.pid == pid)
        assert exited.wait(timeout=30) == 0  # a clean exit, not a crash
