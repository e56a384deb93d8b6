"""Deployable as the Procfile promises: a Heroku-style Python buildpack builds the app from the
repository's own files (``.python-version``, ``requirements.txt`` — the hashed runtime lock — and the
``Procfile``) without installing the project itself, then runs each Procfile command from the app
folder. This test does the same: a fresh virtualenv from exactly ``requirements.txt``, a clean copy of
the repository, and every Procfile process started from it against a test Redis, until a job posted
to the web process is run by the worker and the scheduler reports itself leader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from jobs.local.redis_server import free_port
from tests.conftest import ADMIN_TOKEN
from tests.e2e.repo_copy import ROOT, copy_repository, procfile_commands
from tests.waiting import wait_for

pytestmark = pytest.mark.slow


def test_app_json_declares_redis_and_the_three_process_types() -> None:
    app = json.loads((ROOT / "app.json").read_text())
    assert set(app["formation"]) == set(procfile_commands(ROOT)) == {"web", "worker", "scheduler"}
    assert any(addon["plan"].startswith("heroku-redis") for addon in app["addons"])
    assert (
        ROOT / ".python-version"
    ).read_text().strip() == f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.mark.timeout(900)  # it installs a virtualenv from requirements.txt first
def test_a_buildpack_style_build_runs_every_procfile_process(tmp_path: Path, redis_url: str) -> None:
    app_dir = copy_repository(tmp_path / "app")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", "requirements.txt"],
        cwd=app_dir, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    port = free_port()
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",  # the buildpack's python first
        "HOME": str(tmp_path),
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "SECRET_KEY": "buildpack-test-secret",
        "WEB_CONCURRENCY": "1",
        "JOB_CONCURRENCY": "1",
    }
    processes = {}
    logs = {}
    try:
        for name, command in procfile_commands(app_dir).items():
            logs[name] = tmp_path / f"{name}.log"
            with open(logs[name], "wb") as out:
                processes[name] = subprocess.Popen(
                    ["/bin/sh", "-c", command], cwd=app_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

        def health() -> dict | None:  # type: ignore[type-arg]
            try:
                body = requests.get(f"{base}/healthz", headers=auth, timeout=2).json()
            except (requests.RequestException, ValueError):
                return None
            return body if body.get("status") == "ok" else None

        wait_for(health, 90, "web, worker and scheduler to report healthy")
        job = requests.post(f"{base}/api/v1/jobs", json={"task": "system.echo", "kwargs": {"from": "buildpack"}},
                            headers=auth, timeout=10).json()  # fmt: skip

        def finished() -> dict | None:  # type: ignore[type-arg]
            body = requests.get(base + job["url"], headers=auth, timeout=10).json()
            return body if body["status"] == "finished" else None

        assert wait_for(finished, 30, "the job to run")["result"] == {"from": "buildpack"}
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited:\n{logs[name].read_text(errors='replace')[-3000:]}"
        for name in processes:
            imported_from = logs[name].read_text(errors="replace")
            assert "Traceback" not in imported_from, imported_from[-3000:]
    finally:
        for process in processes.values():
            stop_group(process)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process's whole group (the shell, the Python process, a worker pool's children) and
    wait until none is left: a worker still alive after this test would take the next test's jobs from
    the shared test Redis."""
    if group_alive(process.pid):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=40)
        wait_for(lambda: not group_alive(process.pid), 40, "the process group to exit")
    except (subprocess.TimeoutExpired, AssertionError):
        if group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        wait_for(lambda: not group_alive(process.pid), 10, "the killed process group to go")
