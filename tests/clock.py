"""The suite's one controllable clock: epoch seconds that only move when the test moves them.

Pass it wherever the code takes a ``clock``/``now`` seam (the scheduler engine, circuit breakers,
alerts). Start it at a fixed epoch where nothing else reads real time; start it at real time (the
default) where the code under test also reads the real clock (tasks created over the API are planned
on it) and call :meth:`catch_up` after such steps.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now

    def catch_up(self) -> None:
        """Jump to real time if it is ahead (never backwards)."""
        self.now = max(self.now, time.time())
