"""`make run`: bring up the whole platform on one machine, Redis included.

1. Load ``.env``; when ``ADMIN_TOKEN`` (or ``SECRET_KEY``) is unset, generate one, keep it in ``.env``
   (git-ignored) and print the admin token once.
2. If nothing answers at ``REDIS_URL`` and it names this machine, start a redis-server there with
   append-only persistence in ``.run/redis`` (a remote URL that does not answer is an error).
3. Run every Procfile process with honcho in the foreground. Ctrl-C or SIGTERM stops honcho (which
   stops its processes) and then the Redis we started; nothing is left behind.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from dotenv import dotenv_values

from jobs.redis_server import RedisServer, RedisUnavailable, answers
from jobs.settings import load_or_exit

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def ensure_secrets(env_file: Path, environ: dict[str, str]) -> None:
    """Fill ADMIN_TOKEN and SECRET_KEY from ``env_file`` or generate and append them there."""
    stored = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.exists() else {}
    for key, value in stored.items():
        environ.setdefault(key, value)
    generated: dict[str, str] = {}
    for key in ("ADMIN_TOKEN", "SECRET_KEY"):
        if not environ.get(key):
            generated[key] = environ[key] = secrets.token_urlsafe(32)
    if generated:
        with env_file.open("a") as handle:
            for key, value in generated.items():
                handle.write(f"{key}={value}\n")
        env_file.chmod(0o600)
    if "ADMIN_TOKEN" in generated:
        print(f"taskyard: generated ADMIN_TOKEN={generated['ADMIN_TOKEN']} (kept in {env_file})", flush=True)


def ensure_redis(url: str, data_dir: Path) -> RedisServer | None:
    """Return a RedisServer we started, or None when one already answers at ``url``."""
    if answers(url):
        return None
    parts = urlsplit(url)
    if parts.scheme != "redis" or parts.hostname not in LOCAL_HOSTS:
        raise RedisUnavailable(f"nothing answers at REDIS_URL={url} and it is not a local redis:// URL")
    print(f"taskyard: no Redis at {url}; starting one (data in {data_dir})", flush=True)
    return RedisServer(parts.port or 6379, data_dir, appendonly=True).start()


def main() -> int:
    """Entry point of `make run`; returns honcho's exit status."""
    root = Path.cwd()  # where .env and .run/ live
    procfile = Path(__file__).resolve().parents[1] / "Procfile"
    environ = dict(os.environ)
    # The Procfile says `python`: make it this interpreter (the project's virtualenv).
    environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), environ.get("PATH", "")])
    ensure_secrets(root / ".env", environ)
    settings = load_or_exit(environ)
    try:
        server = ensure_redis(settings.redis_url, root / ".run" / "redis")
    except RedisUnavailable as error:
        print(f"taskyard: {error}", file=sys.stderr)
        return 1
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
            str(settings.port),
        ],
        env=environ,
    )

    def forward(signum: int, _frame: FrameType | None) -> None:
        if honcho.poll() is None:
            honcho.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

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
