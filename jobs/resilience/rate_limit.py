"""Rate limits per task or per external host: at most N calls per window, shared through Redis.

Why the ``limits`` package and not RQ 3's built-in ``RateLimit``: RQ's is a *concurrency* cap (at most
N jobs of a key queued or running at once, enforced at enqueue time), while webhook delivery needs a
*rate* ("at most N webhook deliveries per second per endpoint"). ``limits``' moving window counts
calls in the last window exactly, in one Lua script on our own Redis connection pool (no second client).
A job over its limit is deferred to when the window frees a slot, like a job behind an open breaker:
it does not consume a retry.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from limits import RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis import Redis

from jobs import keys


class RateLimiter:
    """Moving-window limits keyed by any string (``webhook:<endpoint id>``, ``host:<host:port>``...)."""

    def __init__(self, connection: Redis, clock: Callable[[], float] = time.time) -> None:
        # The URI is only a label here: with a connection_pool, limits builds its client on our pool.
        storage = RedisStorage(
            "redis://", connection_pool=connection.connection_pool, key_prefix=keys.RATE_LIMIT_PREFIX
        )
        self._limiter = MovingWindowRateLimiter(storage)
        self.clock = clock

    def acquire(self, key: str, per_second: int) -> float:
        """Take one slot of ``per_second`` calls per second for ``key``.

        Returns 0.0 when the call may go ahead, else the seconds to wait before trying again.
        ``per_second <= 0`` means unlimited.
        """
        if per_second <= 0:
            return 0.0
        item = RateLimitItemPerSecond(per_second, 1)
        if self._limiter.hit(item, key):
            return 0.0
        reset_at, _remaining = self._limiter.get_window_stats(item, key)
        return max(0.01, reset_at - self.clock())
