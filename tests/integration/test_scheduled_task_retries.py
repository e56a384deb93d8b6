"""Retries of scheduled tasks as the scheduled-tasks design note describes them: counted per run, never
above ``maxRetries``, never sooner than ``retryDelay``, and a reset that is not a success.

Real Redis, the real engine on the real clock (RQ schedules retries by it), a real (burst) worker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from redis import Redis

from jobs.settings import Settings
from scheduler.engine import Engine
from tests.conftest import ApiClient, executions, fire_and_work, run_worker
from tests.conftest import create_task as create
from tests.waiting import wait_for


@pytest.fixture
def engine(connection: Redis, settings: Settings) -> Iterator[Engine]:
    yield Engine(connection, settings, name="retry-engine")


def test_retry_count_never_exceeds_max_retries(api: ApiClient, connection: Redis, engine: Engine) -> None:
    """The note: "Increments the retry counter and updates the task status to `retry-scheduled`" and
    "After reaching the maximum retry count, marks the task as `failed`"."""
    task = create(api, handler="tests.fail", params={"message": "down"}, maxRetries=2, retryDelay=0)
    fire_and_work(engine, connection)
    done = api.get(f"/admin/scheduler/{task['id']}").get_json()
    assert (done["status"], done["retryCount"], done["maxRetries"]) == ("failed", 2, 2)
    assert isinstance(done["lastRetry"], int)
    assert [e["attempt"] for e in executions(api, task["id"])] == [3, 2, 1]


def test_a_retry_never_starts_before_retry_delay(api: ApiClient, connection: Redis, engine: Engine) -> None:
    """The note: "schedules the task to run again after the specified delay" with ``"retryDelay":
    300000 // Wait 5 minutes between retry attempts``: the retry starts no sooner than retryDelay after
    the failure (1.4 s here: RQ alone would release it within whole seconds, up to ~1 s early)."""
    task = create(api, handler="tests.fail", params={"message": "down"}, maxRetries=1, retryDelay=1400)
    fire_and_work(engine, connection)

    def released() -> bool:
        engine.tick()
        return bool(connection.llen("rq:queue:default"))

    wait_for(released, 30, "the retry to be released", every=0.02)
    run_worker(connection)
    retry, first = executions(api, task["id"])
    assert (first["attempt"], retry["attempt"]) == (1, 2)
    assert retry["startTime"] - (first["startTime"] + first["duration"]) >= 1400 - 1


def test_reset_retries_on_a_failed_one_time_task_does_not_complete_it(
    api: ApiClient, connection: Redis, engine: Engine
) -> None:
    """The note: "Manual Intervention: Reset retry count or manually execute tasks as needed" and
    "Completed: Finished execution (for one-time tasks)": a reset is not a success."""
    task = create(api, handler="tests.fail", params={"message": "down"})
    fire_and_work(engine, connection)
    reset = api.post(f"/admin/scheduler/{task['id']}/actions/reset-retries").get_json()
    assert (reset["status"], reset["retryCount"]) == ("failed", 0)
    recurring = create(api, name="r", handler="tests.fail", params={}, schedule="@every 1h")
    api.post(f"/admin/scheduler/{recurring['id']}/actions/run")
    run_worker(connection)
    assert api.get(f"/admin/scheduler/{recurring['id']}").get_json()["status"] == "failed"
    again = api.post(f"/admin/scheduler/{recurring['id']}/actions/reset-retries").get_json()
    assert again["status"] == "active"


def test_retry_count_is_counted_per_run(api: ApiClient, connection: Redis, engine: Engine) -> None:
    """ "Retry Status Tracking: Monitor the retry count and history for each task": after a run used
    up its retries, the next run's first retry counts 1 again (not the exhausted run's 2)."""
    task = create(api, handler="tests.fail", params={"message": "down"}, schedule="@every 1h", maxRetries=2,
                  retryDelay=0)  # fmt: skip
    assert api.post(f"/admin/scheduler/{task['id']}/actions/run").status_code == 202
    run_worker(connection)  # three attempts, all failing
    assert api.get(f"/admin/scheduler/{task['id']}").get_json()["retryCount"] == 2
    api.put(f"/admin/scheduler/{task['id']}", json={"retryDelay": "1h"})
    assert api.post(f"/admin/scheduler/{task['id']}/actions/run").status_code == 202
    run_worker(connection)  # the first attempt fails; its retry waits an hour
    now = api.get(f"/admin/scheduler/{task['id']}").get_json()
    assert (now["status"], now["retryCount"]) == ("retry-scheduled", 1)
