"""`make run` as a newcomer runs it: on a machine where nothing answers at REDIS_URL it starts a
server (the embedded Valkey when no recent redis-server is installed) and every Procfile process; a
wrong login is refused with the login page (never a 500), a job posted over HTTP finishes, and Ctrl-C
leaves no process behind."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from jobs.local.redis_server import SYSTEM_BINARIES, answers, free_port
from tests.e2e.repo_copy import copy_repository
from tests.waiting import wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def processes_with_env(marker: str) -> list[int]:
    """PIDs of live processes whose environment contains ``marker`` (our unique Redis address)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().split()[2]
                if state != "Z":
                    found.append(int(entry.name))
        except OSError:
            continue
    return found


def path_without_redis(folder: Path) -> str:
    """A PATH of one folder linking every program on today's PATH except Redis/Valkey servers: the
    machine as a newcomer has it before installing Redis."""
    folder.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            target = Path(directory) / name
            link = folder / name
            if name in SYSTEM_BINARIES or name.startswith("redis-") or link.exists():
                continue
            if target.is_file() and os.access(target, os.X_OK):
                link.symlink_to(target)
    return str(folder)


def log_in(base: str, token: str) -> requests.Session:
    """Log a requests session in through the real form (CSRF token + same origin)."""
    browser = requests.Session()
    browser.headers["Origin"] = base

    def form_token() -> str:
        page = browser.get(f"{base}/login", timeout=10).text
        found = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert found, page[:500]
        return found.group(1)

    wrong = browser.post(
        f"{base}/login", data={"token": "not-the-token", "csrf_token": form_token()}, timeout=10
    )
    assert wrong.status_code == 401, wrong.text[:500]
    assert "invalid, expired or revoked token" in wrong.text
    right = browser.post(f"{base}/login", data={"token": token, "csrf_token": form_token()}, timeout=10)
    assert right.status_code == 200 and right.url.startswith(base + "/dashboard"), right.url
    return browser


def exercise(base: str, token: str) -> None:
    """What a newcomer does first: wait for health, log in (after one wrong try), run a job now and
    one a second later."""
    headers = {"Authorization": f"Bearer {token}"}

    def healthy() -> bool:
        try:
            body = requests.get(f"{base}/healthz", headers=headers, timeout=2).json()
        except (requests.RequestException, ValueError):
            return False
        return body.get("status") == "ok"

    wait_for(healthy, 90, "web, worker and scheduler to report healthy")
    log_in(base, token)
    job = requests.post(f"{base}/api/v1/jobs", json={"task": "system.echo", "kwargs": {"hi": 1}},
                        headers=headers, timeout=10).json()  # fmt: skip
    later = requests.post(f"{base}/api/v1/jobs", json={"task": "tests.add", "args": [2, 3],
                          "delay_seconds": 1}, headers=headers, timeout=10).json()  # fmt: skip

    def finished(url: str):  # type: ignore[no-untyped-def]
        body = requests.get(base + url, headers=headers, timeout=10).json()
        return body if body["status"] == "finished" else None

    assert wait_for(lambda: finished(job["url"]), 30, "the echo job")["result"] == {"hi": 1}
    assert wait_for(lambda: finished(later["url"]), 30, "the delayed job")["result"] == 5


@pytest.fixture
def newcomer_env(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """Environment of a `make run` with a fresh Redis address; yields (env, that address)."""
    redis_port, port = free_port(), free_port()
    address = f"127.0.0.1:{redis_port}/0"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REDIS_URL": f"redis://{address}",
        "PORT": str(port),
        "TASK_MODULES": "tests.fixtures",
        "PYTHONPATH": str(ROOT),
        "JOB_CONCURRENCY": "1",
        "WEB_CONCURRENCY": "1",
    }
    assert not answers(env["REDIS_URL"])
    yield env, address
    wait_for(lambda: not processes_with_env(address), 20, "every process to exit")


def run_until_done(args: list[str], cwd: Path, env: dict[str, str], first_line: str) -> str:
    """Start the launcher, check its first line, exercise the platform, Ctrl-C it; return its output."""
    launcher = subprocess.Popen(
        args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert launcher.stdout is not None
        while True:
            line = launcher.stdout.readline()
            assert line, "the launcher exited early:\n" + "".join(lines)
            lines.append(line)
            if line.startswith(first_line):
                break
        token = line.split("=", 1)[1].split()[0]
        env_file = (cwd / ".env").read_text()
        assert f"ADMIN_TOKEN={token}" in env_file and "LOCAL_REDIS_PASSWORD=" in env_file
        assert stat.S_IMODE((cwd / ".env").stat().st_mode) == 0o600
        base = f"http://127.0.0.1:{env['PORT']}"
        for _ in range(10):  # "starting one" (and any skipped-binary line) come before it
            lines.append(launcher.stdout.readline())
            if "— log in with ADMIN_TOKEN" in lines[-1]:
                break
        assert f"open {base}/ — log in with ADMIN_TOKEN from" in lines[-1], "".join(lines)
        assert stat.S_IMODE((cwd / ".run").stat().st_mode) == 0o700
        password = re.search(r"LOCAL_REDIS_PASSWORD=(\S+)", env_file)
        assert password
        assert not answers(env["REDIS_URL"]), "the server make run starts must require its password"
        assert answers(env["REDIS_URL"].replace("redis://", f"redis://:{password.group(1)}@"))
        exercise(base, token)
    except BaseException as error:
        stop(launcher)
        raise AssertionError(
            f"{error}\n--- launcher output ---\n{''.join(lines)}{launcher.stdout.read()}"
        ) from error
    stopped = stop(launcher)
    output = "".join(lines) + launcher.stdout.read()
    launcher.stdout.close()
    assert stopped, output
    return output


def stop(launcher: subprocess.Popen[str]) -> bool:
    """Ctrl-C as a terminal sends it (to the whole process group); True when it then exited by itself."""
    os.killpg(launcher.pid, signal.SIGINT)
    try:
        launcher.wait(timeout=60)
        return True
    except subprocess.TimeoutExpired:
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait()
        return False


def test_launcher_brings_everything_up_and_down(tmp_path: Path, newcomer_env) -> None:  # type: ignore[no-untyped-def]
    env, _ = newcomer_env
    output = run_until_done(
        [sys.executable, "-m", "jobs.local.launcher"], tmp_path, env, "taskyard: generated ADMIN_TOKEN="
    )
    assert "stopped the Redis we started" in output


@pytest.mark.timeout(900)  # it installs a virtualenv from the lock first: minutes on a loaded machine
def test_make_run_on_a_fresh_copy_without_redis_installed(tmp_path: Path, newcomer_env) -> None:  # type: ignore[no-untyped-def]
    """The newcomer's path exactly: a copy of the repository with no virtualenv, `make run` with no
    redis-server or valkey-server anywhere on PATH: it installs from the lock, starts the embedded
    Valkey, and serves the login and a job."""
    env, _ = newcomer_env
    copy = copy_repository(tmp_path / "taskyard")
    env = {**env, "PATH": path_without_redis(tmp_path / "bin")}
    assert shutil.which("redis-server", path=env["PATH"]) is None
    output = run_until_done(["make", "run"], copy, env, "taskyard: generated ADMIN_TOKEN=")
    assert "valkey" in (copy / ".run" / "redis" / "redis.log").read_text(errors="replace").lower()
    assert "stopped the Redis we started" in output


def test_a_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT), "PORT": str(port),
               "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}  # fmt: skip
        done = subprocess.run([sys.executable, "-m", "jobs.local.launcher"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"taskyard: port {port} is already in use; stop what uses it or set PORT"
    ], done.stderr
    assert not (tmp_path / ".run").exists()  # nothing was started
