"""Every Redis key Taskyard writes (RQ's own keys stay RQ's). One prefix, one module."""

PREFIX = "taskyard:"

# web
IDEMPOTENCY = PREFIX + "idem:{principal}:{key}"  # string: the first response to a POST with this key
JOB_ID_CLAIM = PREFIX + "jobid-claim:{job_id}"  # short lock around "does this job id exist? enqueue it"

# liveness
SCHEDULER_HEARTBEATS = PREFIX + "scheduler:heartbeats"  # hash: scheduler name -> JSON {at, leader, ...}
SCHEDULER_LEADER = PREFIX + "scheduler:leader"  # string with TTL: the name of the leading scheduler


def idempotency(principal: str, key: str) -> str:
    return IDEMPOTENCY.format(principal=principal, key=key)


def job_id_claim(job_id: str) -> str:
    return JOB_ID_CLAIM.format(job_id=job_id)


# access
TOKENS = PREFIX + "tokens"  # hash: token id -> JSON record (hash of the secret, role, expiry, revocation)
TOKEN_INDEX = PREFIX + "tokens:by-hash"  # hash: sha256 of a secret -> token id


# browser sessions, metrics and alerts (web/session.py, jobs/metrics.py, jobs/alerts.py)
WEB_SESSION = PREFIX + "web-session:{sid}"  # string with TTL: a browser login -> token id; logout deletes
LOGIN_FAILURES = PREFIX + "login-failures:{address}"  # counter with TTL: failed logins from one address
LOGIN_BLOCK = PREFIX + "login-block:{address}"  # string with TTL: that address waits until it expires
METRICS_JOBS = PREFIX + "metrics:jobs"  # hash: "event\ttask\tqueue" -> count (enqueued, started, ...)
METRICS_DURATION = PREFIX + "metrics:duration"  # hash: "task\tqueue\tbucket|sum|count" -> histogram parts
ALERT_FAILURES = PREFIX + "alert:failures:{task}:{window}"  # counter with TTL: a task's failures, one window
ALERT_FIRED = PREFIX + "alert:fired:{rule}:{subject}:{window}"  # SET NX with TTL: alert sent this window
ALERT_RECENT = PREFIX + "alert:recent"  # list: the latest alerts sent (JSON), newest first, capped


def web_session(sid: str) -> str:
    return WEB_SESSION.format(sid=sid)


def login_failures(address: str) -> str:
    return LOGIN_FAILURES.format(address=address)


def login_block(address: str) -> str:
    return LOGIN_BLOCK.format(address=address)


def alert_failures(task: str, window: int) -> str:
    return ALERT_FAILURES.format(task=task, window=window)


def alert_fired(rule: str, subject: str, window: int) -> str:
    return ALERT_FIRED.format(rule=rule, subject=subject, window=window)
