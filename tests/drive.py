"""Run the platform in-process for a test: scheduler passes (moving delayed jobs) and burst workers,
until a condition holds or a deadline passes."""

from __future__ import annotations

from collections.abc import Callable

from redis import Redis

from jobs.settings import Settings
from scheduler.engine import Engine
from tests.conftest import run_worker
from tests.waiting import wait_for

POLL = 0.05  # seconds between passes


def drive(connection: Redis, settings: Settings, done: Callable[[], bool], timeout: float = 60.0) -> None:
    """Alternate ``Engine.tick()`` and a burst worker until ``done()``; fail after ``timeout`` seconds."""
    engine = Engine(connection, settings)

    def step() -> bool:
        engine.tick()
        run_worker(connection)
        return done()

    try:
        wait_for(step, timeout, "the driven condition", every=POLL)
    finally:
        engine.shutdown()
