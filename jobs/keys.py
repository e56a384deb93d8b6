"""Every Redis key Taskyard writes (RQ's own keys stay RQ's). One prefix, one module."""

PREFIX = "taskyard:"

# web
IDEMPOTENCY = PREFIX + "idem:{principal}:{key}"  # string: the first response to a POST with this key

# liveness
SCHEDULER_HEARTBEATS = PREFIX + "scheduler:heartbeats"  # hash: scheduler name -> JSON {at, leader, ...}
SCHEDULER_LEADER = PREFIX + "scheduler:leader"  # string with TTL: the name of the leading scheduler


def idempotency(principal: str, key: str) -> str:
    return IDEMPOTENCY.format(principal=principal, key=key)


# access
TOKENS = PREFIX + "tokens"  # hash: token id -> JSON record (hash of the secret, role, expiry, revocation)
TOKEN_INDEX = PREFIX + "tokens:by-hash"  # hash: sha256 of a secret -> token id


# browser sessions, metrics and alerts (web/security/session.py, jobs/metrics.py, jobs/maintenance/alerts.py)
WEB_SESSION = PREFIX + "web-session:{sid}"  # string with TTL: a browser login -> token id; logout deletes
LOGIN_FAILURES = PREFIX + "login-failures:{address}"  # counter with TTL: failed logins from one address
LOGIN_BLOCK = PREFIX + "login-block:{address}"  # string with TTL: that address waits until it expires
BEARER_FAILURES = PREFIX + "bearer-failures:{address}"  # counter with TTL: wrong API tokens from one address
BEARER_BLOCK = PREFIX + "bearer-block:{address}"  # string with TTL: that address waits until it expires
METRICS_JOBS = PREFIX + "metrics:jobs"  # hash: "event\ttask\tqueue" -> count (enqueued, started, ...)
METRICS_DURATION = PREFIX + "metrics:duration"  # hash: "task\tqueue\tbucket|sum|count" -> histogram parts
METRICS_WEBHOOKS = PREFIX + "metrics:webhooks"  # hash: attempt outcome (delivered, retried, failed) -> count
ALERT_FAILURES = PREFIX + "alert:failures:{task}:{window}"  # counter with TTL: a task's failures, one window
ALERT_FIRED = PREFIX + "alert:fired:{rule}:{subject}"  # when the alert last fired (at most once per window)
ALERT_RECENT = PREFIX + "alert:recent"  # list: the latest alerts sent (JSON), newest first, capped


def web_session(sid: str) -> str:
    return WEB_SESSION.format(sid=sid)


def login_failures(address: str) -> str:
    return LOGIN_FAILURES.format(address=address)


def login_block(address: str) -> str:
    return LOGIN_BLOCK.format(address=address)


def bearer_failures(address: str) -> str:
    return BEARER_FAILURES.format(address=address)


def bearer_block(address: str) -> str:
    return BEARER_BLOCK.format(address=address)


def alert_failures(task: str, window: int) -> str:
    return ALERT_FAILURES.format(task=task, window=window)


def alert_fired(rule: str, subject: str) -> str:
    return ALERT_FIRED.format(rule=rule, subject=subject)


# scheduled tasks (scheduler/store.py, scheduler/executions.py)
SCHED_TASK = PREFIX + "sched:task:{id}"  # hash: one scheduled task's definition and state
SCHED_NAMES = PREFIX + "sched:names"  # hash: task name -> id (names are unique)
SCHED_ALL = PREFIX + "sched:all"  # zset: id -> createdAt (ms), the listing order
SCHED_DUE = PREFIX + "sched:due"  # zset: id -> next run (epoch seconds, float) of active tasks
SCHED_EXECUTIONS = PREFIX + "sched:executions:{id}"  # hash: execution id -> JSON record
SCHED_EXECUTION_ORDER = PREFIX + "sched:execution-order:{id}"  # zset: execution id -> start (ms)
SCHED_DEAD = PREFIX + "sched:dead"  # zset: RQ job id of a run that exhausted its retries -> failed at
SCHED_SYNC_LOCK = PREFIX + "sched:sync-lock"  # string with TTL: one process syncs declared schedules
SCHED_EXPECTED = PREFIX + "sched:expected"  # zset: recurring task id -> deadline for its next success


def sched_task(task_id: str) -> str:
    return SCHED_TASK.format(id=task_id)


def sched_executions(task_id: str) -> str:
    return SCHED_EXECUTIONS.format(id=task_id)


def sched_execution_order(task_id: str) -> str:
    return SCHED_EXECUTION_ORDER.format(id=task_id)


# built-in jobs: webhooks, integrations, breakers, rate limits, health metrics
WEBHOOK_ENDPOINTS = PREFIX + "webhooks:endpoints"  # hash: endpoint id -> JSON (secret encrypted)
WEBHOOK_DELIVERY = PREFIX + "webhooks:delivery:{id}"  # string: one delivery's JSON record
WEBHOOK_ATTEMPTS = PREFIX + "webhooks:delivery:{id}:attempts"  # list: JSON attempt log, oldest first
WEBHOOK_DELIVERIES = PREFIX + "webhooks:deliveries"  # zset: delivery id by creation time (ms)
WEBHOOK_BY_ENDPOINT = PREFIX + "webhooks:deliveries:endpoint:{id}"  # zset: that endpoint's deliveries
WEBHOOK_BY_STATUS = PREFIX + "webhooks:deliveries:status:{status}"  # zset: deliveries in that status
WEBHOOK_RETRY_DUE = PREFIX + "webhooks:retry-due"  # zset: retrying delivery id -> next attempt (epoch s)
WEBHOOK_LOCK = PREFIX + "webhooks:lock:{id}"  # lock: one delivery's attempt or state change at a time
INTEGRATIONS = PREFIX + "integrations"  # hash: integration id -> JSON (secrets and tokens encrypted)
INTEGRATION_LOCK = PREFIX + "integrations:lock:{id}"  # lock: one token refresh per integration at a time
BREAKERS = PREFIX + "breakers"  # set: names of every circuit breaker ever used
BREAKER = PREFIX + "breaker:{name}"  # hash: state, failures, successes, opened_at of one breaker
RATE_LIMIT_PREFIX = PREFIX + "ratelimit"  # prefix of the `limits` package's moving-window keys
HEALTH_SAMPLES = PREFIX + "health:samples"  # list: JSON health-metric samples, newest first, capped


def webhook_delivery(delivery_id: str) -> str:
    return WEBHOOK_DELIVERY.format(id=delivery_id)


def webhook_attempts(delivery_id: str) -> str:
    return WEBHOOK_ATTEMPTS.format(id=delivery_id)


def webhook_by_endpoint(endpoint_id: str) -> str:
    return WEBHOOK_BY_ENDPOINT.format(id=endpoint_id)


def webhook_by_status(status: str) -> str:
    return WEBHOOK_BY_STATUS.format(status=status)


def webhook_lock(delivery_id: str) -> str:
    return WEBHOOK_LOCK.format(id=delivery_id)


def integration_lock(integration_id: str) -> str:
    return INTEGRATION_LOCK.format(id=integration_id)


def breaker(name: str) -> str:
    return BREAKER.format(name=name)


WEBHOOK_QUERY = PREFIX + "webhooks:query:{token}"  # zset with TTL: scratch intersection of two filters


def metrics_minute(minute: int) -> str:
    """Hash: event -> jobs that had it during one minute (``minute`` = epoch seconds // 60), kept a day."""
    return f"{PREFIX}metrics:minute:{minute}"


REPLAYED = (
    PREFIX + "replayed"
)  # list: ids of jobs put back on their queue from the console, newest first, capped
