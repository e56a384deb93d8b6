"""RQ's own tests, from the sdist of the installed (pinned) rq version, run with Taskyard's worker
substituted for ``rq.Worker`` (``taskyard_rq_upstream.py``).

The sdist is downloaded by this test (``pip download --no-deps --no-binary :all: rq==<version>``, into a
cache under the system temp directory), not vendored; RQ's test suite also needs ``psutil``, installed
the same way beside it. RQ's tests run in a child pytest against a redis-server of their own, and every
test that fails must be listed in :data:`EXPECTED_FAILURES` with its reason (and :data:`NOT_RUN` says
which are left out, and why); a listed test that passes fails this test too, so the list stays short
and true. About a minute and a half on two cores.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import pytest

from jobs.local.redis_server import RedisServer, free_port

pytestmark = pytest.mark.slow

HERE = Path(__file__).resolve().parent
SUITES = ("worker", "job", "registry", "callbacks", "dependencies", "retry", "commands", "repeat")
SUITES += ("timeouts", "executions", "results")

_TTL = "Taskyard's execution TTL is JOB_ABANDON_AFTER (10 s: abandoned jobs found in seconds), not RQ's timeout + 60 s"
_MOCK = "mocks an RQ internal the prefork worker does not call (execute_job: the horse runs many jobs)"
_LOG = "checks RQ's log wording on a path the lean worker replaces (one pop, one finish transaction)"
_PORT = "starts the stock `rqworker` CLI (not our class) against a hard-coded redis://127.0.0.1:6379"
EXPECTED_FAILURES: dict[str, str] = {
    "test_worker.py::TestWorker::test_get_heartbeat_ttl": _TTL,
    "test_executions.py::TestRegistry::test_registry_cleanup": _TTL,
    "test_executions.py::TestRegistry::test_execution_added_to_started_job_registry": _TTL,
    "test_worker.py::TestWorker::test_job_dependency_race_condition": _MOCK,
    "test_worker.py::TestWorker::test_log_job_description_on_dequeue_false": _LOG,
    "test_worker.py::TestWorker::test_log_job_description_on_dequeue_true": _LOG,
    "test_worker.py::TestWorker::test_log_job_description_on_success_true": _LOG,
}
# RQ's tests that sleep a fixed time and then check a worker in another process (0.1-0.25 s for a stop
# command to land): on a loaded machine they can fail with any worker, stock RQ's too. One that fails is
# run once more, alone; it counts as failed only if it fails again.
TIMED: dict[str, str] = {
    f"test_commands.py::TestCommands::{name}": "sleeps 0.1-0.25 s, then checks the worker's state"
    for name in ("test_kill_horse_command", "test_stop_job_command", "test_stop_execution_command")
}
# Not run at all: they would start a stock worker on whatever Redis listens on port 6379 of this machine.
NOT_RUN: dict[str, str] = {
    "test_worker.py::TestWorkerSubprocess": _PORT,
}


PYTEST = [
    sys.executable,
    "-m",
    "pytest",
    "-p",
    "taskyard_rq_upstream",
    "-p",
    "no:cacheprovider",
    "-p",
    "no:warnings",
]
PYTEST += ["-q", "-o", "addopts=", "--timeout", "90"]  # RQ's own pytest options, not ours


def _cache() -> Path:
    path = Path(tempfile.gettempdir()) / "taskyard-rq-upstream" / version("rq")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}{done.stderr}"


def _upstream_tests(cache: Path) -> Path:
    """RQ's ``tests/`` package from the sdist of the installed version, unpacked once into the cache."""
    rq_version = version("rq")
    unpacked = cache / "suite"
    if not (unpacked / "tests" / "__init__.py").exists():
        sdist = cache / f"rq-{rq_version}.tar.gz"
        if not sdist.exists():
            _pip("download", "--no-deps", "--no-binary", ":all:", f"rq=={rq_version}", "-d", str(cache))
        prefix = f"rq-{rq_version}/tests/"
        with tarfile.open(sdist) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
            for member in members:
                member.name = member.name[len(f"rq-{rq_version}/") :]
            archive.extractall(unpacked, members=members, filter="data")
    if not (cache / "deps" / "psutil").exists():
        _pip(
            "install", "--target", str(cache / "deps"), "psutil==7.2.2"
        )  # what RQ 3.0 tests were run with here
    return unpacked


def _failures(report: Path) -> dict[str, str]:
    """``file::Class::test`` -> first line of the failure, for every failed or erroring test."""
    failed = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        if problem is None:
            continue
        module = case.get("classname", "").rsplit(".", 1)
        name = f"{module[0].removeprefix('tests.')}.py::{module[-1]}::{case.get('name')}"
        failed[name] = (problem.get("message") or "").splitlines()[0][:200] if problem.get("message") else ""
    return failed


@pytest.mark.timeout(900)
def test_rqs_own_suites_pass_with_our_worker(tmp_path: Path) -> None:
    cache = _cache()
    suite = _upstream_tests(cache)
    server = RedisServer(free_port(), tmp_path / "redis").start()
    report = tmp_path / "upstream.xml"
    env = {
        **os.environ,
        "PYTHONPATH": f"{HERE}{os.pathsep}{cache / 'deps'}",
        "TASKYARD_UPSTREAM_REDIS_PORT": str(server.port),
        "RQ_ALLOWED_FUNCTIONS": "*",  # RQ's tests enqueue their fixtures and builtins by path
    }
    files = [f"tests/test_{name}.py" for name in SUITES]
    deselect = [arg for name in NOT_RUN for arg in ("--deselect", f"tests/{name}")]

    def run(report: Path, *targets: str) -> dict[str, str]:
        done = subprocess.run(
            [*PYTEST, f"--junitxml={report}", *targets],
            cwd=suite,
            env=env,
            capture_output=True,
            text=True,
            timeout=840,
        )
        assert report.exists(), done.stdout[-3000:] + done.stderr[-3000:]
        return _failures(report)

    try:
        failed = run(report, *deselect, *files)
        again = sorted(name for name in failed if name in TIMED)
        if again:
            print("run again (timed):", ", ".join(again))
            still = run(tmp_path / "again.xml", *(f"tests/{name}" for name in again))
            failed = {name: why for name, why in failed.items() if name not in again or name in still}
    finally:
        server.stop()
    unexpected = {name: why for name, why in failed.items() if name not in EXPECTED_FAILURES}
    now_passing = sorted(set(EXPECTED_FAILURES) - set(failed))
    assert not unexpected, "RQ's tests failing with our worker:\n" + "\n".join(
        f"{n}: {w}" for n, w in unexpected.items()
    )
    assert not now_passing, "listed as expected failures but passing (remove them): " + ", ".join(now_passing)
