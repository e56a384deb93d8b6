"""What the worker records about a failure beyond RQ's own result.

RQ keeps the traceback of a job's final failure in its Result, but an attempt that will be retried
stores a ``RETRIED`` result without the error. :func:`record_error` is an RQ exception handler (it runs
for every failed attempt) that keeps the last error's one-line summary in ``job.meta['last_error']``,
so the API can say why a job is waiting to retry.

Other processes may write ``job.meta`` while the job runs (progress, a client's notes). The summary is
merged into the meta stored in Redis (a WATCH transaction), and the job's in-memory meta becomes that
merged dict, so RQ's own saves after this point (a retry re-saves the job) keep those writes too. A
stored meta this process cannot deserialize is left untouched (RQ keeps its bytes), without a summary.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType
from typing import Any

from redis.exceptions import WatchError
from rq.job import Job

log = logging.getLogger("taskyard.worker")

SUMMARY_CHARS = 500  # longest error summary kept
MERGE_ATTEMPTS = 5  # WATCH retries before the summary is written over a meta that keeps changing


def summarize(exc_type: type[BaseException], exc_value: BaseException) -> str:
    """``ValueError: boom`` for an exception: its type and message, on one line."""
    line = traceback.format_exception_only(exc_type, exc_value)[-1].strip()
    return line[:SUMMARY_CHARS]


def merge_meta(job: Job, updates: dict[str, Any]) -> None:
    """Write ``updates`` into the job's stored meta without losing keys another process wrote, and make
    ``job.meta`` the merged result."""
    with job.connection.pipeline() as pipe:
        for _ in range(MERGE_ATTEMPTS):
            try:
                pipe.watch(job.key)
                raw = pipe.hget(job.key, "meta")
                try:
                    stored = job.serializer.loads(raw) if raw else {}  # type: ignore[arg-type]
                except Exception:  # unreadable here (a class only its client has): leave it as it is
                    pipe.reset()
                    log.warning(
                        "job %s: its meta cannot be read here; not adding %s", job.id, ", ".join(updates)
                    )
                    return
                merged = {**job.meta, **(stored if isinstance(stored, dict) else {}), **updates}
                pipe.multi()
                pipe.hset(job.key, "meta", job.serializer.dumps(merged))
                pipe.execute()
                job.meta = merged
                return
            except WatchError:
                continue
    log.warning("job %s: its meta kept changing; writing %s over it", job.id, ", ".join(updates))
    job.meta.update(updates)
    job.save_meta()


def record_error(
    job: Job, exc_type: type[BaseException], exc_value: BaseException, tb: TracebackType | None
) -> bool:
    """RQ exception handler: store the summary, then let RQ's handlers go on."""
    merge_meta(job, {"last_error": summarize(exc_type, exc_value)})
    return True


EXCEPTION_HANDLERS = [record_error]
