"""Settings: the environment, read once into a frozen, typed object, grouped per area.

Every process (web, worker, scheduler, launcher) calls :func:`load_or_exit` at start and passes the
result down (``settings.redis.url``, ``settings.worker.concurrency``). Each area's module declares its
settings once (:mod:`jobs.settings.declare`); the loader, the error lines and ``docs/configuration.md``
(:mod:`jobs.settings_doc`) all come from those declarations. A bad value raises :class:`SettingsError`
naming the variable; entry points turn it into one line on stderr and exit code 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import cast

from jobs.durations import bare_number_warning
from jobs.settings.declare import Group, SettingsError, load_group
from jobs.settings.integrations import OAuthSettings, SmtpSettings
from jobs.settings.monitoring import AlertSettings, MonitoringSettings
from jobs.settings.process import ProcessSettings
from jobs.settings.redis import RedisSettings, parse_redis_url
from jobs.settings.scheduler import SchedulerSettings
from jobs.settings.web import AccessSettings, WebSettings
from jobs.settings.webhooks import BreakerSettings, WebhookSettings
from jobs.settings.worker import WorkerSettings

__all__ = ["GROUPS", "Settings", "SettingsError", "load_or_exit", "load_settings", "parse_redis_url"]

MILLISECOND_VARIABLES = ("JOB_RETRY_DELAY",)  # a bare number is milliseconds: warn when it looks like seconds


@dataclass(frozen=True)
class Settings:
    """Everything configurable, typed, one group per area. Build it with :func:`load_settings`."""

    redis: RedisSettings = field(default_factory=RedisSettings)
    process: ProcessSettings = field(default_factory=ProcessSettings)
    web: WebSettings = field(default_factory=WebSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)


# The groups, in the order of Settings' fields and of the reference's sections (docs/configuration.md).
GROUPS: tuple[type[Group], ...] = tuple(
    cast("type[Group]", each.default_factory) for each in fields(Settings)
)

_loaded: Settings | None = None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the environment (``os.environ`` by default) into :class:`Settings`.

    Raises :class:`SettingsError` on the first unusable value, naming the variable.
    """
    env = os.environ if environ is None else environ
    return Settings(
        redis=load_group(RedisSettings, env),
        process=load_group(ProcessSettings, env),
        web=load_group(WebSettings, env),
        access=load_group(AccessSettings, env),
        worker=load_group(WorkerSettings, env),
        scheduler=load_group(SchedulerSettings, env),
        webhooks=load_group(WebhookSettings, env),
        breaker=load_group(BreakerSettings, env),
        oauth=load_group(OAuthSettings, env),
        smtp=load_group(SmtpSettings, env),
        monitoring=load_group(MonitoringSettings, env),
        alerts=load_group(AlertSettings, env),
    )


def settings_warnings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One-line warnings about values that parse but are probably not what was meant."""
    env = os.environ if environ is None else environ
    found = (bare_number_warning(name, env.get(name)) for name in MILLISECOND_VARIABLES)
    return [warning for warning in found if warning]


def load_or_exit(environ: Mapping[str, str] | None = None) -> Settings:
    """:func:`load_settings` for entry points: a bad value prints one line and exits with status 2.

    Read from ``os.environ`` (no ``environ``), the result is also this process's settings
    (:func:`process_settings`), which code that cannot be handed them (job handlers) reads instead of
    the environment."""
    global _loaded
    try:
        settings = load_settings(environ)
    except SettingsError as error:
        print(f"taskyard: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    for warning in settings_warnings(environ):
        print(f"taskyard: configuration warning: {warning}", file=sys.stderr)
    if environ is None:
        _loaded = settings
    return settings


def process_settings() -> Settings:
    """The settings this process's entry point loaded; when no entry point ran :func:`load_or_exit`
    (tests, a worker started by RQ's CLI), the environment read now, once for the process."""
    return _loaded if _loaded is not None else load_or_exit()
