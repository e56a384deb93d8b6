"""pytest plugin for RQ's own test suite run against Taskyard's worker (see test_rq_upstream.py).

Loaded with ``-p taskyard_rq_upstream`` inside the unpacked RQ sdist: it points the suite's default
``Redis()`` at the test's redis-server (RQ's tests assume localhost:6379) and substitutes
:class:`jobs.worker.Worker` for ``rq.Worker`` before RQ's test modules import it."""

from __future__ import annotations

import os
from typing import Any

import redis

_PORT = int(os.environ["TASKYARD_UPSTREAM_REDIS_PORT"])
_original_init = redis.Redis.__init__


def _init(self: redis.Redis, *args: Any, **kwargs: Any) -> None:
    if not args and not {"host", "port", "unix_socket_path", "connection_pool"} & kwargs.keys():
        kwargs["port"] = _PORT
    _original_init(self, *args, **kwargs)


redis.Redis.__init__ = _init  # type: ignore[method-assign]

import rq  # noqa: E402
import rq.worker  # noqa: E402

from jobs.worker import Worker  # noqa: E402

rq.Worker = Worker  # type: ignore[misc]
rq.worker.Worker = Worker  # type: ignore[misc]
