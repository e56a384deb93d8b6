"""What a prefork work horse is running, and how it ended: shared between the horse and its worker.

The horse (:mod:`jobs.horse`) writes which job it runs into a few bytes of memory shared with its
parent (no system call, no round trip per job); the worker (:mod:`jobs.prefork`) reads them to
heartbeat, time out or judge that job, and describes the horse's exit status when it dies mid-job.
"""

from __future__ import annotations

import mmap
import os
import signal
import struct
from dataclasses import dataclass

EXIT_DONE = 64  # horse exit status: burst queues drained or max_jobs reached, the worker stops too
_SLOT = struct.Struct("<QQdd64s40s128s")  # seq, jobs done, started (epoch), timeout, job, execution, queue


@dataclass(frozen=True)
class Running:
    """The job a horse is running, as the worker sees it."""

    job_id: str
    execution_id: str
    queue: str
    started: float
    timeout: float


class Slot:
    """What the horse runs, in anonymous shared memory (a seqlock: the writer makes ``seq`` odd while
    it writes; a reader retries on an odd or changed ``seq``). Created before the fork."""

    def __init__(self) -> None:
        self._mem = mmap.mmap(-1, _SLOT.size)
        self._seq = 0

    def _write(self, done: int, running: Running | None) -> None:
        self._seq += 1
        struct.pack_into("<Q", self._mem, 0, self._seq)
        fields = (b"", b"", b"", 0.0, 0.0) if running is None else _encode(running)
        _SLOT.pack_into(self._mem, 0, self._seq, done, fields[3], fields[4], *fields[:3])
        self._seq += 1
        struct.pack_into("<Q", self._mem, 0, self._seq)

    def start(self, done: int, running: Running) -> None:
        self._write(done, running)

    def finish(self, done: int) -> None:
        self._write(done, None)

    def read(self) -> tuple[int, Running | None]:
        while True:
            seq, done, started, timeout, job, execution, queue = _SLOT.unpack_from(self._mem, 0)
            if seq % 2 == 0 and struct.unpack_from("<Q", self._mem, 0)[0] == seq:
                self._seq = max(self._seq, seq)
                break
        job_id = job.rstrip(b"\0").decode()
        if not job_id:
            return done, None
        return done, Running(
            job_id, execution.rstrip(b"\0").decode(), queue.rstrip(b"\0").decode(), started, timeout
        )


def _encode(running: Running) -> tuple[bytes, bytes, bytes, float, float]:
    return (
        running.job_id.encode(),
        running.execution_id.encode(),
        running.queue.encode(),
        running.started,
        running.timeout,
    )


def describe_exit(status: int) -> str:
    """``exit status 3`` / ``signal 9 (SIGKILL)`` for a ``waitpid`` status."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"signal {number} ({signal.Signals(number).name})"
        except ValueError:
            return f"signal {number}"
    return f"exit status {os.WEXITSTATUS(status)}"
