"""Shared benchmark plumbing: a private redis-server, process helpers (our web process among them), and
the result table."""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from jobs.local.redis_server import RedisServer, embedded_server, free_port

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-admin-token-0123456789"  # the admin token of the web process the benchmarks start


@contextmanager
def private_redis() -> Iterator[RedisServer]:
    """A fresh redis-server on a free port for one benchmark run."""
    with (
        TemporaryDirectory() as data,
        RedisServer(free_port(), Path(data), binary=embedded_server()) as server,
    ):
        yield server


def spawn(args: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a process of ours (or RQ's) with ``env`` on top of this one's environment."""
    return subprocess.Popen(
        [sys.executable, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )


def stop(processes: Sequence[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def start_web(url: str, port: int) -> subprocess.Popen[bytes]:
    """The Procfile's web process (``python -m web.server``) on ``port``, on the Redis at ``url``, with
    :data:`TOKEN` as its admin token; returned once ``/healthz`` answers (stopped if it never does)."""
    env = {
        "REDIS_URL": url,
        "PORT": str(port),
        "ADMIN_TOKEN": TOKEN,
        "SECRET_KEY": "bench",
        "LOG_LEVEL": "WARNING",
    }
    process = spawn(["-m", "web.server"], env)

    def up() -> bool:
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/healthz")
            return probe.getresponse().status in (200, 503)
        except (OSError, http.client.HTTPException):
            return False

    try:
        wait_until(up, 60)
    except BaseException:
        stop([process])
        raise
    return process


def wait_until(predicate: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``predicate`` held (polled every 5 ms); raise after ``timeout``."""
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("benchmark step did not finish in time")
        time.sleep(0.005)
    return time.perf_counter() - start


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, so the output pastes into bench/README.md as it is."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        lines.append("| " + " | ".join(f"{c:,.1f}" if isinstance(c, float) else str(c) for c in row) + " |")
    return "\n".join(lines) + "\n"
