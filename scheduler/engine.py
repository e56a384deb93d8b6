"""The scheduler process's loop: lead, move due delayed jobs, report liveness.

Why not rq-scheduler's ``rqscheduler`` process: it scores jobs in whole seconds and fires up to a
second early, polls every 60 s by default, releases its lock without an owner check, and reads cron in
the process's local time zone with a 6th field meaning "year". We keep RQ's own pieces instead: delayed
jobs and RQ ``Retry`` intervals live in RQ's ``ScheduledJobRegistry`` and are moved by RQ's
``RQScheduler.enqueue_scheduled_jobs``, driven here under our own leader lease so exactly one process
moves them and a follower takes over within one lease (``SCHEDULER_LEASE``, 5 s by default).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq.scheduler import RQScheduler

from jobs import keys
from jobs.settings import Settings
from scheduler.leader import Lease

log = logging.getLogger("taskyard.scheduler")

HEARTBEAT_EVERY = 1.0  # seconds between liveness reports
FORGET_AFTER = 3600  # seconds after which a silent scheduler's report is removed
ERROR_BACKOFF = (0.1, 0.2, 0.5, 1.0, 2.0)  # waits after consecutive Redis errors, then the last repeats


class Engine:
    """One scheduler process. :meth:`tick` is one pass; :meth:`run` loops until ``stop`` is set."""

    def __init__(
        self,
        connection: Redis,
        settings: Settings,
        *,
        name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.connection = connection
        self.settings = settings
        self.name = name or f"{socket.gethostname()}.{os.getpid()}.{uuid.uuid4().hex[:6]}"
        self.clock = clock
        self.lease = Lease(connection, keys.SCHEDULER_LEADER, self.name, settings.scheduler_lease)
        self.leading = False
        self.last_pass_ms = 0.0
        self.moved = 0
        self._last_heartbeat = 0.0
        self._rq = RQScheduler(list(settings.queues), connection=connection, name=f"taskyard-{self.name}")
        self._rq.prepare_registries(list(settings.queues))

    def tick(self) -> float:
        """One pass; returns how long to wait before the next one."""
        started = time.perf_counter()
        was_leading = self.leading
        self.leading = self.lease.hold()
        if self.leading != was_leading:
            log.info("scheduler %s %s leadership", self.name, "took" if self.leading else "lost")
        if self.leading:
            self.move_delayed_jobs()
        self.last_pass_ms = (time.perf_counter() - started) * 1000
        self.heartbeat()
        return self.settings.scheduler_tick if self.leading else min(1.0, self.settings.scheduler_lease / 5)

    def move_delayed_jobs(self) -> None:
        """Put due jobs from every queue's ScheduledJobRegistry back on their queues (RQ's own code)."""
        self._rq.enqueue_scheduled_jobs()

    def heartbeat(self, force: bool = False) -> None:
        """Report liveness at most every HEARTBEAT_EVERY seconds; the leader forgets long-silent peers."""
        now = self.clock()
        if not force and now - self._last_heartbeat < HEARTBEAT_EVERY:
            return
        self._last_heartbeat = now
        report = {
            "at": now,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "last_pass_ms": round(self.last_pass_ms, 3),
            "scheduling_enabled": self.settings.enable_task_scheduling,
        }
        self.connection.hset(keys.SCHEDULER_HEARTBEATS, self.name, json.dumps(report))
        if self.leading:
            for name, raw in self.connection.hgetall(keys.SCHEDULER_HEARTBEATS).items():
                if now - json.loads(raw)["at"] > FORGET_AFTER:
                    self.connection.hdel(keys.SCHEDULER_HEARTBEATS, name)

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set; Redis errors are logged and retried with backoff, never fatal."""
        failures = 0
        while not stop.is_set():
            try:
                wait = self.tick()
                if failures:
                    log.info("scheduler %s reconnected to Redis", self.name)
                failures = 0
            except RedisError as error:
                wait = ERROR_BACKOFF[min(failures, len(ERROR_BACKOFF) - 1)]
                if failures == 0:
                    log.warning("scheduler %s lost Redis (%s); retrying", self.name, error)
                failures += 1
                self.leading = False
            stop.wait(wait)
        self.shutdown()

    def shutdown(self) -> None:
        """Hand leadership over at once and withdraw our liveness report."""
        try:
            if self.lease.release():
                log.info("scheduler %s released leadership", self.name)
            self.connection.hdel(keys.SCHEDULER_HEARTBEATS, self.name)
        except RedisError:
            pass
