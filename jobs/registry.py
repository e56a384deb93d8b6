"""The task registry: name -> handler, queue, timeout, retry policy, description.

Handlers are plain typed functions taking JSON-typed arguments. They are registered with
:func:`task` beside their code; the API enqueues only registered names, never an import path a
caller sends. The registry holds code, not connections, so filling it at import time is safe.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from jobs.retry import RetryPolicy

F = TypeVar("F", bound=Callable[..., Any])

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_-]*)+$")
BUILTIN_MODULES = ("jobs.builtin.system",)


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


class TaskRegistry:
    """Named tasks. Registering a name twice raises :class:`DuplicateTask`."""

    def __init__(self) -> None:
        self._tasks: dict[str, TaskSpec] = {}

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
            return self._tasks[name]
        except KeyError:
            raise UnknownTask(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    def __iter__(self) -> Iterator[TaskSpec]:
        return iter(sorted(self._tasks.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._tasks)

    def task(
        self,
        name: str,
        *,
        queue: str = "default",
        timeout: int | None = None,
        retry: RetryPolicy | None = None,
        description: str = "",
    ) -> Callable[[F], F]:
        """Decorator: register the function under ``name`` and return it unchanged."""

        def register(func: F) -> F:
            doc = (func.__doc__ or "").strip().splitlines()
            self.add(TaskSpec(name, func, queue, timeout, retry, description or (doc[0] if doc else "")))
            return func

        return register


registry = TaskRegistry()
task = registry.task


def load_tasks(extra_modules: tuple[str, ...] = ()) -> TaskRegistry:
    """Import the built-in task modules (and ``extra_modules``) so their decorators run; return the registry."""
    for module in (*BUILTIN_MODULES, *extra_modules):
        importlib.import_module(module)
    return registry
