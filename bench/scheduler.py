"""Scheduler precision and scale: Taskyard's scheduler beside plain rq-scheduler, in the same run.

Lateness is measured from what each scheduler leaves in Redis: an RQ job's ``enqueued_at`` (microsecond
precision) minus the time it was due. Negative lateness is an early fire. No worker runs, so the
measurement is the scheduler's alone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from redis import Redis
from rq.job import Job
from rq_scheduler import Scheduler

from bench.common import percentile, spawn, stop, table, wait_until
from jobs.registry import load_tasks
from jobs.settings import load_settings
from scheduler.engine import Engine
from scheduler.store import TaskStore
from scheduler.tasks import Definition

NOOP = "jobs.builtin.system.noop"


def _lateness(connection: Redis, due_of: Callable[[Job], float]) -> list[float]:
    """Milliseconds between due time and enqueue for every job in the default queue."""
    ids = [i.decode() for i in connection.lrange("rq:queue:default", 0, -1)]
    found = []
    for job in Job.fetch_many(ids, connection=connection):
        if job is not None and job.enqueued_at is not None:
            enqueued = job.enqueued_at.replace(tzinfo=UTC).timestamp()
            found.append((enqueued - due_of(job)) * 1000)
    return found


def _row(label: str, expected: int, samples: list[float]) -> tuple[object, ...]:
    early = sum(1 for s in samples if s < 0)
    return (label, f"{len(samples)}/{expected}", percentile(samples, 50), percentile(samples, 99),
            max(samples, default=float("nan")), min(samples, default=float("nan")), early)  # fmt: skip


def _ours_due(job: Job) -> float:
    return int(job.id.rsplit("-", 1)[1]) / 1000  # sched-<task>-<occurrence ms>


def one_shot_lateness(connection: Redis, url: str, count: int = 1000, spread: float = 20.0) -> str:
    """``count`` one-time jobs due at random moments over ``spread`` seconds."""
    rows = []
    start = time.time() + 3
    due_times = [start + random.random() * spread for _ in range(count)]
    load_tasks()
    # Taskyard: one-time scheduled tasks, fired by the scheduler process with default settings
    connection.flushall()
    store = TaskStore(connection)
    now = datetime.now(UTC)
    for i, due in enumerate(due_times):
        at = datetime.fromtimestamp(due, UTC).isoformat()
        store.create(Definition(f"shot-{i}", "system.noop", at, recurring=False), now)
    process = spawn(["-m", "scheduler"], {"REDIS_URL": url, "LOG_LEVEL": "WARNING"})
    try:
        wait_until(lambda: connection.llen("rq:queue:default") >= count, spread + 30)
    finally:
        stop([process])
    rows.append(_row("taskyard scheduler (defaults)", count, _lateness(connection, _ours_due)))
    # rq-scheduler at its default interval (60 s) and at --interval 1
    for label, interval in (("rq-scheduler --interval 1", "1"), ("rq-scheduler (default 60 s)", "60")):
        connection.flushall()
        scheduler = Scheduler(queue_name="default", connection=connection)
        base = time.time() + 3
        for due in due_times:
            scheduler.enqueue_at(
                datetime.fromtimestamp(base + (due - start), UTC), NOOP, meta={"due": base + (due - start)}
            )
        process = spawn(
            ["-m", "rq_scheduler.scripts.rqscheduler", "--url", url, "--interval", interval, "--quiet"], {}
        )
        try:
            wait_until(lambda: connection.llen("rq:queue:default") >= count, spread + 75)
        except TimeoutError:
            pass
        finally:
            stop([process])
        rows.append(_row(label, count, _lateness(connection, lambda job: float(job.meta["due"]))))
    header = ("scheduler", "fired", "p50 ms", "p99 ms", "max ms", "min ms", "early fires")
    return table(f"Lateness: {count} one-shot jobs spread over {spread:.0f} s", header, rows)


def every_second_lateness(connection: Redis, url: str, tasks: int = 100, seconds: float = 10.0) -> str:
    """``tasks`` tasks firing every second for ``seconds`` seconds."""
    rows = []
    connection.flushall()
    store = TaskStore(connection)
    now = datetime.now(UTC)
    for i in range(tasks):
        store.create(Definition(f"cron-{i}", "system.noop", "* * * * * *", allow_overlap=True), now)
    process = spawn(["-m", "scheduler"], {"REDIS_URL": url, "LOG_LEVEL": "WARNING"})
    time.sleep(seconds)
    stop([process])
    # the process runs for `seconds` plus its start-up, so 10 or 11 whole seconds fall in the window
    rows.append(_row("taskyard `* * * * * *`", int(tasks * seconds), _lateness(connection, _ours_due)))
    # rq-scheduler has no per-second cron (its cron is minute-grained) and re-uses one job id per
    # repeating job, so the same load is given as one-shot jobs: `tasks` jobs due at every whole second.
    connection.flushall()
    scheduler = Scheduler(queue_name="default", connection=connection)
    first = int(time.time()) + 2
    for second in range(int(seconds)):
        for _ in range(tasks):
            due = first + second
            scheduler.enqueue_at(datetime.fromtimestamp(due, UTC), NOOP, meta={"due": due})
    process = spawn(
        ["-m", "rq_scheduler.scripts.rqscheduler", "--url", url, "--interval", "1", "--quiet"], {}
    )
    try:
        wait_until(lambda: connection.llen("rq:queue:default") >= tasks * int(seconds), seconds + 10)
    except TimeoutError:
        pass
    finally:
        stop([process])
    samples = _lateness(connection, lambda job: float(job.meta["due"]))
    rows.append(_row("rq-scheduler --interval 1 (same load as one-shots)", int(tasks * seconds), samples))
    header = ("scheduler", "fired", "p50 ms", "p99 ms", "max ms", "min ms", "early fires")
    return table(f"Lateness: {tasks} tasks every second for {seconds:.0f} s", header, rows)


def scale(connection: Redis, url: str, count: int = 10_000) -> str:
    """Creating ``count`` tasks, listing them, and what a scheduler pass costs with them stored."""
    connection.flushall()
    load_tasks()
    store = TaskStore(connection)
    now = datetime.now(UTC)
    started = time.perf_counter()
    for i in range(count):
        store.create(Definition(f"task-{i:05d}", "system.noop", "0 3 * * *", params={"i": i}), now)
    create_s = time.perf_counter() - started
    memory = connection.info("memory")["used_memory"]

    def timed(call: Callable[[], object], repeat: int = 20) -> float:
        samples = []
        for _ in range(repeat):
            t = time.perf_counter()
            call()
            samples.append((time.perf_counter() - t) * 1000)
        return percentile(samples, 50)

    settings = load_settings({"REDIS_URL": url})
    engine = Engine(connection, settings, name="bench")
    engine.tick()
    idle_pass = timed(engine.tick)
    due_at = now - timedelta(seconds=1)
    ids = [t.id for t in store.page(1, 100)[0]]
    for task_id in ids:
        store.plan(task_id, due_at)
    t = time.perf_counter()
    fired = engine.fire_due()
    busy_pass = (time.perf_counter() - t) * 1000
    rows = [
        ("create one task", f"{create_s / count * 1000:.3f} ms"),
        ("Redis memory per task", f"{memory / count:,.0f} B (incl. indexes)"),
        ("list page 1 (20 tasks), unfiltered", f"{timed(lambda: store.page(1, 20)):.2f} ms"),
        ("list page 400 (20 tasks), unfiltered", f"{timed(lambda: store.page(400, 20)):.2f} ms"),
        (
            "list filtered by name (reads all)",
            f"{timed(lambda: store.page(1, 20, name='task-0999'), 5):.1f} ms",
        ),
        ("scheduler pass, nothing due", f"{idle_pass:.2f} ms"),
        (
            f"scheduler pass firing {fired} due tasks",
            f"{busy_pass:.1f} ms ({busy_pass / max(fired, 1):.2f} ms each)",
        ),
    ]
    return table(f"Scale: {count:,} scheduled tasks", ("measure", "value"), rows)
