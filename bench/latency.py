"""Enqueue→start latency and CPU per job: the Procfile's worker beside plain RQ's workers, same run.

Latency is RQ's own record of a job: ``started_at`` (written when the worker starts it) minus
``enqueued_at`` (written by ``Queue.enqueue``), both microsecond timestamps from this machine's clock.
Jobs are enqueued one at a time at a steady rate to idle workers, so the figure is what one job waits,
not a queue draining. CPU per job is the workers' CPU (every process of theirs, horses included) plus
redis-server's, over a drain of queued no-op jobs.
"""

from __future__ import annotations

import os
import time
from typing import Any

from redis import Redis
from rq import Queue
from rq.registry import FinishedJobRegistry
from rq.utils import utcparse
from rq.worker import Worker

from bench.common import percentile, spawn, stop, table, wait_until

NOOP = "jobs.builtin.system.noop"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def contenders(url: str) -> dict[str, tuple[list[list[str]], int]]:
    """Label → (commands to start, number of RQ workers they register)."""
    rq_worker = ["-m", "rq.cli", "worker", "-u", url, "-q"]
    return {
        "plain `rq worker` x2 (forking)": ([[*rq_worker, "default"]] * 2, 2),
        "plain `rq worker -w SimpleWorker` x2": (
            [[*rq_worker, "-w", "rq.worker.SimpleWorker", "default"]] * 2,
            2,
        ),
        "taskyard worker (Procfile: prefork, JOB_CONCURRENCY=2)": ([["-m", "jobs.worker"]], 2),
    }


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds used by ``root`` and every process below it, reaped children included."""
    stats: dict[int, tuple[int, float]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(name)] = (int(fields[1]), sum(int(f) for f in fields[11:15]) / CLOCK_TICKS)
    total, frontier = 0.0, [root]
    while frontier:
        pid = frontier.pop()
        total += stats.get(pid, (0, 0.0))[1]
        frontier.extend(child for child, (parent, _) in stats.items() if parent == pid)
    return total


def redis_cpu_seconds(connection: Redis) -> float:
    info = connection.info("cpu")
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


def _start(connection: Redis, url: str, commands: list[list[str]], workers: int) -> list[Any]:
    env = {"REDIS_URL": url, "JOB_CONCURRENCY": str(workers), "LOG_LEVEL": "WARNING", "QUEUES": "default"}
    processes = [spawn(cmd, env) for cmd in commands]
    wait_until(lambda: Worker.count(connection=connection) >= workers, 60)
    return processes


def _latencies(connection: Redis, queue: Queue, count: int, rate: float) -> list[float]:
    ids = []
    gap = 1.0 / rate
    next_at = time.perf_counter()
    for _ in range(count):
        ids.append(queue.enqueue(NOOP, result_ttl=600).id)
        next_at += gap
        time.sleep(max(0.0, next_at - time.perf_counter()))

    def all_done() -> bool:
        with connection.pipeline(transaction=False) as pipe:
            for job_id in ids:
                pipe.hget(f"rq:job:{job_id}", "status")
            return all(status == b"finished" for status in pipe.execute())

    wait_until(all_done, 120)
    with connection.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hmget(f"rq:job:{job_id}", "enqueued_at", "started_at")
        rows = pipe.execute()
    return [_ms(utcparse(s.decode()) - utcparse(e.decode())) for e, s in rows]


def _ms(delta: object) -> float:
    assert hasattr(delta, "total_seconds")
    return float(delta.total_seconds()) * 1000


def _drain_cpu(
    connection: Redis, queue: Queue, processes: list[Any], count: int
) -> tuple[float, float, float]:
    """Jobs/s, worker CPU ms/job and redis CPU ms/job draining ``count`` queued no-op jobs."""
    finished = FinishedJobRegistry(queue.name, connection=connection)
    done_before = finished.count
    cpu_before = sum(tree_cpu_seconds(p.pid) for p in processes)
    redis_before = redis_cpu_seconds(connection)
    with connection.pipeline() as pipe:
        for _ in range(count):
            queue.enqueue(NOOP, pipeline=pipe, result_ttl=600)
        pipe.execute()  # one transaction: workers see all jobs at once, timing starts now
    seconds = wait_until(lambda: finished.count >= done_before + count, 600)
    cpu = sum(tree_cpu_seconds(p.pid) for p in processes) - cpu_before
    redis_cpu = redis_cpu_seconds(connection) - redis_before
    return count / seconds, cpu / count * 1000, redis_cpu / count * 1000


def worker_figures(connection: Redis, url: str, count: int, latency_jobs: int = 300) -> str:
    """For each contender: drain rate, CPU per job, and enqueue→start latency at 50 and 400 jobs/s."""
    rows = []
    for label, (commands, workers) in contenders(url).items():
        connection.flushall()
        queue = Queue("default", connection=connection)
        processes = _start(connection, url, commands, workers)
        try:
            _latencies(connection, queue, 20, 100)  # warm up: imports, first connections
            rate, cpu, redis_cpu = _drain_cpu(connection, queue, processes, count)
            light = _latencies(connection, queue, latency_jobs, 50)
            busy = _latencies(connection, queue, latency_jobs, 400) if rate > 600 else []
            rows.append(
                (
                    label,
                    round(rate),
                    f"{cpu:.2f} + {redis_cpu:.2f}",
                    f"{percentile(light, 50):.2f} / {percentile(light, 99):.2f}",
                    f"{percentile(busy, 50):.2f} / {percentile(busy, 99):.2f}" if busy else "n/a (too slow)",
                )
            )
        finally:
            stop(processes)
    return table(
        f"Workers: no-op jobs ({count} drained; latency over {latency_jobs} jobs per rate)",
        ("workers", "jobs/s", "CPU ms/job (workers + redis)", "latency p50/p99 ms at 50/s", "at 400/s"),
        rows,
    )
