"""The scheduler: whether scheduled tasks fire, its pace and leadership, and per-schedule overrides."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import ClassVar

from jobs.settings.declare import Environment, Reader, Setting, setting
from jobs.settings.readers import FLAG, number, whole

SCHEDULE_PREFIX = "SCHEDULE_"  # SCHEDULE_<NAME> overrides the declared schedule <NAME> (- and . as _)
RETRY_SWEEP_OVERRIDE = "SCHEDULE_WEBHOOKS_RETRY_SWEEP"

RETRY_INTERVAL_MINUTES = Setting(
    "WEBHOOK_RETRY_INTERVAL_MINUTES",
    5,
    whole(minimum=1),
    f"minutes between sweeps for stranded webhook retries (when {RETRY_SWEEP_OVERRIDE} is unset)",
)


def _overrides(
    variable: str, raw: str | None, default: Mapping[str, str], env: Environment
) -> Mapping[str, str]:
    """SCHEDULE_<NAME> variables, plus the webhook retry sweep's interval from
    WEBHOOK_RETRY_INTERVAL_MINUTES when that is set and SCHEDULE_WEBHOOKS_RETRY_SWEEP is not."""
    overrides = {k: v.strip() for k, v in env.items() if k.startswith(SCHEDULE_PREFIX) and v.strip()}
    minutes = RETRY_INTERVAL_MINUTES.load(env)
    if (env.get(RETRY_INTERVAL_MINUTES.variable) or "").strip():
        every = f"0 */{minutes} * * * *" if minutes < 60 and 60 % minutes == 0 else f"@every {minutes}m"
        overrides.setdefault(RETRY_SWEEP_OVERRIDE, every)
    return MappingProxyType(overrides)


@dataclass(frozen=True)
class SchedulerSettings:
    """The scheduler process (scheduler/engine.py) and the schedules it fires."""

    TITLE: ClassVar[str] = "The scheduler"

    enabled: bool = setting(
        "ENABLE_TASK_SCHEDULING",
        True,
        FLAG,
        "false: scheduled tasks stop firing (delayed jobs, retries still move)",
    )
    tick: float = setting(
        "SCHEDULER_TICK",
        0.05,
        number(minimum=0.001),
        "seconds between scheduler passes when nothing is due sooner",
    )
    lease: float = setting(
        "SCHEDULER_LEASE",
        5.0,
        number(minimum=0.5),
        "seconds the scheduler leader's lease lasts unrenewed; then a standby leads",
    )
    missed_grace: float = setting(
        "MISSED_SCHEDULE_GRACE",
        60.0,
        number(minimum=0),
        "seconds a recurring task may overrun its period before it counts as missed",
    )
    overrides: Mapping[str, str] = setting(
        SCHEDULE_PREFIX + "<NAME>",
        MappingProxyType({}),
        Reader("a schedule expression, or `off`", _overrides),
        "<expression> or off: overrides declared schedule <NAME> (- and . as _)",
        inputs=(RETRY_INTERVAL_MINUTES,),
    )
