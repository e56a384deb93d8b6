"""`make run`'s launcher on a machine where nothing answers at REDIS_URL: it starts Redis and every
Procfile process, a job posted over HTTP finishes, and Ctrl-C leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from jobs.redis_server import answers, free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def processes_with_env(marker: str) -> list[int]:
    """PIDs of live processes whose environment contains ``marker`` (our unique REDIS_URL)."""
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


def wait_for(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_make_run_brings_everything_up_and_down(tmp_path: Path) -> None:
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "TASK_MODULES": "tests.fixtures",
        "PYTHONPATH": str(ROOT),
        "JOB_CONCURRENCY": "1",
        "WEB_CONCURRENCY": "1",
    }
    assert not answers(redis_url)
    launcher = subprocess.Popen(
        [sys.executable, "-m", "jobs.launcher"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        assert launcher.stdout is not None
        first_line = launcher.stdout.readline()
        assert first_line.startswith("taskyard: generated ADMIN_TOKEN=")
        token = first_line.split("=", 1)[1].split()[0]
        assert f"ADMIN_TOKEN={token}" in (tmp_path / ".env").read_text()
        headers = {"Authorization": f"Bearer {token}"}

        def healthy() -> bool:
            try:
                body = requests.get(f"{base}/healthz", timeout=1).json()
            except (requests.RequestException, ValueError):
                return False
            return body["status"] == "ok"

        wait_for(healthy, 60, "web, worker and scheduler to report healthy")
        job = requests.post(f"{base}/api/v1/jobs", json={"task": "system.echo", "kwargs": {"hi": 1}},
                            headers=headers, timeout=5).json()  # fmt: skip
        later = requests.post(f"{base}/api/v1/jobs", json={"task": "tests.add", "args": [2, 3],
                              "delay_seconds": 1}, headers=headers, timeout=5).json()  # fmt: skip

        def finished(url: str):  # type: ignore[no-untyped-def]
            body = requests.get(base + url, headers=headers, timeout=5).json()
            return body if body["status"] == "finished" else None

        assert wait_for(lambda: finished(job["url"]), 30, "the echo job")["result"] == {"hi": 1}
        assert wait_for(lambda: finished(later["url"]), 30, "the delayed job")["result"] == 5
        assert processes_with_env(redis_url)
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=40)
        finally:
            if launcher.poll() is None:
                launcher.kill()
            output = launcher.stdout.read() if launcher.stdout else ""
            if launcher.stdout:
                launcher.stdout.close()
    assert launcher.returncode is not None, output
    wait_for(lambda: not processes_with_env(redis_url), 15, "every process to exit")
    assert not answers(redis_url)
