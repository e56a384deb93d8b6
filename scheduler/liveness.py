"""What a scheduler process reports about itself: one JSON entry per process in one Redis hash.

The report (``keys.SCHEDULER_HEARTBEATS``: name -> ``{at, pid, host, last_pass_ms, scheduling_enabled,
fired, lateness_ms}``) is what ``/healthz``, the health page and the fail-over tests read; the read
model's liveness rule (``web.read_model.queries``) judges it. It is written at most every
:data:`HEARTBEAT_EVERY` seconds, so a pass every few milliseconds costs no extra round trip, and the
leader removes entries silent for :data:`FORGET_AFTER` seconds (processes that died without a word).
"""

from __future__ import annotations

import json
import os
import socket
from collections import deque

from redis import Redis

from jobs import keys

HEARTBEAT_EVERY = 1.0  # seconds between liveness reports
FORGET_AFTER = 3600  # seconds after which a silent scheduler's report is removed
LATENESS_SAMPLES = 1000  # recent firings kept for the lateness figures in the report


class Liveness:
    """One process's report: its firings and lateness so far, written by :meth:`report`."""

    def __init__(self, connection: Redis, name: str) -> None:
        self.connection = connection
        self.name = name
        self.fired = 0
        self.lateness: deque[float] = deque(maxlen=LATENESS_SAMPLES)
        self._last_report = 0.0

    def fired_one(self, lateness_ms: float) -> None:
        """Count one enqueued run, ``lateness_ms`` after its due time."""
        self.fired += 1
        self.lateness.append(lateness_ms)

    def lateness_figures(self) -> dict[str, float]:
        """p50, p99 and max of the recent lateness samples, in ms (empty before the first firing)."""
        samples = sorted(self.lateness)
        if not samples:
            return {}

        def pick(q: float) -> float:
            return samples[min(len(samples) - 1, int(q * len(samples)))]

        return {"p50": round(pick(0.5), 3), "p99": round(pick(0.99), 3), "max": round(samples[-1], 3)}

    def report(
        self, now: float, *, leading: bool, last_pass_ms: float, scheduling_enabled: bool, force: bool = False
    ) -> None:
        """Write the report at most every HEARTBEAT_EVERY seconds (always with ``force``); a leader also
        forgets long-silent peers."""
        if not force and now - self._last_report < HEARTBEAT_EVERY:
            return
        self._last_report = now
        entry = {
            "at": now,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "last_pass_ms": round(last_pass_ms, 3),
            "scheduling_enabled": scheduling_enabled,
            "fired": self.fired,
            "lateness_ms": self.lateness_figures(),
        }
        self.connection.hset(keys.SCHEDULER_HEARTBEATS, self.name, json.dumps(entry))
        if leading:
            for name, raw in self.connection.hgetall(keys.SCHEDULER_HEARTBEATS).items():
                if now - json.loads(raw)["at"] > FORGET_AFTER:
                    self.connection.hdel(keys.SCHEDULER_HEARTBEATS, name)

    def withdraw(self) -> None:
        """Remove this process's report (a clean shutdown)."""
        self.connection.hdel(keys.SCHEDULER_HEARTBEATS, self.name)
