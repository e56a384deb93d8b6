"""Which functions a worker runs, and registered tasks enqueued from plain RQ code.

Anyone who can write to Redis can put a job on a queue, and RQ's worker imports and calls whatever
function name the job carries (``Queue.enqueue("os.system", ...)``). A Taskyard worker runs a job only
when its function is

* a registered task, by its task name (``Queue("default").enqueue("system.echo", x=1)``) or by its
  import path (``jobs.builtin.system.echo``);
* the scheduler's runner (:data:`RUNNER`), which itself runs only registered tasks;
* under a module prefix listed in ``RQ_ALLOWED_FUNCTIONS`` (``myapp.jobs`` admits
  ``myapp.jobs.send`` and ``myapp.jobs.billing.charge``), for teams bringing plain RQ functions;
  ``*`` admits every function, as stock RQ does.

Success, failure and stopped callbacks are held to the same rule. Any other job fails at once with
:class:`FunctionRefused` (its reason names the function and the setting) before anything is imported;
it is not retried. The check runs inside RQ's own error path (``prepare_job_execution``), so a refused
or undeserializable job is recorded like any failure and the worker goes on.

A registered task enqueued from plain RQ code (no ``meta['task']``: not through our API) also gets the
task's policy where the caller set none: its timeout when the job carries RQ's default one, and its
retry policy when the job has no ``Retry``.

The arguments are unpickled before this check (RQ's default serializer is pickle, and unpickling can
import modules), so the allow-list is a second line: the first is that only the platform's processes
can write to Redis (a password, a private network).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rq import Queue
from rq.job import Job

from jobs.enqueue import retry_policy
from jobs.registry import TaskRegistry, TaskSpec, registry
from jobs.settings import Settings
from jobs.worker import rq_compat

RUNNER = "scheduler.runner.run_scheduled"  # the scheduler's runner (jobs/ may not import scheduler/)
ALLOW_ALL = "*"  # RQ_ALLOWED_FUNCTIONS value that admits every function, as stock RQ does


class FunctionRefused(Exception):
    """The worker will not import or run this job's function (see the module docstring)."""


@dataclass(frozen=True)
class FunctionPolicy:
    """The functions a worker admits: registered tasks, the scheduler's runner, allowed prefixes."""

    settings: Settings
    tasks: TaskRegistry = field(default=registry)
    _by_path: dict[str, TaskSpec] = field(default_factory=dict, compare=False, repr=False)
    _indexed: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)  # tasks indexed

    def spec_for(self, name: str) -> TaskSpec | None:
        """The registered task called ``name`` or imported as ``name``, if any."""
        if name in self.tasks:
            return self.tasks.get(name)
        if self._indexed[0] != len(self.tasks):  # tasks were registered since: index them again
            self._by_path.clear()
            self._by_path.update((spec.path, spec) for spec in self.tasks)
            self._indexed[0] = len(self.tasks)
        return self._by_path.get(name)

    def allows(self, name: str) -> bool:
        """Whether a function (or callback) imported as ``name`` may run."""
        if name == RUNNER or self.spec_for(name) is not None:
            return True
        prefixes = self.settings.worker.rq_allowed_functions
        return ALLOW_ALL in prefixes or any(name == p or name.startswith(p + ".") for p in prefixes)

    def admit(self, job: Job) -> None:
        """Raise :class:`FunctionRefused` unless the job's function and callbacks may run; point a job
        enqueued by task name at the task's handler. ``DeserializationError`` propagates."""
        name = str(job.func_name)
        if job.instance is not None:
            owner = type(job.instance)
            name = f"{owner.__module__}.{owner.__qualname__}.{name}"
        refused = [] if self.allows(name) else [name]
        refused += [c for c in rq_compat.callback_names(job) if not self.allows(c)]
        if refused:
            job.retries_left = None  # a refusal is final: retrying would refuse again
            raise FunctionRefused(
                f"the worker does not run {', '.join(refused)}: not a registered task, the scheduler's "
                f"runner, or under a module prefix in RQ_ALLOWED_FUNCTIONS"
            )
        spec = self.spec_for(name) if job.instance is None else None
        if spec is not None and name != spec.path:
            rq_compat.resolve_function_as(job, spec.path)

    def apply_task_defaults(self, job: Job) -> None:
        """Give a registered task enqueued from plain RQ code its timeout and retry policy where the
        caller set none. Never raises: a job whose data cannot be read is left to :meth:`admit`."""
        if job.meta.get("task"):
            return  # enqueued through our API (or already done): the policy is in the job
        try:
            spec = None if job.instance is not None else self.spec_for(str(job.func_name))
        except Exception:
            return
        if spec is None:
            return
        job.meta["task"] = spec.name
        if job.timeout is None or job.timeout == Queue.DEFAULT_TIMEOUT:
            job.timeout = spec.timeout or self.settings.worker.job_timeout
        if job.retries_left is None:
            retry = retry_policy(spec, self.settings).to_rq()
            if retry is not None:
                job.retries_left = retry.max
                job.retry_intervals = retry.intervals


class AdmissionMixin:
    """Mix into a worker class, before RQ's: the :class:`FunctionPolicy` check inside RQ's error path."""

    functions: FunctionPolicy

    def prepare_job_execution(self, job: Job, remove_from_intermediate_queue: bool = False) -> None:
        super().prepare_job_execution(job, remove_from_intermediate_queue)  # type: ignore[misc]
        self.functions.admit(job)

    def apply_task_defaults(self, job: Job) -> Any:
        self.functions.apply_task_defaults(job)
