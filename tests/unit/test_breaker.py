"""The Redis-backed circuit breaker's state machine, with a controlled clock (fakeredis runs its Lua)."""

from __future__ import annotations

from jobs import keys
from jobs.resilience.breaker import CLOSED, HALF_OPEN, OPEN, Breaker, all_breakers
from jobs.settings import load_settings
from tests.clock import Clock

SETTINGS = load_settings(
    {"BREAKER_FAILURE_THRESHOLD": "3", "BREAKER_RECOVERY_TIMEOUT": "60", "BREAKER_SUCCESS_THRESHOLD": "2"}
)


def test_opens_after_n_failures_half_opens_after_timeout_closes_after_m_successes(fake_connection):
    clock = Clock(start=1_000.0)
    breaker = Breaker(fake_connection, SETTINGS, "api.example.com:443", clock)
    assert breaker.failure().state == CLOSED
    assert breaker.success().failures == 0  # a success resets the consecutive count
    for _ in range(2):
        breaker.failure()
    opened = breaker.failure()
    assert opened.state == OPEN and opened.retry_at == 1_060.0
    clock.now = 1_059.9
    assert breaker.allow().allowed is False
    clock.now = 1_060.0
    trial = breaker.allow()
    assert trial.state == HALF_OPEN and trial.allowed
    assert breaker.success().state == HALF_OPEN
    assert breaker.success().state == CLOSED


def test_a_failure_in_half_open_reopens_at_once(fake_connection):
    clock = Clock(start=1_000.0)
    breaker = Breaker(fake_connection, SETTINGS, "h:80", clock)
    for _ in range(3):
        breaker.failure()
    clock.now += 61
    assert breaker.allow().state == HALF_OPEN
    reopened = breaker.failure()
    assert reopened.state == OPEN and reopened.retry_at == clock.now + 60


def test_state_is_shared_between_instances_and_listed(fake_connection):
    clock = Clock(start=1_000.0)
    for _ in range(3):
        Breaker(fake_connection, SETTINGS, "shared:443", clock).failure()  # e.g. three workers
    assert Breaker(fake_connection, SETTINGS, "shared:443", clock).allow().allowed is False
    Breaker(fake_connection, SETTINGS, "other:443", clock).success()
    assert [(d.name, d.state) for d in all_breakers(fake_connection, SETTINGS, clock)] == [
        ("other:443", CLOSED),
        ("shared:443", OPEN),
    ]


def test_reading_breakers_writes_nothing(fake_connection) -> None:  # type: ignore[no-untyped-def]
    """The API, /metrics and the pages list breakers with ``all_breakers``: reading must not run the
    transition (an open breaker past its timeout is *shown* half-open, and stays stored as open)."""
    clock = Clock(start=1_000.0)
    breaker = Breaker(fake_connection, SETTINGS, "api.example.com:443", clock)
    key = keys.breaker("api.example.com:443")
    for _ in range(3):
        breaker.failure()
    stored = fake_connection.hgetall(key)
    clock.now = 1_061.0
    (seen,) = all_breakers(fake_connection, SETTINGS, clock)
    assert seen.state == HALF_OPEN and seen.allowed
    assert fake_connection.hgetall(key) == stored
    assert all_breakers(fake_connection, SETTINGS, clock)[0].state == HALF_OPEN  # still computed, not stored
    assert breaker.allow().state == HALF_OPEN  # a caller's allow() does move it
    assert fake_connection.hget(key, "state") == b"half_open"
