"""The Lua the worker runs on RQ's queues, and how to read its replies.

:data:`POP_AND_READ` is the worker's pop (:mod:`jobs.worker.round_trips`): the next id moves to its queue's
intermediate list, as RQ's own pop does, and the job hash comes back in the same call. :data:`REQUEUE_STUCK`
puts a popped, never-started id back at the front of its queue (a prefetched job handed back, or one
found by :mod:`jobs.worker.recovery`). The intermediate list's name is RQ's (``rq_compat.INTERMEDIATE_SUFFIX``).
"""

from __future__ import annotations

from typing import Any

from rq.utils import as_text

from jobs.worker.rq_compat import INTERMEDIATE_SUFFIX

# KEYS: queue keys in priority order. ARGV[1]: the job hash prefix. Returns {queue key, id, hash}.
POP_AND_READ = f"""
for _, key in ipairs(KEYS) do
  while true do
    local id = redis.call('LMOVE', key, key .. '{INTERMEDIATE_SUFFIX}', 'LEFT', 'RIGHT')
    if not id then break end
    local data = redis.call('HGETALL', ARGV[1] .. id)
    if #data > 0 then return {{key, id, data}} end
    redis.call('LREM', key .. '{INTERMEDIATE_SUFFIX}', 1, id)
  end
end
return false
"""

# KEYS[1]: an intermediate list, KEYS[2]: its queue. ARGV[1]: a job id. Puts a never-started job back.
REQUEUE_STUCK = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) > 0 then redis.call('LPUSH', KEYS[2], ARGV[1]) return 1 end
return 0
"""


def read_popped(reply: Any) -> tuple[str, str, dict[bytes, bytes]] | None:
    """(queue key, job id, job hash) from a reply of :data:`POP_AND_READ`, or None."""
    if not reply:
        return None
    flat = reply[2]
    return as_text(reply[0]), as_text(reply[1]), dict(zip(flat[::2], flat[1::2], strict=True))
