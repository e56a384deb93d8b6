"""What the worker records about a failure beyond RQ's own result.

RQ keeps the traceback of a job's final failure in its Result, but an attempt that will be retried
stores a ``RETRIED`` result without the error. :func:`record_error` is an RQ exception handler (it runs
for every failed attempt) that keeps the last error's one-line summary in ``job.meta['last_error']``,
so the API can say why a job is waiting to retry.
"""

from __future__ import annotations

import traceback
from types import TracebackType

from rq.job import Job

SUMMARY_CHARS = 500  # longest error summary kept


def summarize(exc_type: type[BaseException], exc_value: BaseException) -> str:
    """``ValueError: boom`` for an exception: its type and message, on one line."""
    line = traceback.format_exception_only(exc_type, exc_value)[-1].strip()
    return line[:SUMMARY_CHARS]


def record_error(
    job: Job, exc_type: type[BaseException], exc_value: BaseException, tb: TracebackType | None
) -> bool:
    """RQ exception handler: store the summary and attempt count, then let RQ's handlers go on."""
    job.meta["last_error"] = summarize(exc_type, exc_value)
    job.save_meta()
    return True


EXCEPTION_HANDLERS = [record_error]
