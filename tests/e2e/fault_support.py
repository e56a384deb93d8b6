"""Plumbing for the fault tests: a private redis-server, the Procfile's processes, polling helpers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from redis import Redis
from rq.job import Job

from jobs.local.redis_server import RedisServer, embedded_server, free_port
from tests.conftest import ADMIN_TOKEN, TEST_ENV
from tests.waiting import wait_for

__all__ = ["Proc", "private_redis", "wait_for"]

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
DOWN_FOR = 3.0  # seconds Redis stays down: several of the worker's and the scheduler's reconnect backoffs


@contextmanager
def private_redis(
    data_dir: Path, *, appendonly: bool = False, extra: tuple[str, ...] = (), binary: str | None = None
) -> Iterator[RedisServer]:
    """A server of this test's own, with its data in ``data_dir``: the embedded one `make run` starts on
    a fresh machine, unless ``binary`` names another."""
    server = RedisServer(
        free_port(), data_dir, appendonly=appendonly, extra_args=extra, binary=binary or embedded_server()
    ).start()
    try:
        yield server
    finally:
        server.stop(kill=True)


class Proc:
    """One Procfile process started by a test, in its own session so its children can be found."""

    def __init__(self, module: str, url: str, log: Path, **env: str) -> None:
        self.log = log
        environment = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            **TEST_ENV,
            "REDIS_URL": url,
            "LOG_LEVEL": "INFO",
            **env,
        }
        with open(log, "ab") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", module],
                env=environment,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def descendants(self) -> list[int]:
        """Live (non-zombie) processes below this one."""
        parents: dict[int, int] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if fields[0] != "Z":
                    parents[int(entry.name)] = int(fields[1])
        found, frontier = [], [self.pid]
        while frontier:
            pid = frontier.pop()
            children = [p for p, parent in parents.items() if parent == pid]
            found.extend(children)
            frontier.extend(children)
        return found

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, wait, then SIGKILL the whole session; returns the exit status."""
        if self.popen.poll() is None:
            self.popen.terminate()
        with suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)
        self.kill()
        return self.popen.returncode

    def kill(self) -> None:
        for pid in [*self.descendants(), self.pid]:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def statuses(connection: Redis, ids: list[str]) -> list[str]:
    """Each job's status ("gone" when its hash has vanished), in one round trip."""
    with connection.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hget(Job.key_for(job_id), "status")
        return [(raw or b"gone").decode() for raw in pipe.execute()]


def failure_reason(connection: Redis, job_id: str) -> str:
    """The error text RQ stored for the job's last attempt."""
    job = Job.fetch(job_id, connection=connection)
    result = job.latest_result()
    return (result.exc_string if result and result.exc_string else "") + str(job.meta.get("last_error", ""))


def parent_of(pid: int) -> int:
    """The parent's pid of a live process (-1 once it has gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except OSError:
        return -1


def pool_worker_pids(proc: Proc) -> set[int]:
    """The pool's worker processes (its direct children; their work horses may be replaced)."""
    return {pid for pid in proc.descendants() if parent_of(pid) == proc.pid}


def assert_no_crash_loop(worker: Proc, scheduler: Proc) -> None:
    """Neither the pool replaced a worker nor a worker replaced a crashed horse."""
    for proc in (worker, scheduler):
        assert proc.popen.poll() is None, proc.output()[-3000:]
    for sign in ("is dead", "work horse crashed", "Traceback (most recent call last):\nredis"):
        assert sign not in worker.output(), worker.output()[-3000:]
    assert "Traceback" not in scheduler.output(), scheduler.output()[-3000:]
