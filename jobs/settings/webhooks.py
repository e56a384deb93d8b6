"""Outbound calls: webhook deliveries, their retries and limits, and the per-host circuit breakers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from jobs.settings.declare import Environment, Reader, Setting, setting
from jobs.settings.readers import FLAG, SECONDS_LIST, number, whole

ENABLE_RETRIES = Setting(
    "ENABLE_WEBHOOK_RETRIES", True, FLAG, "false: a failed webhook delivery is not retried (failed at once)"
)


def _retry_schedule(
    variable: str, raw: str | None, default: tuple[float, ...], env: Environment
) -> tuple[float, ...]:
    """ENABLE_WEBHOOK_RETRIES=false, or an empty (but set) WEBHOOK_RETRY_SCHEDULE: no retries at all."""
    if not ENABLE_RETRIES.load(env):
        return ()
    if raw is not None and not raw.strip():
        return ()
    return SECONDS_LIST.parse(variable, raw, default, env)


@dataclass(frozen=True)
class WebhookSettings:
    """Webhook deliveries (jobs/webhooks/)."""

    TITLE: ClassVar[str] = "Webhooks"

    retry_schedule: tuple[float, ...] = setting(
        "WEBHOOK_RETRY_SCHEDULE",
        (60.0, 300.0, 900.0, 3600.0, 21600.0),
        Reader(SECONDS_LIST.accepts, _retry_schedule),
        "seconds before each retry; empty: none",
        inputs=(ENABLE_RETRIES,),
    )
    cleanup_retention_days: int = setting(
        "WEBHOOK_CLEANUP_RETENTION_DAYS",
        30,
        whole(minimum=1),
        "days of finished webhook deliveries and their attempt logs kept",
    )
    timeout: float = setting(
        "WEBHOOK_TIMEOUT", 10.0, number(minimum=0.1), "seconds one webhook POST may take (connect + read)"
    )
    rate_per_second: int = setting(
        "WEBHOOK_RATE_PER_SECOND", 10, whole(), "deliveries per second per endpoint; 0 = unlimited"
    )
    allow_private_targets: bool = setting(
        "WEBHOOK_ALLOW_PRIVATE_TARGETS",
        False,
        FLAG,
        "true: outbound URLs may be private, loopback, link-local",
    )


@dataclass(frozen=True)
class BreakerSettings:
    """The circuit breaker every outbound call to a host goes through (jobs/resilience/)."""

    TITLE: ClassVar[str] = "Circuit breakers"

    failure_threshold: int = setting(
        "BREAKER_FAILURE_THRESHOLD",
        5,
        whole(minimum=1),
        "consecutive failures that open a host's circuit breaker",
    )
    recovery_timeout: float = setting(
        "BREAKER_RECOVERY_TIMEOUT",
        60.0,
        number(minimum=0.1),
        "seconds an open breaker waits before letting trial calls through",
    )
    success_threshold: int = setting(
        "BREAKER_SUCCESS_THRESHOLD",
        3,
        whole(minimum=1),
        "successes in half-open that close the breaker again",
    )
