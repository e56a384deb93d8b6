"""Run the platform in-process for a test: scheduler passes (moving delayed jobs) and burst workers,
until a condition holds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable

from redis import Redis

from jobs.settings import Settings
from scheduler.engine import Engine
from tests.conftest import run_worker

POLL = 0.05  # seconds between passes


def drive(connection: Redis, settings: Settings, done: Callable[[], bool], timeout: float = 20.0) -> None:
    """Alternate ``Engine.tick()`` and a burst worker until ``done()``; fail after ``timeout`` seconds."""
    engine = Engine(connection, settings)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            engine.tick()
            run_worker(connection)
            if done():
                return
            time.sleep(POLL)
    finally:
        engine.shutdown()
    raise AssertionError(f"condition not reached within {timeout} s")
