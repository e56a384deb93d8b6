"""The flat attribute names of the settings (``settings.redis_url``), each a view of its group's field.

Transitional: code still reads settings by the flat names while callers move to the grouped ones
(``settings.redis.url``); this module goes when no caller is left. Nothing is declared here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Flat(Generic[T]):
    """``settings.<flat>`` as ``settings.<group>.<name>``."""

    def __init__(self, group: str, name: str) -> None:
        self.group, self.name = group, name

    def __get__(self, settings: Any, owner: type | None = None) -> T:
        value: T = getattr(getattr(settings, self.group), self.name)
        return value


class FlatNames:
    """The flat names, read-only."""

    redis_url = _Flat[str]("redis", "url")
    log_level = _Flat[str]("process", "log_level")
    log_format = _Flat[str]("process", "log_format")
    task_modules = _Flat[tuple[str, ...]]("process", "task_modules")
    heartbeat_stale = _Flat[int]("process", "heartbeat_stale")
    port = _Flat[int]("web", "port")
    web_concurrency = _Flat[int]("web", "concurrency")
    max_body_bytes = _Flat[int]("web", "max_body_bytes")
    idempotency_ttl = _Flat[int]("web", "idempotency_ttl")
    trusted_proxies = _Flat[int]("web", "trusted_proxies")
    admin_token = _Flat[str | None]("access", "admin_token")
    secret_key = _Flat[str | None]("access", "secret_key")
    session_lifetime = _Flat[int]("access", "session_lifetime")
    admin_paths_admin_only = _Flat[bool]("access", "admin_paths_admin_only")
    encryption_key = _Flat[str | None]("access", "encryption_key")
    queues = _Flat[tuple[str, ...]]("worker", "queues")
    job_concurrency = _Flat[int]("worker", "concurrency")
    job_timeout = _Flat[int]("worker", "job_timeout")
    job_max_retries = _Flat[int]("worker", "max_retries")
    job_retry_delay = _Flat[float]("worker", "retry_delay")
    result_ttl = _Flat[int]("worker", "result_ttl")
    failure_ttl = _Flat[int]("worker", "failure_ttl")
    job_abandon_after = _Flat[int]("worker", "abandon_after")
    worker_shutdown_grace = _Flat[float]("worker", "shutdown_grace")
    worker_recycle_jobs = _Flat[int]("worker", "recycle_jobs")
    worker_recycle_rss_mb = _Flat[int]("worker", "recycle_rss_mb")
    job_memory_limit_mb = _Flat[int]("worker", "memory_limit_mb")
    rq_allowed_functions = _Flat[tuple[str, ...]]("worker", "rq_allowed_functions")
    worker_isolated_queues = _Flat[tuple[str, ...]]("worker", "isolated_queues")
    enable_task_scheduling = _Flat[bool]("scheduler", "enabled")
    scheduler_tick = _Flat[float]("scheduler", "tick")
    scheduler_lease = _Flat[float]("scheduler", "lease")
    missed_grace = _Flat[float]("scheduler", "missed_grace")
    schedule_overrides = _Flat[Mapping[str, str]]("scheduler", "overrides")
    webhook_retry_schedule = _Flat[tuple[float, ...]]("webhooks", "retry_schedule")
    webhook_cleanup_retention_days = _Flat[int]("webhooks", "cleanup_retention_days")
    webhook_timeout = _Flat[float]("webhooks", "timeout")
    webhook_rate_per_second = _Flat[int]("webhooks", "rate_per_second")
    webhook_allow_private_targets = _Flat[bool]("webhooks", "allow_private_targets")
    breaker_failure_threshold = _Flat[int]("breaker", "failure_threshold")
    breaker_recovery_timeout = _Flat[float]("breaker", "recovery_timeout")
    breaker_success_threshold = _Flat[int]("breaker", "success_threshold")
    oauth_refresh_lead = _Flat[int]("oauth", "refresh_lead")
    oauth_health_interval = _Flat[int]("oauth", "health_interval")
    oauth_timeout = _Flat[float]("oauth", "timeout")
    smtp_host = _Flat[str]("smtp", "host")
    smtp_port = _Flat[int]("smtp", "port")
    smtp_username = _Flat[str | None]("smtp", "username")
    smtp_password = _Flat[str | None]("smtp", "password")
    smtp_from = _Flat[str]("smtp", "sender")
    smtp_starttls = _Flat[bool]("smtp", "starttls")
    smtp_ssl = _Flat[bool]("smtp", "ssl")
    smtp_timeout = _Flat[float]("smtp", "timeout")
    metrics_token = _Flat[str | None]("monitoring", "metrics_token")
    metrics_allow_ips = _Flat[tuple[str, ...]]("monitoring", "metrics_allow_ips")
    health_samples = _Flat[int]("monitoring", "health_samples")
    alert_webhook_url = _Flat[str | None]("alerts", "webhook_url")
    alert_email_to = _Flat[tuple[str, ...]]("alerts", "email_to")
    alert_failure_threshold = _Flat[int]("alerts", "failure_threshold")
    alert_window = _Flat[int]("alerts", "window")
