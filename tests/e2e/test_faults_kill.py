"""Workers killed with SIGKILL (worker and work horse together) while 1,000 jobs flow: every job ends
finished, none stays started, none vanishes; a job runs twice only when its attempt was cut short."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from rq import Queue
from rq.registry import FailedJobRegistry, StartedJobRegistry

from jobs.connection import connect_url
from jobs.enqueue import JobRequest, enqueue
from jobs.settings import load_settings
from tests.conftest import TEST_ENV
from tests.e2e.fault_support import Proc, parent_of, private_redis, statuses, wait_for

pytestmark = pytest.mark.slow

JOBS = 1000
KILLS = 3


def test_sigkilled_workers_lose_nothing(tmp_path: Path) -> None:
    with private_redis(tmp_path / "redis") as server:
        connection = connect_url(server.url)
        settings = load_settings({**TEST_ENV, "REDIS_URL": server.url})
        pool = Proc(
            "jobs.worker", server.url, tmp_path / "worker.log", JOB_CONCURRENCY="2", JOB_ABANDON_AFTER="2"
        )
        try:
            ids = [
                enqueue(
                    connection, settings, JobRequest("tests.record", kwargs={"key": "runs", "sleep": 0.01})
                ).job.id
                for _ in range(JOBS)
            ]
            wait_for(lambda: connection.llen("runs") > 50, 30, "the workers to start")
            killed = []
            for _ in range(KILLS):
                # A worker (a child of the pool) and its horse, in the middle of the flow, once the pool
                # has replaced the previous victim.
                workers = wait_for(lambda: _workers_with_horses(pool), 10, "two workers with horses")
                victim = workers[0]
                horses = [p for p in pool.descendants() if parent_of(p) == victim]
                for pid in [victim, *horses]:
                    os.kill(pid, signal.SIGKILL)
                killed.append(time.monotonic())
                time.sleep(1.0)
            assert connection.llen("runs") < JOBS, "the flow ended before the last kill; slow the jobs down"

            wait_for(lambda: set(statuses(connection, ids)) == {"finished"}, 45, "every job to finish")
            recovered_in = time.monotonic() - killed[-1]

            runs = Counter(r.decode() for r in connection.lrange("runs", 0, -1))
            assert set(runs) == set(ids)  # every job ran; nothing vanished
            twice = [job_id for job_id, n in runs.items() if n > 1]
            assert len(twice) <= KILLS  # at most the attempt each kill cut short ran again
            assert all(runs[job_id] == 2 for job_id in twice)
            # Jobs cut short by a kill were found abandoned and retried (a retry used up), not lost.
            retries_left = [connection.hget(f"rq:job:{job_id}", "retries_left") for job_id in ids]
            recovered = [r for r in retries_left if r is not None and int(r) < 5]
            assert 1 <= len(recovered) <= KILLS
            for name in settings.worker.queues:
                assert StartedJobRegistry(name, connection=connection).count == 0
                assert FailedJobRegistry(name, connection=connection).count == 0
                assert Queue(name, connection=connection).count == 0
                assert connection.llen(f"rq:queue:{name}:intermediate") == 0
            print(
                f"\n{JOBS} jobs finished {recovered_in:.1f}s after the last kill; "
                f"{len(recovered)} retried after a kill, {len(twice)} ran twice"
            )
        finally:
            pool.stop()


def _workers_with_horses(pool: Proc) -> list[int]:
    """The pool's worker processes, once each runs a horse (empty until both do)."""
    below = pool.descendants()
    workers = [p for p in below if parent_of(p) == pool.pid]
    ready = [w for w in workers if any(parent_of(p) == w for p in below)]
    return ready if len(ready) == 2 else []
