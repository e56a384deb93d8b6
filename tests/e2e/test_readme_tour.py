"""The README's five-minute tour, run as written against `make run` on a fresh start.

The shell block under "A five-minute tour" is taken from README.md and run by bash, unchanged except for
the port in its ``URL=`` line, in the directory where `make run`'s launcher keeps its fresh ``.env``.
What the tour's comments promise is asserted on its output: the dedupe example answers 201 then 200,
the Idempotency-Key example replays the same job, bad input is a 400, and so on.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from jobs.local.redis_server import answers, free_port
from tests.waiting import wait_for

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
URL_LINE = "URL=http://127.0.0.1:5000\n"


def tour_block() -> str:
    """The first ```sh block after the tour's heading in README.md."""
    readme = (ROOT / "README.md").read_text()
    after = readme.split("## A five-minute tour", 1)[1]
    return after.split("```sh\n", 1)[1].split("```", 1)[0]


def test_the_tour_starts_with_the_url_the_launcher_serves() -> None:
    assert tour_block().startswith(URL_LINE)


def test_the_readme_tour_runs_as_written(tmp_path: Path) -> None:
    for tool in ("curl", "bash", "python3"):
        if shutil.which(tool) is None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"{tool} is not installed; the README tour needs it")
            pytest.skip(f"{tool} is not installed; the README tour needs it")
    redis_url = f"redis://127.0.0.1:{free_port()}/0"
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REDIS_URL": redis_url,
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
        "JOB_CONCURRENCY": "1",
        "WEB_CONCURRENCY": "1",
    }
    assert not answers(redis_url)
    log = (tmp_path / "launcher.log").open("w")
    launcher = subprocess.Popen(
        [sys.executable, "-m", "jobs.local.launcher"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            try:
                return bool(requests.get(f"{base}/healthz", timeout=1).json()["status"] == "ok")
            except (requests.RequestException, ValueError, KeyError):
                return False

        wait_for(healthy, 60, "web, worker and scheduler to report healthy")
        script = tour_block().replace(URL_LINE, f"URL={base}\n", 1)
        run = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        out = run.stdout
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr, run.stderr

        # /healthz: the short answer without a token, the report with one
        assert out.startswith('{"status":"ok"}\n'), out
        assert '"workers":[{' in out and '"schedulers":[{' in out
        # the registry, a job enqueued (201 body) and read back by its id
        assert '"name":"system.echo"' in out
        ids = re.findall(r'"id":"([0-9a-f-]{36})","kwargs":\{"hello":"world"\}', out)
        assert len(ids) >= 2, out
        token = (tmp_path / ".env").read_text().split("ADMIN_TOKEN=", 1)[1].split()[0]
        headers = {"Authorization": f"Bearer {token}"}

        def finished(job_id: str) -> dict | None:
            body = requests.get(f"{base}/api/v1/jobs/{job_id}", headers=headers, timeout=5).json()
            return body if body["status"] == "finished" else None

        assert wait_for(lambda: finished(ids[1]), 30, "the tour's echo job")["result"] == {"hello": "world"}

        assert '"code":"unknown_task"' in out and " 400\n" in out
        assert '"status":"scheduled","task":"system.sleep"' in out
        assert "first call: 201\nsecond call: 200\n" in out
        assert '"id":"report-2026-11-26"' in out and '"status":"canceled"' in out

        replays = re.findall(r"HTTP/1.1 201\n(Idempotent-Replayed: true\n)?\"id\":\"([0-9a-f-]{36})\"", out)
        assert [bool(replayed) for replayed, _ in replays] == [False, True], out
        assert replays[0][1] == replays[1][1]

        assert '"deleted":true' in out
        assert '"role":"viewer"' in out and '"token":"ty_' in out
        assert '{"components":' in out
    finally:
        launcher.send_signal(signal.SIGINT)
        try:
            launcher.wait(timeout=40)
        finally:
            if launcher.poll() is None:
                launcher.kill()
            log.close()
    wait_for(lambda: not answers(redis_url), 15, "the Redis the launcher started to stop")
