"""Where a job listing reads jobs: one *source* per (queue, status), read by position, newest first.

RQ keeps ``queued`` jobs in the queue's list and every other status in a sorted set (a registry); a
source remembers the position of the last job taken from it, so a listing resumes where its cursor
left it without scanning. The positions and why they stay valid while jobs are written are in
:mod:`web.read_model.job_search`'s docstring.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import (
    BaseRegistry,
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)
from rq.utils import as_text

BATCH = 100  # candidates read from one source at a time
TIE_LIMIT = 10_000  # registry members sharing one whole-second score, read to resume after a lost cursor
REGISTRIES: dict[str, type[BaseRegistry]] = {
    "started": StartedJobRegistry,
    "scheduled": ScheduledJobRegistry,
    "deferred": DeferredJobRegistry,
    "finished": FinishedJobRegistry,
    "failed": FailedJobRegistry,
    "canceled": CanceledJobRegistry,
}

Rows = list[tuple[bytes, float]]


@dataclass
class Candidate:
    job: Job | None  # None: listed by RQ but expired or deleted since; skipped, but moved past
    position: list[Any]
    time: float


@dataclass
class Source:
    """One (queue, status): where its jobs are and how far this listing has read it."""

    queue: str
    status: str
    store: str | None = None  # another sorted set of scheduled jobs, of every queue (rq-scheduler's)
    position: list[Any] | None = None  # the last job taken; None: not started
    done: bool = False  # nothing after the buffer
    batch: int = BATCH  # how many to read next time (grows while this source keeps winning)
    buffer: list[Candidate] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.queue}:{self.status}"

    def key(self, connection: Redis) -> str:
        if self.store is not None:
            return self.store
        if self.status == "queued":
            return Queue(self.queue, connection=connection).key
        return REGISTRIES[self.status](self.queue, connection=connection).key

    def read(self, connection: Redis, after: list[Any] | None, count: int) -> list[tuple[list[Any], str]]:
        """The next ``count`` (position, job id) pairs after ``after``, newest first."""
        if self.status == "queued":
            return _read_list(connection, self.key(connection), after, count)
        return _read_registry(connection, self.key(connection), after, count)


def _job_id(member: Any) -> str:
    """A registry member is a job id, or ``job_id:execution_id`` in the started registry (RQ 2+)."""
    return as_text(member).split(":", 1)[0]


def _read_registry(
    connection: Redis, key: str, after: list[Any] | None, count: int
) -> list[tuple[list[Any], str]]:
    rows: list[tuple[bytes, float]]
    if after is None:
        rows = cast(Rows, connection.zrevrange(key, 0, count - 1, withscores=True))
    else:
        score, member = float(after[0]), str(after[1])
        with connection.pipeline() as pipe:
            pipe.zscore(key, member)
            pipe.zrevrank(key, member)
            now_score, rank = pipe.execute()
        if now_score is not None and float(now_score) == score and rank is not None:
            rows = cast(Rows, connection.zrevrange(key, rank + 1, rank + count, withscores=True))
        else:  # the cursor's job left the registry: resume by score, then member, as ZSET orders them
            same = cast(Rows, connection.zrangebyscore(key, score, score, 0, TIE_LIMIT, withscores=True))
            ties = [(m, s) for m, s in same if as_text(m) < member]
            ties.reverse()
            lower = cast(
                Rows, connection.zrevrangebyscore(key, f"({score}", "-inf", 0, count, withscores=True)
            )
            rows = (ties + lower)[:count]
    return [([float(s), as_text(m)], _job_id(m)) for m, s in rows]


def _read_list(
    connection: Redis, key: str, after: list[Any] | None, count: int
) -> list[tuple[list[Any], str]]:
    """A queue list read from its tail (newest first); positions are indexes from the tail.

    Workers pop the head, so a job's index from the tail changes only when jobs are pushed behind it;
    the cursor's job is found again at or after its old index. A cursor job no longer queued was
    popped, and so were all older jobs (FIFO): the source is done.
    """
    start = 0
    if after is not None:
        index, job_id = int(after[0]), str(after[1])
        if as_text(connection.lindex(key, -(index + 1)) or b"") != job_id:
            found = connection.lpos(key, job_id, rank=-1)
            if found is None:
                return []
            index = int(connection.llen(key)) - 1 - int(found)  # type: ignore[arg-type]
        start = index + 1
    # LRANGE with negative indexes: the tail slice, oldest to newest; reversed for newest first.
    ids = connection.lrange(key, -(start + count), -(start + 1))
    ids.reverse()
    return [([start + i, as_text(j)], as_text(j)) for i, j in enumerate(ids)]
