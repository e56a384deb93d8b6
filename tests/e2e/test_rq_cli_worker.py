"""RQ's own CLI starts the Taskyard worker: `rq worker -w jobs.worker.Worker`, as a team's process
manager already runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from rq.job import Job

from jobs.connection import connect_url
from tests.conftest import TEST_ENV
from tests.e2e.fault_support import ROOT, failure_reason

pytestmark = pytest.mark.slow

RQ = Path(sys.executable).with_name("rq")


def test_the_stock_rq_cli_runs_our_worker_with_its_rules(redis_url: str) -> None:
    connection: Redis = connect_url(redis_url)
    first, second = Queue("first", connection=connection), Queue("second", connection=connection)
    named = [first.enqueue("system.echo", n=1), first.enqueue("system.echo", n=2)]
    other = second.enqueue("system.echo", n=3)
    refused = second.enqueue("os.getcwd")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **TEST_ENV, "REDIS_URL": redis_url}

    command = [str(RQ), "worker", "-w", "jobs.worker.Worker", "--url", redis_url, "--burst"]
    done = subprocess.run(
        [*command, "--dequeue-strategy", "round_robin", "first", "second"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert [job.return_value() for job in named] == [{"n": 1}, {"n": 2}]
    assert other.return_value() == {"n": 3}
    assert refused.get_status() == "failed"
    assert "FunctionRefused" in failure_reason(connection, refused.id)
    order = [Job.fetch(job.id, connection=connection).ended_at for job in (named[0], other, named[1])]
    assert order == sorted(order)  # round robin: first, second, first
    connection.close()
