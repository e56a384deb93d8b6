"""The task registry: name -> handler, queue, timeout, retry policy, description.

Handlers are plain typed functions taking JSON-typed arguments. They are registered with
:func:`task` beside their code; the API enqueues only registered names, never an import path a
caller sends. The registry holds code, not connections, so filling it at import time is safe.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from jobs.retry import RetryPolicy

F = TypeVar("F", bound=Callable[..., Any])

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+$")
# built-in task modules; jobs.metrics and jobs.maintenance.alerts also subscribe to job hooks, which every worker needs
BUILTIN_MODULES = (
    "jobs.builtin.system",
    "jobs.builtin.webhooks",
    "jobs.builtin.oauth",
    "jobs.builtin.email",
    "jobs.builtin.maintenance",
    "jobs.metrics",
    "jobs.maintenance.alerts",
)


class UnknownTask(LookupError):
    """No task is registered under this name."""


class DuplicateTask(ValueError):
    """A second handler tried to register a name that is taken."""


@dataclass(frozen=True)
class TaskSpec:
    """One registered task. ``retry=None`` means the deployment default (JOB_MAX_RETRIES/DELAY);
    ``timeout=None`` means JOB_TIMEOUT."""

    name: str
    func: Callable[..., Any]
    queue: str = "default"
    timeout: int | None = None
    retry: RetryPolicy | None = None
    description: str = ""

    @property
    def path(self) -> str:
        """The dotted import path RQ stores and the worker imports."""
        return f"{self.func.__module__}.{self.func.__qualname__}"


@dataclass(frozen=True)
class DeclaredSchedule:
    """A schedule declared in code beside its handler (as NestJS's ``@Cron``/``@Interval``/``@Timeout`` do).

    ``schedule`` uses the scheduler's syntax: a 5-field cron, a 6-field cron with seconds first, a named
    constant such as ``EVERY_5_MINUTES``, ``@every 30s``, or ``@after 5s`` (once, that long after the
    scheduler starts). ``name`` is the stable id: the scheduler syncs declarations at start, so restarts
    never duplicate them and removed declarations disappear. ``SCHEDULE_<NAME>`` in the environment
    (name upper-cased, ``-`` and ``.`` as ``_``) overrides ``schedule``; the value ``off`` disables it.
    """

    name: str
    task: str
    schedule: str
    params: Mapping[str, Any] = field(default_factory=dict)
    timezone: str = "UTC"
    description: str = ""
    allow_overlap: bool = False
    max_interval: float | None = None  # seconds without a success before it counts as missed (the task's own)

    @property
    def override_variable(self) -> str:
        return "SCHEDULE_" + re.sub(r"[^A-Za-z0-9]", "_", self.name).upper()


class TaskRegistry:
    """Named tasks and their code-declared schedules. Registering a name twice raises
    :class:`DuplicateTask`."""

    def __init__(self) -> None:
        self._tasks: dict[str, TaskSpec] = {}
        self._schedules: dict[str, DeclaredSchedule] = {}
        self._aliases: dict[str, str] = {}

    def add(self, spec: TaskSpec) -> TaskSpec:
        if not NAME_PATTERN.match(spec.name):
            raise ValueError(f"task names are dotted lowercase words like 'system.echo', got {spec.name!r}")
        existing = self._tasks.get(spec.name)
        if existing is not None:
            raise DuplicateTask(f"task {spec.name!r} is already registered by {existing.path}")
        self._tasks[spec.name] = spec
        return spec

    def get(self, name: str) -> TaskSpec:
        try:
            return self._tasks[self._aliases.get(name, name)]
        except KeyError:
            raise UnknownTask(name) from None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._aliases.get(name, name) in self._tasks

    def alias(self, alias: str, name: str) -> None:
        """Let ``alias`` name the registered task ``name`` wherever a task name is looked up (the design
        notes' handler names, such as ``cleanup-logs``). An alias never shadows a task name."""
        if alias in self._tasks or self._aliases.get(alias, name) != name:
            raise DuplicateTask(f"{alias!r} already names a task")
        self._aliases[alias] = name

    def aliases(self) -> dict[str, str]:
        """Every alias and the task name it stands for."""
        return dict(self._aliases)

    def __iter__(self) -> Iterator[TaskSpec]:
        return iter(sorted(self._tasks.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._tasks)

    def declare(self, declared: DeclaredSchedule) -> DeclaredSchedule:
        """Add a code-declared schedule; its name must be unique."""
        if declared.name in self._schedules:
            raise DuplicateTask(f"schedule {declared.name!r} is already declared")
        self._schedules[declared.name] = declared
        return declared

    def declared_schedules(self) -> list[DeclaredSchedule]:
        """Every code-declared schedule, by name."""
        return sorted(self._schedules.values(), key=lambda d: d.name)

    def task(
        self,
        name: str,
        *,
        queue: str = "default",
        timeout: int | None = None,
        retry: RetryPolicy | None = None,
        description: str = "",
        schedule: str | None = None,
        params: Mapping[str, Any] | None = None,
        timezone: str = "UTC",
        allow_overlap: bool = False,
        max_interval: float | None = None,
    ) -> Callable[[F], F]:
        """Decorator: register the function under ``name`` and return it unchanged.

        With ``schedule`` it also declares a schedule named after the task that runs it with ``params``
        (see :class:`DeclaredSchedule`); declare more with :meth:`declare`.
        """

        def register(func: F) -> F:
            doc = (func.__doc__ or "").strip().splitlines()
            summary = description or (doc[0] if doc else "")
            self.add(TaskSpec(name, func, queue, timeout, retry, summary))
            if schedule is not None:
                self.declare(
                    DeclaredSchedule(
                        name,
                        name,
                        schedule,
                        dict(params or {}),
                        timezone,
                        summary,
                        allow_overlap,
                        max_interval,
                    )
                )
            return func

        return register


registry = TaskRegistry()
task = registry.task
declare = registry.declare


def load_tasks(extra_modules: tuple[str, ...] = ()) -> TaskRegistry:
    """Import the built-in task modules (and ``extra_modules``) so their decorators run; return the registry."""
    for module in (*BUILTIN_MODULES, *extra_modules):
        importlib.import_module(module)
    return registry
