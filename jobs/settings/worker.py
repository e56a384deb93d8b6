"""Jobs and workers: the queues, task defaults, how long results stay, how work horses are recycled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from jobs.durations import parse_ms
from jobs.settings.declare import setting
from jobs.settings.readers import MILLISECONDS, dotted, names, number, whole


def _queue_name(name: str) -> bool:
    return name.replace("-", "").replace("_", "").isalnum()


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker listens on, the defaults of tasks that set none, and the work horses' limits.

    ``rq_allowed_functions`` and ``isolated_queues`` serve plain RQ code (docs/coming-from-rq.md)."""

    TITLE: ClassVar[str] = "Jobs and workers"

    queues: tuple[str, ...] = setting(
        "QUEUES",
        ("high", "default", "low"),
        names(_queue_name, "queue names are letters, digits, - and _", empty="name at least one queue"),
        "queues a worker listens on, in priority order",
    )
    concurrency: int = setting(
        "JOB_CONCURRENCY",
        2,
        whole(minimum=1),
        "jobs one worker process runs at once (one per core on a 2-core dyno)",
    )
    job_timeout: int = setting(
        "JOB_TIMEOUT",
        180,
        whole(minimum=1),
        "seconds a job may run before the worker kills it, for tasks that set no timeout",
    )
    max_retries: int = setting(
        "JOB_MAX_RETRIES", 3, whole(), "retries after the first attempt for tasks that don't set their own"
    )
    retry_delay: float = setting(
        "JOB_RETRY_DELAY",
        parse_ms("60s") / 1000,
        MILLISECONDS,
        "wait before a retry, for tasks without their own; a bare number is ms",
        shown="60s",
    )
    result_ttl: int = setting(
        "RESULT_TTL", 7 * 24 * 3600, whole(minimum=1), "seconds finished job results are kept"
    )
    failure_ttl: int = setting(
        "FAILURE_TTL",
        30 * 24 * 3600,
        whole(minimum=1),
        "seconds failed jobs are kept (the dead-letter window)",
    )
    abandon_after: int = setting(
        "JOB_ABANDON_AFTER",
        10,
        whole(minimum=2),
        "seconds without a heartbeat after which a started job is retried/failed",
    )
    shutdown_grace: float = setting(
        "WORKER_SHUTDOWN_GRACE",
        25.0,
        number(minimum=0),
        "seconds a running job gets after SIGTERM before it is handed back",
    )
    recycle_jobs: int = setting(
        "WORKER_RECYCLE_JOBS", 1000, whole(), "jobs one work horse runs before it is replaced (0 = never)"
    )
    recycle_rss_mb: int = setting(
        "WORKER_RECYCLE_RSS_MB", 512, whole(minimum=16), "a work horse above this RSS after a job is replaced"
    )
    memory_limit_mb: int = setting(
        "JOB_MEMORY_LIMIT_MB",
        2048,
        whole(),
        "MB of private memory (heap, not mapped files) a job may add to its work horse (beyond: "
        "MemoryError); 0 = no cap",
    )
    rq_allowed_functions: tuple[str, ...] = setting(
        "RQ_ALLOWED_FUNCTIONS",
        (),
        names(lambda name: name == "*" or dotted(name), "expected dotted module names or *"),
        "module prefixes of plain RQ functions the worker runs (`*`: any)",
    )
    isolated_queues: tuple[str, ...] = setting(
        "WORKER_ISOLATED_QUEUES",
        (),
        names(),
        "queues whose jobs each run in a fresh work horse, as RQ's fork per job",
    )
