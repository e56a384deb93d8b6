"""`make run`: bring up the whole platform on one machine, Redis included.

1. Load ``.env``; when ``ADMIN_TOKEN``, ``SECRET_KEY`` or ``LOCAL_REDIS_PASSWORD`` is unset, generate
   it, keep it in ``.env`` (git-ignored, mode 0600) and print the admin token once.
2. If nothing answers at ``REDIS_URL`` and it names this machine, start a server there (see
   :mod:`jobs.local.redis_server` for which binary) with append-only persistence in ``.run/redis`` (``.run``
   is mode 0700: the AOF holds job arguments and session ids) and ``LOCAL_REDIS_PASSWORD`` as its
   password, which goes into the ``REDIS_URL`` the processes get. A remote URL that does not answer is
   an error; so is a server older than :data:`jobs.server_version.MIN_SERVER_VERSION`.
3. Refuse a ``PORT`` already in use with one line, print where to open the console and how to log in,
   then run every Procfile process with honcho in the foreground. Ctrl-C or SIGTERM stops honcho
   (which stops its processes) and then the server we started; nothing is left behind.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from dotenv import dotenv_values

from jobs.connection import connect_url
from jobs.local.redis_server import RedisServer, RedisUnavailable, answers
from jobs.server_version import server_problem
from jobs.settings import load_or_exit

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def ensure_secrets(env_file: Path, environ: dict[str, str]) -> None:
    """Fill ADMIN_TOKEN, SECRET_KEY and LOCAL_REDIS_PASSWORD from ``env_file``, or generate and append
    them there (the file is mode 0600)."""
    stored = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.exists() else {}
    for key, value in stored.items():
        environ.setdefault(key, value)
    generated: dict[str, str] = {}
    for key in ("ADMIN_TOKEN", "SECRET_KEY", "LOCAL_REDIS_PASSWORD"):
        if not environ.get(key):
            generated[key] = environ[key] = secrets.token_urlsafe(32)
    if generated:
        with env_file.open("a") as handle:
            for key, value in generated.items():
                handle.write(f"{key}={value}\n")
        env_file.chmod(0o600)
    if "ADMIN_TOKEN" in generated:
        print(f"taskyard: generated ADMIN_TOKEN={generated['ADMIN_TOKEN']} (kept in {env_file})", flush=True)


def with_password(url: str, password: str) -> str:
    """``url`` with ``password`` as its credentials (a local redis:// URL without any)."""
    parts = urlsplit(url)
    netloc = f":{password}@{parts.netloc.rsplit('@', 1)[-1]}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def ensure_redis(url: str, data_dir: Path, password: str) -> tuple[str, RedisServer | None]:
    """The URL the processes should use, and the server we started (None when one already answered).

    A local URL without credentials gets ``password``: the server we start requires it, and one we
    started earlier (still running after a killed launcher) answers only with it."""
    parts = urlsplit(url)
    local = parts.scheme == "redis" and parts.hostname in LOCAL_HOSTS
    guarded = with_password(url, password) if local and not parts.password else url
    for candidate in dict.fromkeys((url, guarded)):
        if answers(candidate):
            return candidate, None
    if not local:
        raise RedisUnavailable(f"nothing answers at REDIS_URL={url} and it is not a local redis:// URL")
    print(f"taskyard: no Redis at {url}; starting one (data in {data_dir})", flush=True)
    data_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    data_dir.parent.chmod(0o700)
    server = RedisServer(parts.port or 6379, data_dir, appendonly=True, password=parts.password or password)
    return guarded, server.start()


def port_in_use(port: int) -> bool:
    """True when something already listens on ``port`` (the web process binds 0.0.0.0:port)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def main() -> int:
    """Entry point of `make run`; returns honcho's exit status."""
    root = Path.cwd()  # where .env and .run/ live
    procfile = Path(__file__).resolve().parents[2] / "Procfile"
    environ = dict(os.environ)
    # The Procfile says `python`: make it this interpreter (the project's virtualenv).
    environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), environ.get("PATH", "")])
    ensure_secrets(root / ".env", environ)
    settings = load_or_exit(environ)
    if port_in_use(settings.web.port):
        print(
            f"taskyard: port {settings.web.port} is already in use; stop what uses it or set PORT",
            file=sys.stderr,
        )
        return 1
    try:
        url, server = ensure_redis(
            settings.redis.url, root / ".run" / "redis", environ["LOCAL_REDIS_PASSWORD"]
        )
    except RedisUnavailable as error:
        print(f"taskyard: {error}", file=sys.stderr)
        return 1
    environ["REDIS_URL"] = url
    client = connect_url(url)
    problem = server_problem(client)
    client.close()
    if problem:
        print(f"taskyard: {problem}", file=sys.stderr)
        if server is not None:
            server.stop()
        return 2
    print(
        f"taskyard: open http://127.0.0.1:{settings.web.port}/ — log in with ADMIN_TOKEN from {root / '.env'}",
        flush=True,
    )
    honcho = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "honcho",
            "start",
            "-f",
            str(procfile),
            "-e",
            os.devnull,
            "-p",
            str(settings.web.port),
        ],
        env=environ,
        # honcho gets its own process group: a terminal's Ctrl-C reaches only us, and we hand honcho
        # exactly one signal. Sent to the whole group, honcho got it twice (the terminal's and ours), and
        # its handler, re-entered while printing, crashed and left the processes running.
        process_group=0,
    )
    forwarded = False

    def forward(signum: int, _frame: FrameType | None) -> None:
        """First Ctrl-C/SIGTERM: ask honcho to stop its processes. A second one: kill them all now."""
        nonlocal forwarded
        if honcho.poll() is not None:
            return
        if not forwarded:
            forwarded = True
            honcho.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)
        else:
            os.killpg(honcho.pid, signal.SIGKILL)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        status = honcho.wait()
    finally:
        if server is not None:
            server.stop()
            print("taskyard: stopped the Redis we started", flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
