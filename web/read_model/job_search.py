"""Listing and searching jobs: the part of the read model behind ``GET /api/v1/jobs`` and the jobs page.

Where jobs are found: RQ keeps every job it knows in one place per (queue, status) — the queue's list
for ``queued`` and a sorted set (a *registry*) for every other status. A listing never scans all jobs:
each (queue, status) is a *source* read by position, a page at a time, and the sources are merged
newest first (by the job's own time for that status: enqueued, started, ended or scheduled).
rq-scheduler clients' jobs wait in rq-scheduler's own sorted set, shared by every queue: it is one more
``scheduled`` source, whose jobs are kept when their ``origin`` is one of the listed queues.

Cursors: the cursor is, for every source, the position of the last job taken from it — a
``(score, member)`` pair in a registry, ``(index from the tail, job id)`` in a queue list. Both stay valid
while jobs are written: new jobs sort before the cursor (a later page never repeats a job because
something was enqueued meanwhile), a job leaving a registry does not shift the ones after it, and a
worker popping the head of a queue list does not move the tail indexes. (RQ scores registries in
whole seconds and orders equal scores by job id, so a job added within the same second as the
cursor's job can still sort after it and show up on a later page.) A job that changes status
between two pages moves to another source and can show up on both pages or on neither: the listing
is a view of a moving system, not a snapshot.

Filters: ``queue`` and ``status`` choose the sources. ``task``, ``scheduled_task``, ``id_prefix`` and the
time ranges are checked on each candidate job, and a request looks at no more than
:data:`SCAN_LIMIT` candidates: a selective filter can answer a short (even empty) page with a
``next_cursor`` to carry on from. That bound is what keeps one request cheap at millions of jobs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from redis import Redis
from rq.job import Job

from scheduler.rq_scheduler_jobs import SCHEDULED_JOBS
from web.read_model.job_sources import BATCH, Candidate, Source
from web.read_model.times import aware

STATUSES = ("queued", "started", "scheduled", "deferred", "finished", "failed", "canceled")
MAX_LIMIT = 100  # jobs per page at most
SCAN_LIMIT = 2000  # candidate jobs one request reads at most (filters that are not a source)


class InvalidCursor(ValueError):
    """The cursor was not made by this listing, or was made for other filters."""


# The filters a person or a script names (the query/body fields of the job list, its page and the bulk
# actions); ``status`` and ``queue`` become JobFilter's ``statuses``/``queues``.
FILTER_FIELDS = (
    "status",
    "queue",
    "task",
    "scheduled_task",
    "id_prefix",
    "enqueued_after",
    "enqueued_before",
    "ended_after",
    "ended_before",
)


@dataclass(frozen=True)
class JobFilter:
    """What to list. ``statuses``/``queues`` empty means all of them. Times are timezone-aware."""

    queues: tuple[str, ...]
    statuses: tuple[str, ...] = ()
    task: str | None = None
    scheduled_task: str | None = None
    id_prefix: str | None = None
    enqueued_after: datetime | None = None
    enqueued_before: datetime | None = None
    ended_after: datetime | None = None
    ended_before: datetime | None = None

    def fingerprint(self) -> str:
        """A short hash of the filters, kept in the cursor so it is not reused with other filters."""
        raw = json.dumps([str(v) for v in self.__dict__.values()])
        return hashlib.sha256(raw.encode()).hexdigest()[:12]

    def matches(self, job: Job) -> bool:
        if self.id_prefix and not job.id.startswith(self.id_prefix):
            return False
        if self.task is not None and (job.meta.get("task") or job.func_name) != self.task:
            return False
        if self.scheduled_task is not None and job.meta.get("scheduled_task") != self.scheduled_task:
            return False
        if not _within(aware(job.enqueued_at), self.enqueued_after, self.enqueued_before):
            return False
        return _within(aware(job.ended_at), self.ended_after, self.ended_before)

    @property
    def post_filtered(self) -> bool:
        return any(
            v is not None and v != ""
            for v in (
                self.task,
                self.scheduled_task,
                self.id_prefix,
                self.enqueued_after,
                self.enqueued_before,
                self.ended_after,
                self.ended_before,
            )
        )


def _within(value: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    if after is None and before is None:
        return True
    if value is None:
        return False
    return (after is None or value >= after) and (before is None or value < before)


def sort_time(job: Job, status: str, position: list[Any]) -> float:
    """The time a job is listed by: when it reached the status it is listed under."""
    if status == "scheduled":
        return float(position[0])
    moment = {
        "queued": job.enqueued_at,
        "deferred": job.enqueued_at or job.created_at,
        "started": job.started_at,
    }.get(status, job.ended_at)
    moment = moment or job.enqueued_at or job.created_at
    return aware(moment).timestamp() if moment else 0.0  # type: ignore[union-attr]


def encode_cursor(sources: Iterable[Source], fingerprint: str) -> str:
    state = {s.name: ("end" if s.done else s.position) for s in sources if s.done or s.position}
    raw = json.dumps({"f": fingerprint, "s": state}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        state = data["s"]
        if not isinstance(state, dict) or data.get("f") != fingerprint:
            raise InvalidCursor("the cursor belongs to another listing (other filters)")
        for position in state.values():
            if position != "end" and not (isinstance(position, list) and len(position) == 2):
                raise InvalidCursor("malformed cursor")
            if position != "end":
                float(position[0])
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError, AttributeError) as error:
        if isinstance(error, InvalidCursor):
            raise
        raise InvalidCursor("malformed cursor") from None
    return state


@dataclass(frozen=True)
class JobPage:
    jobs: list[tuple[Job, str]]  # (job, the status it was listed under)
    next_cursor: str | None
    examined: int  # candidate jobs looked at (at most SCAN_LIMIT)


def search(connection: Redis, flt: JobFilter, limit: int, cursor: str | None = None) -> JobPage:
    """One page of jobs matching ``flt``, newest first, and the cursor of the next page (None: no more).

    Raises :class:`InvalidCursor` for a cursor not made by this function with the same filters.
    """
    limit = max(1, min(limit, MAX_LIMIT))
    fingerprint = flt.fingerprint()
    state = decode_cursor(cursor, fingerprint) if cursor else {}
    sources = [Source(q, s) for q in flt.queues for s in (flt.statuses or STATUSES)]
    if "scheduled" in (flt.statuses or STATUSES):  # rq-scheduler clients' jobs, waiting in its store
        sources.append(Source("rq-scheduler", "scheduled", store=SCHEDULED_JOBS))
    for source in sources:
        saved = state.get(source.name)
        source.done = saved == "end"
        source.position = saved if isinstance(saved, list) else None
    first_batch = BATCH if flt.post_filtered else max(4, limit // len(sources) + 2)
    for source in sources:
        source.batch = first_batch
    taken: list[tuple[Job, str]] = []
    examined = 0
    while len(taken) < limit and examined < SCAN_LIMIT:
        for source in sources:
            if not source.buffer and not source.done:
                _refill(connection, source)
        live = [s for s in sources if s.buffer]
        if not live:
            break
        best = max(live, key=lambda s: (s.buffer[0].time, s.name))
        candidate = best.buffer.pop(0)
        best.position = candidate.position
        if candidate.job is None:
            continue
        examined += 1
        if flt.matches(candidate.job) and (best.store is None or candidate.job.origin in flt.queues):
            taken.append((candidate.job, best.status))
    for source in sources:  # positions are those of the last job taken; the rest is read again
        if source.buffer:
            source.done = False
            source.buffer = []
    more = any(not s.done for s in sources)
    return JobPage(taken, encode_cursor(sources, fingerprint) if more else None, examined)


def _refill(connection: Redis, source: Source) -> None:
    """Read the source's next jobs into its buffer (a batch that doubles each time, up to BATCH)."""
    count = source.batch
    source.batch = min(BATCH, count * 2)
    rows = source.read(connection, source.position, count)
    if len(rows) < count:
        source.done = True
    if not rows:
        return
    jobs = Job.fetch_many([job_id for _, job_id in rows], connection=connection)
    time = float("inf")  # a missing job first in the batch is passed over at once
    for (position, _), job in zip(rows, jobs, strict=True):
        if job is not None:
            time = sort_time(job, source.status, position)
        source.buffer.append(Candidate(job, position, time))
