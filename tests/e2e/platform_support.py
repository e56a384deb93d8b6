"""The Procfile's processes (web, worker, scheduler) on the test Redis for browser and HTTP tests: start
them, wait until /healthz answers, and stop them however they end."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import requests

from jobs.local.redis_server import free_port
from jobs.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.e2e.fault_support import ROOT
from tests.waiting import wait_for

PROCFILE = ("web.server", "jobs.worker", "scheduler")


def answers(url: str) -> bool:
    """Whether ``url`` answers 200 or 503 (the health check's two verdicts) within 2 s."""
    try:
        return requests.get(url, timeout=2).status_code in (200, 503)
    except requests.RequestException:  # not listening yet, or too busy to answer in time
        return False


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    wait_for(lambda: answers(url), timeout, f"{url} to answer")


def stop_all(processes: Sequence[subprocess.Popen[bytes]], timeout: float = 15.0) -> None:
    """SIGTERM every process still running, wait for them all until one deadline, then SIGKILL and
    reap whatever has not exited by then."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in processes:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_platform(
    settings: Settings,
    processes: Sequence[str] = PROCFILE,
    secret_key: str = "browser-test-secret",
    **extra_env: str,
) -> Iterator[str]:
    """``processes`` (``python -m MODULE``) on the Redis of ``settings``, the web one on a free port,
    with one web worker and (when a worker runs) one job at a time, plus ``extra_env``; yields the web
    URL once /healthz answers, and stops them all on the way out."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "REDIS_URL": settings.redis.url,
        "PORT": str(port),
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "SECRET_KEY": secret_key,
        "TASK_MODULES": "tests.fixtures",
        "WEB_CONCURRENCY": "1",
        **({"JOB_CONCURRENCY": "1"} if "jobs.worker" in processes else {}),
        "LOG_LEVEL": "WARNING",
        **extra_env,
    }
    started: list[subprocess.Popen[bytes]] = []
    try:
        for module in processes:
            started.append(subprocess.Popen([sys.executable, "-m", module], env=env, cwd=ROOT))
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/healthz")
        yield url
    finally:
        stop_all(started)
