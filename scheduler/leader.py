"""A leader lease in Redis: one scheduler fires, the others wait to take over.

The lease is a key holding the leader's name with a millisecond TTL. Renewal and release are Lua
scripts that check the owner first, so a process that lost the lease (paused past its TTL) can never
extend or delete the new leader's lease (rq-scheduler releases its lock without that check).
"""

from __future__ import annotations

from redis import Redis

ACQUIRE_OR_RENEW = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
elseif not current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
return 0
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class Lease:
    """Owner-checked leadership of ``key`` for ``name``, lasting ``ttl`` seconds per renewal."""

    def __init__(self, connection: Redis, key: str, name: str, ttl: float) -> None:
        self.connection = connection
        self.key = key
        self.name = name
        self.ttl_ms = max(1, int(ttl * 1000))
        self._acquire = connection.register_script(ACQUIRE_OR_RENEW)
        self._release = connection.register_script(RELEASE)

    def hold(self) -> bool:
        """Acquire or renew; True while we lead."""
        return bool(self._acquire(keys=[self.key], args=[self.name, self.ttl_ms]))

    def release(self) -> bool:
        """Give the lease up if we still hold it, so a follower takes over at once."""
        return bool(self._release(keys=[self.key], args=[self.name]))
