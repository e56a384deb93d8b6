"""Circuit breakers per external host, shared by every worker through Redis.

States: **closed** (calls go through; consecutive failures are counted) → **open** after
``BREAKER_FAILURE_THRESHOLD`` consecutive failures (calls are refused) → **half_open** once
``BREAKER_RECOVERY_TIMEOUT`` seconds have passed (trial calls go through) → **closed** after
``BREAKER_SUCCESS_THRESHOLD`` successes, or straight back to **open** on any failure in half-open.

Each transition is one Lua script, so concurrent workers never lose a count or race a transition.
A job that finds its host's breaker open does not call and does not burn a retry: it is deferred
until :attr:`Decision.retry_at`, when the breaker may half-open (see the webhook and OAuth handlers).

Why not pybreaker 1.4.1 and its ``CircuitRedisStorage``: its transitions are read-then-write across
separate commands (two workers can both trip or both reset), its open state only raises
``CircuitBreakerError`` instead of saying when the breaker may half-open (we need that to defer a
job), and it has no registry of breakers to list over the API. What we need is ~100 lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq.utils import as_text

from jobs import keys
from jobs.settings import Settings

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

# KEYS[1]: breaker hash. ARGV: op (allow|success|failure|peek), now, failure threshold, recovery
# timeout, success threshold. Returns {state, failures, successes, opened_at, allowed(1/0)} as strings.
# ``peek`` computes the same answer as ``allow`` and writes nothing: reading (the API, /metrics, the
# pages) must not move a breaker or touch its hash.
_SCRIPT = """
local h = KEYS[1]
local op, now = ARGV[1], tonumber(ARGV[2])
local fmax, recovery, smax = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local state = redis.call('HGET', h, 'state') or 'closed'
local failures = tonumber(redis.call('HGET', h, 'failures') or '0')
local successes = tonumber(redis.call('HGET', h, 'successes') or '0')
local opened_at = tonumber(redis.call('HGET', h, 'opened_at') or '0')
local allowed = 1
if state == 'open' and now >= opened_at + recovery then
  state, successes = 'half_open', 0
end
if op == 'allow' then
  if state == 'open' then allowed = 0 end
elseif op == 'success' then
  if state == 'half_open' then
    successes = successes + 1
    if successes >= smax then state, failures, successes = 'closed', 0, 0 end
  elseif state == 'closed' then
    failures = 0
  end
elseif op == 'failure' then
  if state == 'half_open' then
    state, opened_at, successes = 'open', now, 0
  elseif state == 'closed' then
    failures = failures + 1
    if failures >= fmax then state, opened_at = 'open', now end
  end
end
if op ~= 'peek' then
  redis.call('HSET', h, 'state', state, 'failures', failures, 'successes', successes,
             'opened_at', tostring(opened_at), 'updated_at', tostring(now))
end
return {state, tostring(failures), tostring(successes), tostring(opened_at), tostring(allowed)}
"""


@dataclass(frozen=True)
class Decision:
    """A breaker's state after an operation. ``allowed`` says whether to make the call now;
    ``retry_at`` (epoch seconds) is when an open breaker may let a trial call through."""

    name: str
    state: str
    failures: int
    successes: int
    opened_at: float | None
    retry_at: float | None
    allowed: bool

    def view(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": self.state,
            "failures": self.failures,
            "successes": self.successes,
            "opened_at": self.opened_at,
            "retry_at": self.retry_at,
        }


class CircuitOpen(Exception):
    """The host's breaker is open: don't call it before ``retry_at`` (epoch seconds)."""

    def __init__(self, decision: Decision) -> None:
        super().__init__(f"circuit breaker {decision.name!r} is open until {decision.retry_at}")
        self.decision = decision


class Breaker:
    """One named breaker (usually ``host:port``) with the deployment's thresholds."""

    def __init__(
        self, connection: Redis, settings: Settings, name: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.connection = connection
        self.name = name
        self.clock = clock
        self.args = (
            settings.breaker.failure_threshold,
            settings.breaker.recovery_timeout,
            settings.breaker.success_threshold,
        )
        self.recovery = settings.breaker.recovery_timeout
        self.script = connection.register_script(_SCRIPT)  # EVALSHA after the first call

    def _run(self, op: str) -> Decision:
        if op != "peek":
            self.connection.sadd(keys.BREAKERS, self.name)
        raw = self.script(keys=[keys.breaker(self.name)], args=[op, self.clock(), *self.args])
        state, failures, successes, opened_at, allowed = (as_text(v) for v in raw)
        opened = float(opened_at) if state != CLOSED and float(opened_at) > 0 else None
        return Decision(
            self.name,
            state,
            int(failures),
            int(successes),
            opened,
            opened + self.recovery if state == OPEN and opened is not None else None,
            allowed == "1",
        )

    def allow(self) -> Decision:
        """May we call now? An open breaker past its recovery timeout turns half-open here."""
        return self._run("allow")

    def peek(self) -> Decision:
        """The state :meth:`allow` would answer now, without writing anything."""
        return self._run("peek")

    def check(self) -> Decision:
        """Like :meth:`allow`, but raise :class:`CircuitOpen` when the call must wait."""
        decision = self.allow()
        if not decision.allowed:
            raise CircuitOpen(decision)
        return decision

    def success(self) -> Decision:
        return self._run("success")

    def failure(self) -> Decision:
        return self._run("failure")

    def reset(self) -> None:
        """Close the breaker by hand (an operator knows the host is back)."""
        self.connection.delete(keys.breaker(self.name))


def all_breakers(
    connection: Redis, settings: Settings, clock: Callable[[], float] = time.time
) -> list[Decision]:
    """Every breaker that has been used, by name, with its current state (read only: :meth:`Breaker.peek`)."""
    return [Breaker(connection, settings, name, clock).peek() for name in breaker_names(connection)]


def breaker_names(connection: Redis) -> list[str]:
    """The names of every breaker that has been used (allowed a call or counted one), sorted."""
    return sorted(as_text(n) for n in connection.smembers(keys.BREAKERS))
