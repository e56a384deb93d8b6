"""What a prefork work horse is running, and how it ended: shared between the horse and its worker.

The horse (:mod:`jobs.worker.horse`) writes which job it runs into memory shared with its parent (no system
call, no round trip per job); the worker (:mod:`jobs.worker.prefork`) reads it to heartbeat, time out or judge
that job, and describes the horse's exit status when it dies mid-job.

RQ puts no bound on a job id's length, so the slot holds ids of any length: ids up to
:data:`ID_CAPACITY` bytes are written into the shared pages (untouched pages cost no memory), a longer
id is recorded by its length only and the worker finds it from the execution id in the worker's
executions set in Redis (see :meth:`jobs.worker.prefork.PreforkWorker.job_id_of`). The queue is not stored:
it is the job's ``origin``.
"""

from __future__ import annotations

import mmap
import os
import signal
import struct
from dataclasses import dataclass

EXIT_DONE = 64  # horse exit status: burst queues drained or max_jobs reached, the worker stops too
ID_CAPACITY = 4096  # longest job id (bytes) kept in shared memory; longer ones are looked up in Redis
_HEAD = struct.Struct("<QQddQ64s")  # seq, jobs done, started (epoch), timeout, job id length, execution


@dataclass(frozen=True)
class Running:
    """The job a horse is running, as the worker sees it. ``job_id`` is None when the id was too long
    for the slot: find it by ``execution_id``."""

    job_id: str | None
    execution_id: str
    started: float
    timeout: float


class Slot:
    """What the horse runs, in anonymous shared memory (a seqlock: the writer makes ``seq`` odd while
    it writes; a reader retries on an odd or changed ``seq``). Created before the fork."""

    def __init__(self) -> None:
        self._mem = mmap.mmap(-1, _HEAD.size + ID_CAPACITY)
        self._seq = 0

    def _write(self, done: int, running: Running | None) -> None:
        self._seq += 1
        struct.pack_into("<Q", self._mem, 0, self._seq)
        if running is None:
            _HEAD.pack_into(self._mem, 0, self._seq, done, 0.0, 0.0, 0, b"")
        else:
            job = (running.job_id or "").encode()
            execution = running.execution_id.encode()
            _HEAD.pack_into(
                self._mem, 0, self._seq, done, running.started, running.timeout, len(job), execution
            )
            if len(job) <= ID_CAPACITY:
                self._mem[_HEAD.size : _HEAD.size + len(job)] = job
        self._seq += 1
        struct.pack_into("<Q", self._mem, 0, self._seq)

    def start(self, done: int, running: Running) -> None:
        self._write(done, running)

    def finish(self, done: int) -> None:
        self._write(done, None)

    def read(self) -> tuple[int, Running | None]:
        while True:
            seq, done, started, timeout, length, execution = _HEAD.unpack_from(self._mem, 0)
            job = self._mem[_HEAD.size : _HEAD.size + length] if 0 < length <= ID_CAPACITY else b""
            if seq % 2 == 0 and struct.unpack_from("<Q", self._mem, 0)[0] == seq:
                self._seq = max(self._seq, seq)
                break
        if not length:
            return done, None
        job_id = job.decode() if length <= ID_CAPACITY else None
        return done, Running(job_id, execution.rstrip(b"\0").decode(), started, timeout)


def describe_exit(status: int) -> str:
    """``exit status 3`` / ``signal 9 (SIGKILL)`` for a ``waitpid`` status."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"signal {number} ({signal.Signals(number).name})"
        except ValueError:
            return f"signal {number}"
    return f"exit status {os.WEXITSTATUS(status)}"
