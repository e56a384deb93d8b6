"""What every process shares: logging, the task modules it loads, when a silent process counts as gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from jobs.settings.declare import setting
from jobs.settings.readers import choice, dotted, names, whole

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class ProcessSettings:
    """Settings every process (web, worker, scheduler) reads the same way."""

    TITLE: ClassVar[str] = "The processes"

    log_level: str = setting(
        "LOG_LEVEL",
        "INFO",
        choice(LOG_LEVELS, upper=True, problem=f"expected one of {', '.join(LOG_LEVELS)}"),
        "logging level for every process",
    )
    log_format: str = setting(
        "LOG_FORMAT",
        "text",
        choice(("text", "json"), upper=False, problem="expected text or json"),
        '"text" or "json" log lines (one JSON object per line)',
    )
    task_modules: tuple[str, ...] = setting(
        "TASK_MODULES",
        (),
        names(dotted, "expected dotted module names"),
        "extra modules whose @task handlers every process loads",
    )
    heartbeat_stale: int = setting(
        "HEARTBEAT_STALE",
        30,
        whole(minimum=1),
        "seconds after which a silent worker or scheduler counts as gone",
    )
