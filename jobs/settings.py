"""Settings: the environment, read once into a frozen, typed object.

Every process (web, worker, scheduler, launcher) calls :func:`load_settings` at start and passes the
result down. A bad value raises :class:`SettingsError` naming the variable; entry points turn it into
one line on stderr and exit code 2 (see :func:`load_or_exit`).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from jobs.durations import bare_number_warning, parse_ms
from jobs.redis_env import RedisEnvError
from jobs.redis_env import redis_url as redis_url_from_env

# Every setting's default, in one place with one comment each. docs/configuration.md is generated from
# this block (`make docs`, jobs/settings_doc.py): the comment after a constant is the setting's
# documentation, a "# --- <title> ---" line starts a section, and every variable the loader reads needs a
# DEFAULT_<VARIABLE> constant here (or a DEFAULT_* passed to its reader) or the suite fails.

# --- Redis and the processes ---
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"  # redis://, rediss:// (TLS), unix:// or redis+sentinel:// URL
DEFAULT_REDIS_HOST: str | None = None  # with REDIS_URL unset: host of redis://HOST:PORT/0 (127.0.0.1)
DEFAULT_REDIS_PORT: str | None = None  # with REDIS_URL unset: its port (6379); set both: they must agree
DEFAULT_REDIS_PASSWORD: str | None = None  # with REDIS_URL unset: its password; set both: they must agree
DEFAULT_REDIS_TLS_VERIFY = True  # false: accept a rediss:// server's self-signed certificate (Heroku Redis)
DEFAULT_PORT = 5000  # the web process's port (Heroku sets PORT)
DEFAULT_WEB_CONCURRENCY = 2  # gunicorn worker processes for the web process
DEFAULT_LOG_LEVEL = "INFO"  # logging level for every process: DEBUG, INFO, WARNING, ERROR or CRITICAL
DEFAULT_LOG_FORMAT = "text"  # "text" or "json" log lines (one JSON object per line)
DEFAULT_TASK_MODULES: tuple[str, ...] = ()  # extra modules whose @task handlers every process loads
DEFAULT_HEARTBEAT_STALE = 30  # seconds after which a silent worker or scheduler counts as gone

# --- Access: tokens, sessions, the API ---
DEFAULT_ADMIN_TOKEN: str | None = None  # bootstrap admin bearer token (16+ characters); make run makes one
DEFAULT_SECRET_KEY: str | None = None  # signs browser sessions, derives ENCRYPTION_KEY; make run makes one
DEFAULT_SESSION_LIFETIME = 8 * 3600  # seconds a browser login lasts
DEFAULT_TRUSTED_PROXIES = 0  # proxies in front of web whose X-Forwarded-For is trusted (Heroku: 1)
DEFAULT_ADMIN_PATHS_ADMIN_ONLY = False  # true: all of /admin/ (scheduled tasks, rq-dashboard) is admin-only
DEFAULT_MAX_BODY_BYTES = 1_048_576  # largest request body the API accepts (413 above)
DEFAULT_IDEMPOTENCY_TTL = 24 * 3600  # seconds an Idempotency-Key's first response is replayed

# --- Jobs and workers ---
DEFAULT_QUEUES = ("high", "default", "low")  # queues a worker listens on, in priority order
DEFAULT_JOB_CONCURRENCY = 2  # jobs one worker process runs at once (one per core on a 2-core dyno)
DEFAULT_JOB_TIMEOUT = 180  # seconds a job may run before the worker kills it, for tasks that set no timeout
DEFAULT_JOB_MAX_RETRIES = 3  # retries after the first attempt for tasks that don't set their own
DEFAULT_JOB_RETRY_DELAY = "60s"  # wait before a retry, for tasks without their own; a bare number is ms
DEFAULT_RESULT_TTL = 7 * 24 * 3600  # seconds finished job results are kept
DEFAULT_FAILURE_TTL = 30 * 24 * 3600  # seconds failed jobs are kept (the dead-letter window)
DEFAULT_JOB_ABANDON_AFTER = 10  # seconds without a heartbeat after which a started job is retried/failed
DEFAULT_WORKER_SHUTDOWN_GRACE = 25.0  # seconds a running job gets after SIGTERM before it is handed back
DEFAULT_WORKER_RECYCLE_JOBS = 1000  # jobs one work horse runs before it is replaced (0 = never)
DEFAULT_WORKER_RECYCLE_RSS_MB = 512  # a work horse above this RSS after a job is replaced
DEFAULT_JOB_MEMORY_LIMIT_MB = 2048  # MB of private memory (heap, not mapped files) a job may add to its work horse (beyond: MemoryError); 0 = no cap

# --- The scheduler ---
DEFAULT_ENABLE_TASK_SCHEDULING = True  # false: scheduled tasks stop firing (delayed jobs, retries still move)
DEFAULT_SCHEDULER_TICK = 0.05  # seconds between scheduler passes when nothing is due sooner
DEFAULT_SCHEDULER_LEASE = 5.0  # seconds the scheduler leader's lease lasts unrenewed; then a standby leads
DEFAULT_MISSED_GRACE = 60.0  # seconds a recurring task may overrun its period before it counts as missed
SCHEDULE_PREFIX = "SCHEDULE_"  # <expression> or off: overrides declared schedule <NAME> (- and . as _)

# --- Webhooks, outbound calls and secrets ---
DEFAULT_WEBHOOK_RETRY_SCHEDULE = (
    60.0,
    300.0,
    900.0,
    3600.0,
    21600.0,
)  # seconds before each retry; empty: none
DEFAULT_ENABLE_WEBHOOK_RETRIES = True  # false: a failed webhook delivery is not retried (failed at once)
DEFAULT_WEBHOOK_RETRY_INTERVAL_MINUTES = 5  # minutes between sweeps for stranded webhook retries
DEFAULT_WEBHOOK_CLEANUP_RETENTION_DAYS = 30  # days of finished webhook deliveries and their attempt logs kept
DEFAULT_WEBHOOK_TIMEOUT = 10.0  # seconds one webhook POST may take (connect + read)
DEFAULT_WEBHOOK_RATE_PER_SECOND = 10  # deliveries per second per endpoint; 0 = unlimited
DEFAULT_WEBHOOK_ALLOW_PRIVATE_TARGETS = False  # true: outbound URLs may be private, loopback, link-local
DEFAULT_ENCRYPTION_KEY: str | None = None  # Fernet keys, first encrypts, all decrypt; unset: from SECRET_KEY
DEFAULT_BREAKER_FAILURE_THRESHOLD = 5  # consecutive failures that open a host's circuit breaker
DEFAULT_BREAKER_RECOVERY_TIMEOUT = 60.0  # seconds an open breaker waits before letting trial calls through
DEFAULT_BREAKER_SUCCESS_THRESHOLD = 3  # successes in half-open that close the breaker again

# --- OAuth integrations ---
DEFAULT_OAUTH_REFRESH_LEAD = 300  # seconds before token expiry that the refresh job runs
DEFAULT_OAUTH_HEALTH_INTERVAL = 4 * 3600  # seconds between health checks of one integration
DEFAULT_OAUTH_TIMEOUT = 10.0  # seconds a call to a provider's token endpoint may take

# --- Email ---
DEFAULT_SMTP_HOST = "localhost"  # SMTP relay for email.send
DEFAULT_SMTP_PORT = 25  # its port
DEFAULT_SMTP_USERNAME: str | None = None  # SMTP login, when the relay needs one
DEFAULT_SMTP_PASSWORD: str | None = None  # its password
DEFAULT_SMTP_FROM = "taskyard@localhost"  # From: of every email Taskyard sends
DEFAULT_SMTP_STARTTLS = False  # upgrade the SMTP connection with STARTTLS
DEFAULT_SMTP_SSL = False  # connect with implicit TLS (SMTPS, usually port 465)
DEFAULT_SMTP_TIMEOUT = 10.0  # seconds an SMTP conversation may take

# --- Monitoring and alerts ---
DEFAULT_METRICS_TOKEN: str | None = None  # an extra bearer token (16+ characters) that reads /metrics only
DEFAULT_METRICS_ALLOW_IPS: tuple[str, ...] = ()  # clients that may read /metrics without a token
DEFAULT_HEALTH_SAMPLES = 2016  # health-metric samples kept (a week at one per 5 minutes)
DEFAULT_ALERT_WEBHOOK_URL: str | None = None  # Slack-compatible incoming webhook that receives alerts
DEFAULT_ALERT_EMAIL_TO: tuple[str, ...] = ()  # addresses alerts are emailed to (through email.send)
DEFAULT_ALERT_FAILURE_THRESHOLD = 10  # failures of one task within ALERT_WINDOW that raise an alert
DEFAULT_ALERT_WINDOW = 300  # seconds of an alert window; each alert fires at most once per window
# --- Plain RQ code in the worker (docs/coming-from-rq.md) ---
DEFAULT_RQ_ALLOWED_FUNCTIONS: tuple[
    str, ...
] = ()  # module prefixes of plain RQ functions the worker runs (`*`: any)
DEFAULT_WORKER_ISOLATED_QUEUES: tuple[
    str, ...
] = ()  # queues whose jobs each run in a fresh work horse, as RQ's fork per job


class SettingsError(ValueError):
    """A variable of the environment has a value we cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


@dataclass(frozen=True)
class Settings:
    """Everything configurable, typed. Build it with :func:`load_settings`, not by hand in code."""

    redis_url: str = DEFAULT_REDIS_URL
    port: int = DEFAULT_PORT
    admin_token: str | None = DEFAULT_ADMIN_TOKEN
    secret_key: str | None = DEFAULT_SECRET_KEY
    log_level: str = DEFAULT_LOG_LEVEL
    log_format: str = DEFAULT_LOG_FORMAT
    job_concurrency: int = DEFAULT_JOB_CONCURRENCY
    job_max_retries: int = DEFAULT_JOB_MAX_RETRIES
    job_retry_delay: float = parse_ms(DEFAULT_JOB_RETRY_DELAY) / 1000  # seconds (jobs/durations.py)
    job_timeout: int = DEFAULT_JOB_TIMEOUT
    enable_task_scheduling: bool = DEFAULT_ENABLE_TASK_SCHEDULING
    queues: tuple[str, ...] = DEFAULT_QUEUES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    result_ttl: int = DEFAULT_RESULT_TTL
    failure_ttl: int = DEFAULT_FAILURE_TTL
    idempotency_ttl: int = DEFAULT_IDEMPOTENCY_TTL
    scheduler_tick: float = DEFAULT_SCHEDULER_TICK
    scheduler_lease: float = DEFAULT_SCHEDULER_LEASE
    heartbeat_stale: int = DEFAULT_HEARTBEAT_STALE
    web_concurrency: int = DEFAULT_WEB_CONCURRENCY
    task_modules: tuple[str, ...] = DEFAULT_TASK_MODULES
    worker_recycle_jobs: int = DEFAULT_WORKER_RECYCLE_JOBS
    worker_recycle_rss_mb: int = DEFAULT_WORKER_RECYCLE_RSS_MB
    job_memory_limit_mb: int = DEFAULT_JOB_MEMORY_LIMIT_MB
    job_abandon_after: int = DEFAULT_JOB_ABANDON_AFTER
    worker_shutdown_grace: float = DEFAULT_WORKER_SHUTDOWN_GRACE
    missed_grace: float = DEFAULT_MISSED_GRACE
    schedule_overrides: Mapping[str, str] = field(default_factory=dict)
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_WEBHOOK_RETRY_SCHEDULE
    webhook_retry_interval_minutes: int = DEFAULT_WEBHOOK_RETRY_INTERVAL_MINUTES
    webhook_cleanup_retention_days: int = DEFAULT_WEBHOOK_CLEANUP_RETENTION_DAYS
    webhook_allow_private_targets: bool = DEFAULT_WEBHOOK_ALLOW_PRIVATE_TARGETS
    webhook_timeout: float = DEFAULT_WEBHOOK_TIMEOUT
    webhook_rate_per_second: int = DEFAULT_WEBHOOK_RATE_PER_SECOND
    encryption_key: str | None = DEFAULT_ENCRYPTION_KEY
    breaker_failure_threshold: int = DEFAULT_BREAKER_FAILURE_THRESHOLD
    breaker_recovery_timeout: float = DEFAULT_BREAKER_RECOVERY_TIMEOUT
    breaker_success_threshold: int = DEFAULT_BREAKER_SUCCESS_THRESHOLD
    oauth_refresh_lead: int = DEFAULT_OAUTH_REFRESH_LEAD
    oauth_health_interval: int = DEFAULT_OAUTH_HEALTH_INTERVAL
    oauth_timeout: float = DEFAULT_OAUTH_TIMEOUT
    smtp_host: str = DEFAULT_SMTP_HOST
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_username: str | None = DEFAULT_SMTP_USERNAME
    smtp_password: str | None = DEFAULT_SMTP_PASSWORD
    smtp_from: str = DEFAULT_SMTP_FROM
    smtp_starttls: bool = DEFAULT_SMTP_STARTTLS
    smtp_ssl: bool = DEFAULT_SMTP_SSL
    smtp_timeout: float = DEFAULT_SMTP_TIMEOUT
    health_samples: int = DEFAULT_HEALTH_SAMPLES
    session_lifetime: int = DEFAULT_SESSION_LIFETIME
    trusted_proxies: int = DEFAULT_TRUSTED_PROXIES
    admin_paths_admin_only: bool = DEFAULT_ADMIN_PATHS_ADMIN_ONLY
    metrics_token: str | None = DEFAULT_METRICS_TOKEN
    metrics_allow_ips: tuple[str, ...] = DEFAULT_METRICS_ALLOW_IPS
    alert_webhook_url: str | None = DEFAULT_ALERT_WEBHOOK_URL
    alert_email_to: tuple[str, ...] = DEFAULT_ALERT_EMAIL_TO
    alert_failure_threshold: int = DEFAULT_ALERT_FAILURE_THRESHOLD
    alert_window: int = DEFAULT_ALERT_WINDOW
    rq_allowed_functions: tuple[str, ...] = DEFAULT_RQ_ALLOWED_FUNCTIONS
    worker_isolated_queues: tuple[str, ...] = DEFAULT_WORKER_ISOLATED_QUEUES


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
_REDIS_SCHEMES = ("redis", "rediss", "unix", "redis+sentinel")


def _int(environ: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(name, f"expected a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(name, f"must be at least {minimum}, got {value}")
    return value


def _float(environ: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(name, f"expected a number, got {raw!r}") from None
    if not value >= minimum:
        raise SettingsError(name, f"must be at least {minimum}, got {raw!r}")
    return value


def _bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise SettingsError(name, f"expected true or false, got {raw!r}")


def parse_redis_url(raw: str) -> str:
    """Check that ``raw`` is a Redis URL we can connect with; return it stripped.

    Accepts ``redis://``, ``rediss://`` (TLS, as Heroku Redis gives it), ``unix://`` and
    ``redis+sentinel://host:port[,host:port]/service_name[/db]``.
    """
    url = raw.strip()
    parts = urlsplit(url)
    if parts.scheme not in _REDIS_SCHEMES:
        raise SettingsError(
            "REDIS_URL", f"expected a redis://, rediss:// or redis+sentinel:// URL, got {raw!r}"
        )
    if parts.scheme == "unix":
        if not parts.path:
            raise SettingsError("REDIS_URL", f"a unix:// URL needs a socket path, got {raw!r}")
        return url
    if not parts.netloc or not parts.hostname:
        raise SettingsError("REDIS_URL", f"no host in {raw!r}")
    if parts.scheme == "redis+sentinel":
        if not parts.path.strip("/"):
            raise SettingsError("REDIS_URL", "a redis+sentinel:// URL needs the service name as its path")
        return url
    try:
        parts.port  # noqa: B018 - urlsplit validates the port lazily
    except ValueError:
        raise SettingsError("REDIS_URL", f"bad port in {raw!r}") from None
    db = parts.path.strip("/")
    if db and not db.isdigit():
        raise SettingsError("REDIS_URL", f"the database number must be a whole number, got {db!r}")
    return url


def _queues(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = environ.get("QUEUES")
    if raw is None or raw.strip() == "":
        return DEFAULT_QUEUES
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    for name in names:
        if not name.replace("-", "").replace("_", "").isalnum():
            raise SettingsError("QUEUES", f"queue names are letters, digits, - and _, got {name!r}")
    if not names:
        raise SettingsError("QUEUES", "name at least one queue")
    return names


def _modules(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = environ.get("TASK_MODULES") or ""
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    for name in names:
        if not all(part.isidentifier() for part in name.split(".")):
            raise SettingsError("TASK_MODULES", f"expected dotted module names, got {name!r}")
    return names


def _worker_settings(env: Mapping[str, str]) -> dict[str, object]:
    """RQ_ALLOWED_FUNCTIONS (dotted module prefixes, or ``*``) and WORKER_ISOLATED_QUEUES."""
    allowed = tuple(n.strip() for n in (env.get("RQ_ALLOWED_FUNCTIONS") or "").split(",") if n.strip())
    for name in allowed:
        if name != "*" and not all(part.isidentifier() for part in name.split(".")):
            raise SettingsError("RQ_ALLOWED_FUNCTIONS", f"expected dotted module names or *, got {name!r}")
    isolated = tuple(n.strip() for n in (env.get("WORKER_ISOLATED_QUEUES") or "").split(",") if n.strip())
    return {"rq_allowed_functions": allowed, "worker_isolated_queues": isolated}


def _networks(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = environ.get(name) or ""
    networks = []
    for item in (n.strip() for n in raw.split(",")):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise SettingsError(name, f"expected IP addresses or CIDR networks, got {item!r}") from None
    return tuple(networks)


def _http_url(environ: Mapping[str, str], name: str) -> str | None:
    raw = (environ.get(name) or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(name, f"expected an http:// or https:// URL, got {raw!r}")
    return raw


def _schedule_overrides(env: Mapping[str, str]) -> dict[str, str]:
    """SCHEDULE_<NAME> variables, plus the webhook retry sweep's interval from
    WEBHOOK_RETRY_INTERVAL_MINUTES when that is set and SCHEDULE_WEBHOOKS_RETRY_SWEEP is not."""
    overrides = {k: v.strip() for k, v in env.items() if k.startswith(SCHEDULE_PREFIX) and v.strip()}
    minutes = _int(env, "WEBHOOK_RETRY_INTERVAL_MINUTES", DEFAULT_WEBHOOK_RETRY_INTERVAL_MINUTES, minimum=1)
    if (env.get("WEBHOOK_RETRY_INTERVAL_MINUTES") or "").strip():
        every = f"0 */{minutes} * * * *" if minutes < 60 and 60 % minutes == 0 else f"@every {minutes}m"
        overrides.setdefault("SCHEDULE_WEBHOOKS_RETRY_SWEEP", every)
    return overrides


def _delays(env: Mapping[str, str], name: str, default: tuple[float, ...]) -> tuple[float, ...]:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        values = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsError(name, f"expected comma-separated seconds, got {raw!r}") from None
    if not values or any(v < 0 for v in values):
        raise SettingsError(name, "expected one or more non-negative numbers of seconds")
    return values


def _builtin_job_settings(env: Mapping[str, str]) -> dict[str, object]:
    """Settings of the built-in jobs (webhooks, OAuth, breakers, email, health metrics)."""
    smtp_port = _int(env, "SMTP_PORT", DEFAULT_SMTP_PORT, minimum=1)
    if smtp_port > 65535:
        raise SettingsError("SMTP_PORT", f"must be at most 65535, got {smtp_port}")
    return {
        "webhook_retry_schedule": _webhook_retry_schedule(env),
        "webhook_retry_interval_minutes": _int(
            env, "WEBHOOK_RETRY_INTERVAL_MINUTES", DEFAULT_WEBHOOK_RETRY_INTERVAL_MINUTES, minimum=1
        ),
        "webhook_cleanup_retention_days": _int(
            env, "WEBHOOK_CLEANUP_RETENTION_DAYS", DEFAULT_WEBHOOK_CLEANUP_RETENTION_DAYS, minimum=1
        ),
        "webhook_allow_private_targets": _bool(
            env, "WEBHOOK_ALLOW_PRIVATE_TARGETS", DEFAULT_WEBHOOK_ALLOW_PRIVATE_TARGETS
        ),
        "webhook_timeout": _float(env, "WEBHOOK_TIMEOUT", DEFAULT_WEBHOOK_TIMEOUT, minimum=0.1),
        "webhook_rate_per_second": _int(env, "WEBHOOK_RATE_PER_SECOND", DEFAULT_WEBHOOK_RATE_PER_SECOND),
        "encryption_key": (env.get("ENCRYPTION_KEY") or "").strip() or None,
        "breaker_failure_threshold": _int(
            env, "BREAKER_FAILURE_THRESHOLD", DEFAULT_BREAKER_FAILURE_THRESHOLD, minimum=1
        ),
        "breaker_recovery_timeout": _float(
            env, "BREAKER_RECOVERY_TIMEOUT", DEFAULT_BREAKER_RECOVERY_TIMEOUT, minimum=0.1
        ),
        "breaker_success_threshold": _int(
            env, "BREAKER_SUCCESS_THRESHOLD", DEFAULT_BREAKER_SUCCESS_THRESHOLD, minimum=1
        ),
        "oauth_refresh_lead": _int(env, "OAUTH_REFRESH_LEAD", DEFAULT_OAUTH_REFRESH_LEAD),
        "oauth_health_interval": _int(env, "OAUTH_HEALTH_INTERVAL", DEFAULT_OAUTH_HEALTH_INTERVAL, minimum=1),
        "oauth_timeout": _float(env, "OAUTH_TIMEOUT", DEFAULT_OAUTH_TIMEOUT, minimum=0.1),
        "smtp_host": (env.get("SMTP_HOST") or "").strip() or DEFAULT_SMTP_HOST,
        "smtp_port": smtp_port,
        "smtp_username": env.get("SMTP_USERNAME") or None,
        "smtp_password": env.get("SMTP_PASSWORD") or None,
        "smtp_from": (env.get("SMTP_FROM") or "").strip() or DEFAULT_SMTP_FROM,
        "smtp_starttls": _bool(env, "SMTP_STARTTLS", DEFAULT_SMTP_STARTTLS),
        "smtp_ssl": _bool(env, "SMTP_SSL", DEFAULT_SMTP_SSL),
        "smtp_timeout": _float(env, "SMTP_TIMEOUT", DEFAULT_SMTP_TIMEOUT, minimum=0.1),
        "health_samples": _int(env, "HEALTH_SAMPLES", DEFAULT_HEALTH_SAMPLES, minimum=1),
    }


# --- the design notes' spellings: JOB_RETRY_DELAY in ms, REDIS_HOST/PORT/PASSWORD, ENABLE_WEBHOOK_RETRIES
MILLISECOND_VARIABLES = ("JOB_RETRY_DELAY",)  # read with _ms: a bare number is milliseconds


def _ms(env: Mapping[str, str], name: str, default: str) -> float:
    """Seconds from a value in milliseconds (a bare number) or with a unit (5000ms, 5s, 1m, 2h)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        raw = default
    try:
        return parse_ms(raw) / 1000
    except ValueError as error:
        raise SettingsError(name, str(error)) from None


def _redis_url(env: Mapping[str, str]) -> str:
    """REDIS_URL, or one built from REDIS_HOST/REDIS_PORT/REDIS_PASSWORD (jobs/redis_env.py)."""
    parts = {"REDIS_HOST": env.get("REDIS_HOST"), "REDIS_PORT": env.get("REDIS_PORT"),
             "REDIS_PASSWORD": env.get("REDIS_PASSWORD")}  # fmt: skip
    try:
        return redis_url_from_env(env.get("REDIS_URL"), parts, DEFAULT_REDIS_URL)
    except RedisEnvError as error:
        raise SettingsError(error.variable, str(error)) from None


def _tls_unverified(url: str, env: Mapping[str, str]) -> str:
    """REDIS_TLS_VERIFY=false: a rediss:// URL without its own ``ssl_cert_reqs`` gets ``none``, so a
    managed Redis with a self-signed certificate (Heroku's add-on hands out a bare rediss:// URL that
    cannot be edited) connects. A URL's own ``ssl_cert_reqs`` always wins."""
    if _bool(env, "REDIS_TLS_VERIFY", DEFAULT_REDIS_TLS_VERIFY) or not url.startswith("rediss://"):
        return url
    if "ssl_cert_reqs=" in url:
        return url
    return url + ("&" if "?" in url else "?") + "ssl_cert_reqs=none"


def _webhook_retry_schedule(env: Mapping[str, str]) -> tuple[float, ...]:
    """ENABLE_WEBHOOK_RETRIES=false, or an empty (but set) WEBHOOK_RETRY_SCHEDULE: no retries at all."""
    if not _bool(env, "ENABLE_WEBHOOK_RETRIES", DEFAULT_ENABLE_WEBHOOK_RETRIES):
        return ()
    if "WEBHOOK_RETRY_SCHEDULE" in env and not env["WEBHOOK_RETRY_SCHEDULE"].strip():
        return ()
    return _delays(env, "WEBHOOK_RETRY_SCHEDULE", DEFAULT_WEBHOOK_RETRY_SCHEDULE)


def settings_warnings(environ: Mapping[str, str] | None = None) -> list[str]:
    """One-line warnings about values that parse but are probably not what was meant."""
    env = os.environ if environ is None else environ
    found = (bare_number_warning(name, env.get(name)) for name in MILLISECOND_VARIABLES)
    return [warning for warning in found if warning]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the environment (``os.environ`` by default) into :class:`Settings`.

    Raises :class:`SettingsError` on the first unusable value, naming the variable.
    """
    env = os.environ if environ is None else environ
    log_level = env.get("LOG_LEVEL", DEFAULT_LOG_LEVEL).strip().upper() or DEFAULT_LOG_LEVEL
    if log_level not in _LOG_LEVELS:
        raise SettingsError("LOG_LEVEL", f"expected one of {', '.join(_LOG_LEVELS)}, got {log_level!r}")
    log_format = env.get("LOG_FORMAT", DEFAULT_LOG_FORMAT).strip().lower() or DEFAULT_LOG_FORMAT
    if log_format not in ("text", "json"):
        raise SettingsError("LOG_FORMAT", f"expected text or json, got {log_format!r}")
    admin_token = env.get("ADMIN_TOKEN") or None
    if admin_token is not None and len(admin_token) < 16:
        raise SettingsError("ADMIN_TOKEN", "must be at least 16 characters")
    metrics_token = env.get("METRICS_TOKEN") or None
    if metrics_token is not None and len(metrics_token) < 16:
        raise SettingsError("METRICS_TOKEN", "must be at least 16 characters")
    port = _int(env, "PORT", DEFAULT_PORT, minimum=1)
    if port > 65535:
        raise SettingsError("PORT", f"must be at most 65535, got {port}")
    return Settings(
        redis_url=_tls_unverified(parse_redis_url(_redis_url(env)), env),
        port=port,
        admin_token=admin_token,
        secret_key=env.get("SECRET_KEY") or None,
        log_level=log_level,
        log_format=log_format,
        job_concurrency=_int(env, "JOB_CONCURRENCY", DEFAULT_JOB_CONCURRENCY, minimum=1),
        job_max_retries=_int(env, "JOB_MAX_RETRIES", DEFAULT_JOB_MAX_RETRIES),
        job_retry_delay=_ms(env, "JOB_RETRY_DELAY", DEFAULT_JOB_RETRY_DELAY),
        job_timeout=_int(env, "JOB_TIMEOUT", DEFAULT_JOB_TIMEOUT, minimum=1),
        enable_task_scheduling=_bool(env, "ENABLE_TASK_SCHEDULING", DEFAULT_ENABLE_TASK_SCHEDULING),
        queues=_queues(env),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1024),
        result_ttl=_int(env, "RESULT_TTL", DEFAULT_RESULT_TTL, minimum=1),
        failure_ttl=_int(env, "FAILURE_TTL", DEFAULT_FAILURE_TTL, minimum=1),
        idempotency_ttl=_int(env, "IDEMPOTENCY_TTL", DEFAULT_IDEMPOTENCY_TTL, minimum=1),
        scheduler_tick=_float(env, "SCHEDULER_TICK", DEFAULT_SCHEDULER_TICK, minimum=0.001),
        scheduler_lease=_float(env, "SCHEDULER_LEASE", DEFAULT_SCHEDULER_LEASE, minimum=0.5),
        heartbeat_stale=_int(env, "HEARTBEAT_STALE", DEFAULT_HEARTBEAT_STALE, minimum=1),
        web_concurrency=_int(env, "WEB_CONCURRENCY", DEFAULT_WEB_CONCURRENCY, minimum=1),
        task_modules=_modules(env),
        worker_recycle_jobs=_int(env, "WORKER_RECYCLE_JOBS", DEFAULT_WORKER_RECYCLE_JOBS),
        worker_recycle_rss_mb=_int(env, "WORKER_RECYCLE_RSS_MB", DEFAULT_WORKER_RECYCLE_RSS_MB, minimum=16),
        job_memory_limit_mb=_int(env, "JOB_MEMORY_LIMIT_MB", DEFAULT_JOB_MEMORY_LIMIT_MB),
        job_abandon_after=_int(env, "JOB_ABANDON_AFTER", DEFAULT_JOB_ABANDON_AFTER, minimum=2),
        worker_shutdown_grace=_float(env, "WORKER_SHUTDOWN_GRACE", DEFAULT_WORKER_SHUTDOWN_GRACE, minimum=0),
        missed_grace=_float(env, "MISSED_SCHEDULE_GRACE", DEFAULT_MISSED_GRACE, minimum=0),
        schedule_overrides=_schedule_overrides(env),
        **_builtin_job_settings(env),  # type: ignore[arg-type]
        session_lifetime=_int(env, "SESSION_LIFETIME", DEFAULT_SESSION_LIFETIME, minimum=60),
        trusted_proxies=_int(env, "TRUSTED_PROXIES", DEFAULT_TRUSTED_PROXIES),
        admin_paths_admin_only=_bool(env, "ADMIN_PATHS_ADMIN_ONLY", DEFAULT_ADMIN_PATHS_ADMIN_ONLY),
        metrics_token=metrics_token,
        metrics_allow_ips=_networks(env, "METRICS_ALLOW_IPS"),
        alert_webhook_url=_http_url(env, "ALERT_WEBHOOK_URL"),
        alert_email_to=tuple(a.strip() for a in (env.get("ALERT_EMAIL_TO") or "").split(",") if a.strip()),
        alert_failure_threshold=_int(
            env, "ALERT_FAILURE_THRESHOLD", DEFAULT_ALERT_FAILURE_THRESHOLD, minimum=1
        ),
        alert_window=_int(env, "ALERT_WINDOW", DEFAULT_ALERT_WINDOW, minimum=1),
        **_worker_settings(env),  # type: ignore[arg-type]
    )


def load_or_exit(environ: Mapping[str, str] | None = None) -> Settings:
    """:func:`load_settings` for entry points: a bad value prints one line and exits with status 2."""
    try:
        settings = load_settings(environ)
    except SettingsError as error:
        print(f"taskyard: configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    for warning in settings_warnings(environ):
        print(f"taskyard: configuration warning: {warning}", file=sys.stderr)
    return settings
