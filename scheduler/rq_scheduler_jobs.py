"""rq-scheduler's job store, served by our scheduler process: code written for ``rqscheduler`` keeps working.

rq-scheduler clients (``Scheduler.enqueue_at/enqueue_in``, ``schedule(interval=, repeat=)``,
``cron(...)``) save an RQ job with status ``scheduled`` and add its id to the sorted set
``rq:scheduler:scheduled_jobs``, scored by its due time in whole seconds. The data format stays
rq-scheduler's: its key and lock names come from ``rq_scheduler.Scheduler``, the queue a job goes to
from ``Scheduler.get_queue_for_job``, and ``repeat``/``interval``/``cron_string`` in ``job.meta`` mean what
``Scheduler.enqueue_job`` makes them mean (``tests/unit/test_rq_scheduler_format.py`` checks our moves
against rq-scheduler's own). What differs is when and how safely a job moves:

- **Never early.** rq-scheduler truncates a due time to its whole second and fires once the current
  whole second reaches it, up to a second early. A one-shot or interval entry here is due at the *end*
  of its second (score + 1); a cron entry at its score, which is exact (cron occurrences are whole
  seconds). Interval entries are rescheduled from their previous due time, not from the moment they
  were moved, so they do not drift; missed occurrences after downtime are coalesced into one run.
- **Never twice.** Each move is one Redis transaction that WATCHes the job's hash, re-checks the entry's
  score, then enqueues the job and removes or reschedules the entry together: a concurrent mover (an
  ``rqscheduler`` beside ours, or a paused ex-leader) makes it abort instead of doubling. An occurrence
  whose previous run is still queued or running is skipped (enqueueing the same job id again would run
  it twice), and the entry is rescheduled.
- **One mover.** Only our leader moves, and while it leads it holds rq-scheduler's own lock
  (``rq:scheduler_lock``), so an ``rqscheduler`` process started beside ours finds it taken and skips its
  runs. We cannot rely on that lock alone: ``rqscheduler`` deletes it without checking who owns it, so a
  pass of its that outlives the lock's TTL deletes ours. That is why the lock is only a courtesy to
  ``rqscheduler`` and each move is still a transaction; our own renewals and releases check the owner
  (:class:`scheduler.leader.Lease`). If our leader dies, the lock lapses within the lease and the next
  leader (ours, or an ``rqscheduler``) takes over.
"""

from __future__ import annotations

import calendar
import logging
import math
from collections import Counter
from datetime import UTC, datetime

import crontab
import dateutil.tz
from redis import Redis, WatchError
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from rq.utils import as_text
from rq_scheduler import Scheduler

from scheduler.delayed_jobs import scored
from scheduler.leader import Lease

log = logging.getLogger("taskyard.scheduler")

SCHEDULED_JOBS = Scheduler.scheduled_jobs_key  # zset: job id -> due time (whole epoch seconds)
LOCK = Scheduler.scheduler_lock_key  # rq-scheduler's SET NX EX lock, honoured by rqscheduler
CHUNK = 1000  # entries examined per pass
BUSY = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED}  # the previous run has not ended


def due_time(job: Job, score: float) -> float:
    """When an entry is due (epoch seconds): a cron entry at its score, any other at the end of its
    whole second (rq-scheduler truncated the real due time into that second)."""
    return score if job.meta.get("cron_string") else math.floor(score) + 1.0


def next_cron(cron_string: str, now: float) -> int:
    """rq-scheduler's ``get_next_scheduled_time`` as a score, with ``now`` as a parameter: the ``crontab``
    expression is read in the process's local time, as rq-scheduler does."""
    local_now = datetime.fromtimestamp(now)  # naive local time, like rq-scheduler's datetime.now()
    following = crontab.CronTab(cron_string).next(now=local_now, return_datetime=True, default_utc=False)
    return calendar.timegm(following.astimezone(dateutil.tz.UTC).utctimetuple())


def next_score(job: Job, score: float, now: float) -> float | None:
    """The entry's score after this occurrence, or None when it is done (one-shot, repeats used up)."""
    interval = job.meta.get("interval")
    cron_string = job.meta.get("cron_string")
    repeat = job.meta.get("repeat")
    if not interval and not cron_string:
        return None
    if repeat is not None and int(repeat) == 0:
        return None
    if interval:
        # Due at score + 1; the next occurrence is `interval` after that, skipping those already past.
        missed = max(0, math.floor((now - 1 - score) / int(interval)))
        return score + (missed + 1) * int(interval)
    following = next_cron(str(cron_string), max(now, score))
    return following if following > score else next_cron(str(cron_string), score + 1)


class RqSchedulerJobs:
    """Moves due rq-scheduler entries for the scheduler leader named ``name``."""

    def __init__(self, connection: Redis, name: str, lock_ttl: float) -> None:
        self.connection = connection
        self.client = Scheduler(connection=connection, name=name)
        self.lock = Lease(connection, LOCK, name, lock_ttl)
        self._lock_refused = False
        self._unreadable: set[str] = set()
        self._not_due: dict[str, float] = {}  # entries read and found due only at the end of their second

    def move_due(self, now: float) -> int:
        """Move every entry due at ``now``; returns how many jobs were enqueued. Leader only."""
        held = self.lock.hold()
        if held == self._lock_refused:
            self._lock_refused = not held
            log.info(
                "rq-scheduler's lock %s",
                "is free again" if held else "is held by another process (rqscheduler?)",
            )
        if not held:
            return 0
        pairs = self.connection.zrangebyscore(SCHEDULED_JOBS, 0, now, start=0, num=CHUNK, withscores=True)
        moved = 0
        for job_id, score in scored(pairs):
            if self._not_due.get(job_id) == score and score + 1 > now:
                continue  # seen this pass or an earlier one: a one-shot or interval entry due at score + 1
            moved += self._move(job_id, score, now)
        self._not_due = {job_id: score for job_id, score in self._not_due.items() if score + 1 > now}
        return moved

    def release(self) -> None:
        """Give rq-scheduler's lock up if we hold it (shutdown)."""
        self.lock.release()

    def next_due(self) -> float | None:
        """The earliest moment an entry can be due (its score: a cron entry is due then), or None."""
        first = self.connection.zrange(SCHEDULED_JOBS, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def _move(self, job_id: str, score: float, now: float) -> bool:
        """One entry in one transaction; True if its job was enqueued."""
        with self.connection.pipeline() as pipe:
            try:
                pipe.watch(Job.key_for(job_id))
                if pipe.zscore(SCHEDULED_JOBS, job_id) != score:
                    return False  # moved, rescheduled or canceled meanwhile
                try:
                    job = Job.fetch(job_id, connection=self.connection)
                except NoSuchJobError:
                    pipe.multi()
                    pipe.zrem(SCHEDULED_JOBS, job_id)  # as rq-scheduler's get_jobs does
                    pipe.execute()
                    return False
                except RedisError:
                    raise  # the engine's loop backs off and retries
                except Exception as error:  # e.g. saved with another serializer
                    if job_id not in self._unreadable:
                        self._unreadable.add(job_id)
                        log.error("rq-scheduler job %s cannot be read (%s); left in place", job_id, error)
                    return False
                if due_time(job, score) > now:
                    self._not_due[job_id] = score
                    return False
                return self._enqueue(pipe, job, score, now)
            except WatchError:
                return False  # someone changed the job: look again next pass

    def _busy(self, job: Job) -> bool:
        """The job's previous run has not ended: queued, running, deferred, or waiting for a retry."""
        status = job.get_status(refresh=False)
        if status in BUSY:
            return True
        retry_key = ScheduledJobRegistry(job.origin, connection=self.connection).key
        return status == JobStatus.SCHEDULED and self.connection.zscore(retry_key, job.id) is not None

    def _enqueue(self, pipe: Pipeline, job: Job, score: float, now: float) -> bool:
        busy = self._busy(job)
        repeat = job.meta.get("repeat")
        if repeat and not busy:  # rq-scheduler's Scheduler.enqueue_job: each run uses one repeat
            job.meta["repeat"] = int(repeat) - 1
        following = next_score(job, score, now)
        if busy:
            status = job.get_status(refresh=False)
            log.warning("rq-scheduler job %s: previous run still %s; occurrence skipped", job.id, status)
        queue = self.client.get_queue_for_job(job)
        at_front = bool(job.enqueue_at_front)
        atomic = not busy and not job._dependency_ids and not job.has_rate_limit
        pipe.multi()
        if atomic:
            queue.enqueue_job(job, pipeline=pipe, at_front=at_front)
        if following is None:
            pipe.zrem(SCHEDULED_JOBS, job.id)
        else:
            pipe.zadd(SCHEDULED_JOBS, {job.id: following})
        pipe.execute()
        if not busy and not atomic:
            # RQ resolves dependencies and rate limits with WATCHes of its own, which cannot run inside
            # our transaction: the entry is claimed first, so a crash here loses this run, never doubles it.
            if repeat:
                job.save_meta()
            queue.enqueue_job(job, at_front=at_front)
        return not busy


def recurring(job: Job) -> bool:
    """Whether the job is an rq-scheduler interval or cron job (it returns to the store after each run)."""
    return bool(job.meta.get("interval") or job.meta.get("cron_string"))


def count_by_queue(connection: Redis) -> Counter[str]:
    """rq-scheduler entries per queue (the job's ``origin``): one ZRANGE and one pipelined HGET each."""
    ids = [job_id for job_id, _ in scored(connection.zrange(SCHEDULED_JOBS, 0, -1, withscores=True))]
    with connection.pipeline(transaction=False) as pipe:
        for job_id in ids:
            pipe.hget(Job.key_for(job_id), "origin")
        origins = pipe.execute()
    return Counter(as_text(origin) for origin in origins if origin is not None)


def due_for(connection: Redis, job: Job) -> datetime | None:
    """When the job's rq-scheduler entry is due, or None when it has none."""
    score = connection.zscore(SCHEDULED_JOBS, job.id)
    return None if score is None else datetime.fromtimestamp(due_time(job, score), UTC)
