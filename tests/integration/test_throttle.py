"""@rate_limited: runs over the limit are deferred to a delayed copy, never executed early or failed."""

from __future__ import annotations

import time

from redis import Redis

from jobs.enqueue import JobRequest, enqueue
from jobs.handler_context import use_settings
from jobs.settings import Settings
from scheduler.engine import Engine
from tests.conftest import run_worker
from tests.waiting import wait_for


def test_over_the_limit_runs_are_deferred_not_failed(connection: Redis, settings: Settings) -> None:
    jobs = [enqueue(connection, settings, JobRequest("tests.limited", kwargs={"n": n})).job for n in range(5)]
    started = time.time()
    with use_settings(settings):
        run_worker(connection)
        assert sorted(int(x) for x in connection.lrange("test:limited", 0, -1)) == [0, 1]
        results = [job.return_value() for job in jobs]
        deferred = [r for r in results if isinstance(r, dict)]
        assert len(deferred) == 3 and all(r["deferred"] == "rate limited" for r in deferred)
        assert all(job.get_status() == "finished" for job in jobs)  # deferral is not a failure
        engine = Engine(connection, settings)

        def ran_five() -> bool:
            engine.tick()
            run_worker(connection)
            return connection.llen("test:limited") >= 5

        wait_for(ran_five, 60, "all five limited runs")
    assert sorted(int(x) for x in connection.lrange("test:limited", 0, -1)) == [0, 1, 2, 3, 4]
    assert time.time() - started >= 1.0  # five runs at two a second take over a second
