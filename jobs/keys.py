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
