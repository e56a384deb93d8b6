"""A handler's reported failure: ``{"success": False, "error": ...}`` counts as a failed attempt.

Handlers written the way the design note for scheduled tasks shows them catch their own errors and
return ``{"success": false, "error": error.message}`` instead of throwing. Raising stays the idiomatic
way in Python, but a registered task that *returns* a mapping whose ``success`` is exactly ``False`` is
treated like one that raised :class:`HandlerReportedFailure`: the attempt fails, RQ's ``Retry`` applies,
the last attempt ends in RQ's FailedJobRegistry (and, for scheduled tasks, the dead-letter list), and
the execution history says ``failed`` with the handler's ``error`` text. Any other return value,
including ``{"success": True}`` or a mapping without ``success``, is a success.

Only registered tasks (jobs whose ``meta`` names a ``task``) are judged: a plain RQ job that a team
already has keeps RQ's meaning, where any return is a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rq.job import Job

ERROR_CHARS = 500  # longest handler error text carried into the exception


class HandlerReportedFailure(Exception):
    """The handler returned ``{"success": False, ...}``; the message is its ``error`` (or ``message``)."""


def reported_failure(result: Any) -> HandlerReportedFailure | None:
    """The failure ``result`` reports, or None when it is a success."""
    if not isinstance(result, Mapping) or result.get("success") is not False:
        return None
    reason = result.get("error") or result.get("message") or "the handler returned success: false"
    return HandlerReportedFailure(str(reason)[:ERROR_CHARS])


def raise_if_failed(result: Any) -> Any:
    """Return ``result`` unchanged, or raise the failure it reports."""
    failure = reported_failure(result)
    if failure is not None:
        raise failure
    return result


class ReportedFailureMixin:
    """Worker mixin: a registered task's ``{"success": False}`` result fails the attempt.

    It overrides :meth:`jobs.worker.rq_compat.WorkerInternals.check_return_value`, which RQ's
    ``perform_job`` reaches inside its ``try``, so raising here takes RQ's own failure path (exception
    handlers, ``Retry``, FailedJobRegistry) exactly as if the handler had raised.
    """

    def check_return_value(self, job: Job, return_value: Any) -> None:
        if job.meta.get("task"):
            raise_if_failed(return_value)
        super().check_return_value(job, return_value)  # type: ignore[misc]
