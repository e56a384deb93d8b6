"""Moving due jobs out of RQ's ``ScheduledJobRegistry`` of every queue, on their millisecond due time.

This is RQ's own ``RQScheduler.enqueue_scheduled_jobs`` (the same ``Queue._enqueue_job`` and
``registry.remove`` for a queue's due jobs together, rate-limited jobs through RQ's rate limiter) with
three changes. A job is due by :func:`jobs.delayed.due_at` (its millisecond score, or the end of a
whole-second score written by plain RQ) compared with the current time in milliseconds, instead of
RQ's whole-second comparison that releases jobs up to a second early. The queues are every queue RQ
knows (``rq:queues``, which ``schedule_job`` always adds to), not only those in ``QUEUES``, so a delayed
job on another queue is not stranded. And the move is a transaction that cannot push a job another
mover took first (:func:`move_ids`).

Only the scheduler leader calls :func:`move_due` (``scheduler/engine.py``), so one process moves at a
time. Our workers run without RQ's scheduler (``with_scheduler=False``); a stock ``rq worker
--with-scheduler`` started beside them would run RQ's, so the leader also holds RQ's own per-queue
scheduler locks (:class:`QueueLocks`, RQ's owner-checked lock scripts) and moves a queue only while it
holds that queue's lock: RQ's scheduler then finds them taken and stands by instead of moving the same
jobs a second time.
"""

from __future__ import annotations

import math
from typing import Any

from redis import Redis, WatchError
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from rq.utils import as_text

from jobs.delayed import due_at
from jobs.worker.rq_compat import ACQUIRE_OR_REFRESH_LOCK_SCRIPT, release_lock

CHUNK = 1000  # jobs moved per queue per pass (RQ's own chunk size)


def queue_names(connection: Redis) -> list[str]:
    """Every queue RQ has registered (``rq:queues``), sorted."""
    prefix = Queue.redis_queue_namespace_prefix
    return sorted(as_text(key).removeprefix(prefix) for key in connection.smembers(Queue.redis_queues_keys))


def scored(pairs: Any) -> list[tuple[str, float]]:
    """A ZRANGE ... WITHSCORES reply as (member, score) pairs (redis-py's reply is loosely typed)."""
    return [(as_text(member), float(score)) for member, score in pairs]


def _due_ids(connection: Redis, registry: ScheduledJobRegistry, now: float) -> list[str]:
    # ``now`` is the highest score that can be due (a fractional score at ``now``); whole scores also
    # need their second to be over.
    pairs = connection.zrangebyscore(registry.key, 0, now, start=0, num=CHUNK, withscores=True)
    return [job_id for job_id, score in scored(pairs) if due_at(score) <= now]


def move_due(connection: Redis, now: float, names: list[str] | None = None) -> int:
    """Enqueue every delayed job due at ``now`` (epoch seconds) on its queue; returns how many moved."""
    moved = 0
    for name in names if names is not None else queue_names(connection):
        job_ids = _due_ids(connection, ScheduledJobRegistry(name, connection=connection), now)
        if job_ids:
            moved += move_ids(connection, name, job_ids)
    return moved


def move_ids(connection: Redis, name: str, job_ids: list[str]) -> int:
    """Enqueue these delayed jobs of queue ``name``, found due; returns how many moved.

    One transaction WATCHing the jobs' hashes: a job another mover took first (a paused ex-leader
    resuming, RQ's own scheduler) is either gone from the registry when we look, or its hash changes
    before we commit and the transaction aborts (the rest is retried next pass). So no job is pushed
    twice, which RQ's own ``enqueue_scheduled_jobs`` leaves to its locks.
    """
    registry = ScheduledJobRegistry(name, connection=connection)
    queue = Queue(name, connection=connection)
    with connection.pipeline() as pipe:
        try:
            pipe.watch(*(Job.key_for(job_id) for job_id in job_ids))
            scores = pipe.zmscore(registry.key, job_ids)
            job_ids = [job_id for job_id, score in zip(job_ids, scores, strict=True) if score is not None]
            jobs = Job.fetch_many(job_ids, connection=connection) if job_ids else []
            present = [job for job in jobs if job is not None]
            pipe.multi()
            for job in present:
                if not job.has_rate_limit:
                    queue._enqueue_job(job, pipeline=pipe, at_front=job.should_enqueue_at_front())
                    registry.remove(job.id, pipeline=pipe)
            for job_id, found in zip(job_ids, jobs, strict=True):
                if found is None:
                    registry.remove(job_id, pipeline=pipe)
            pipe.execute()
        except WatchError:
            return 0
    moved = sum(1 for job in present if not job.has_rate_limit)
    for job in present:
        # RQ's rate limiter takes round trips of its own, outside any transaction: claim the job first
        # (only one ZREM removes it), so a crash in between loses that move rather than doubling it.
        if job.has_rate_limit and connection.zrem(registry.key, job.id):
            queue._enqueue_rate_limited_job(job, at_front=job.should_enqueue_at_front())
            moved += 1
    return moved


def next_due(connection: Redis, names: list[str]) -> float | None:
    """The soonest due time (epoch seconds) among the delayed jobs of ``names``, or None."""
    with connection.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.zrange(ScheduledJobRegistry(name, connection=connection).key, 0, 0, withscores=True)
        firsts = pipe.execute()
    dues = [due_at(first[0][1]) for first in firsts if first]
    return min(dues) if dues else None


class QueueLocks:
    """RQ's per-queue scheduler locks (``rq:scheduler-lock:<queue>``), held by ``owner`` while it leads."""

    def __init__(self, connection: Redis, owner: str, ttl: float) -> None:
        self.connection = connection
        self.owner = owner
        self.ttl = max(1, math.ceil(ttl))  # RQ's script takes whole seconds
        self.held: set[str] = set()
        self._script = connection.register_script(ACQUIRE_OR_REFRESH_LOCK_SCRIPT)

    def hold(self, names: list[str]) -> list[str]:
        """Acquire or refresh the lock of each queue (one round trip); the names we now hold."""
        with self.connection.pipeline(transaction=False) as pipe:
            for name in names:
                self._script(
                    keys=[RQScheduler.get_locking_key(name)], args=[self.owner, self.ttl], client=pipe
                )
            outcomes = pipe.execute()
        self.held = {name for name, outcome in zip(names, outcomes, strict=True) if outcome}
        return [name for name in names if name in self.held]

    def release(self) -> None:
        """Give up the locks we hold (only ours: RQ's release script checks the owner)."""
        for name in self.held:
            release_lock(self.connection, RQScheduler.get_locking_key(name), self.owner)
        self.held = set()
