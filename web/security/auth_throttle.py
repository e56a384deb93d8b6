"""Slowing down credential guessing: failed logins and wrong bearer tokens, counted per client address.

Each kind of failure (browser login, API bearer token) has a counter per address that lives
``window`` seconds from the first failure, and a block key. Once an address has failed
``max_failures`` times, every further failure sets a block of ``2 ** (failures - max_failures)``
seconds (at most ``max_block``); while the block lasts the address is answered 429 with
``Retry-After`` before any token is even looked at, so the right token waits too.

A success never resets the count: the failures were made with *other* secrets, and letting any valid
token (a viewer's, say) wipe them would let its holder guess an admin's token without limit. The
count simply expires ``window`` seconds after the first failure.

Counting is one Lua script (``INCR``, ``EXPIRE`` only when the key has no TTL yet, and the block's
``SET EX``), so it is atomic and works on every server we support, Redis 6.2 included: no
``EXPIRE ... NX``, which Redis 6.2 lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redis import Redis

COUNT_FAILURE = """
local failures = redis.call('INCR', KEYS[1])
if redis.call('TTL', KEYS[1]) < 0 then
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[1]))
end
local block = 0
if failures >= tonumber(ARGV[2]) then
  block = math.min(2 ^ (failures - tonumber(ARGV[2])), tonumber(ARGV[3]))
  redis.call('SET', KEYS[2], '1', 'EX', block)
end
return {failures, block}
"""


@dataclass(frozen=True)
class FailureThrottle:
    """One kind of credential failure, counted per address in Redis (see the module docstring)."""

    connection: Redis
    failures_key: Callable[[str], str]
    block_key: Callable[[str], str]
    max_failures: int  # failures from one address before each further one imposes a wait
    window: int  # seconds failures are remembered, from the first one
    max_block: int  # longest wait, in seconds

    def wait(self, address: str) -> int:
        """Seconds ``address`` must still wait before its next attempt is even checked (0: go ahead)."""
        ttl = self.connection.ttl(self.block_key(address))
        return max(int(ttl), 0) if isinstance(ttl, int) else 0

    def record_failure(self, address: str) -> int:
        """Count a failure from ``address``; return the wait it now imposes (0: none yet)."""
        script = self.connection.register_script(COUNT_FAILURE)
        keys = [self.failures_key(address), self.block_key(address)]
        _failures, block = script(keys=keys, args=[self.window, self.max_failures, self.max_block])
        return int(block)
