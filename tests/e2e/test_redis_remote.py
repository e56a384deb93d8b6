"""REDIS_URL beyond one machine: ``rediss://`` against a local TLS redis-server with a self-signed
certificate, and ``redis+sentinel://`` through a real Sentinel (including a fail-over to a replica).
Jobs are enqueued over the API and run by the Procfile's real worker process."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import ConnectionError, RedisError, ResponseError

from jobs.connection import connect_url
from jobs.local.launcher import ensure_redis
from jobs.local.redis_server import RedisUnavailable, answers, free_port
from jobs.settings import load_settings
from tests.conftest import ADMIN_TOKEN, TEST_ENV
from tests.e2e.fault_support import Proc, private_redis, wait_for
from tests.tools import require, require_system_redis
from web import create_app

pytestmark = pytest.mark.slow
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@contextmanager
def _process(args: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def tls_redis(folder: Path) -> Iterator[str]:
    """A TLS-only redis-server with a fresh self-signed certificate for 127.0.0.1; yields its
    ``rediss://`` URL, which trusts exactly that certificate."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    args = [
        require_system_redis(), "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
        "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", str(folder),
    ]  # fmt: skip
    with _process(args, folder / "redis.log") as process:
        url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={cert}"
        wait_for(lambda: answers(url, timeout=0.5) or process.poll() is not None, 10, "the TLS server")
        if process.poll() is not None:
            log = (folder / "redis.log").read_text(errors="replace")
            if "tls" in log.lower():  # a build without TLS refuses the tls-* directives
                require(
                    False, f"no TLS-capable redis-server ({require_system_redis()}): {log.strip()[-200:]}"
                )
            raise AssertionError(f"the TLS redis-server exited: {log[-2000:]}")
        yield url


@contextmanager
def sentinel(folder: Path, master_port: int) -> Iterator[int]:
    """A Sentinel watching the master on ``master_port`` as ``mymaster`` (quorum 1); yields its port."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = folder / "sentinel.conf"  # Sentinel rewrites its config file: it must be writable
    config.write_text(
        f"port {port}\nbind 127.0.0.1\ndaemonize no\ndir {folder}\n"
        f"sentinel monitor mymaster 127.0.0.1 {master_port} 1\n"
        "sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n"
    )
    with _process([require_system_redis(), str(config), "--sentinel"], folder / "sentinel.log"):
        probe = Redis(port=port, socket_timeout=0.5, socket_connect_timeout=0.5)
        wait_for(lambda: _master_of(probe), 10, "the sentinel to know its master")
        yield port
        probe.close()


def _failover(probe: Redis) -> bool:
    """Ask for a fail-over; False while Sentinel knows no replica fit to promote yet."""
    try:
        probe.execute_command("SENTINEL", "FAILOVER", "mymaster")
    except ResponseError as error:
        if "NOGOODSLAVE" in str(error):
            return False
        raise
    return True


def _announced_master(probe: Redis) -> int | None:
    """The master's port as SENTINEL MASTERS reports it (what clients use), once the switch is done."""
    state = probe.sentinel_masters().get("mymaster")
    return int(state["port"]) if state and state["is_master"] and not state["is_sdown"] else None


def _is_replica(client: Redis) -> bool:
    """Whether ``client``'s server is a replica now. Sentinel demotes an old master with REPLICAOF plus
    ``CLIENT KILL TYPE normal`` (so clients reconnect through it): a dropped connection is "not yet"."""
    try:
        return bool(client.info("replication")["role"] == "slave")
    except ConnectionError:
        return False


def _master_of(probe: Redis) -> tuple[str, int] | None:
    try:
        found = probe.sentinel_get_master_addr_by_name("mymaster")
    except (RedisError, OSError):
        return None
    return (found[0].decode() if isinstance(found[0], bytes) else found[0], int(found[1])) if found else None


@contextmanager
def api_and_worker(url: str, log: Path) -> Iterator[Callable[[int], dict]]:
    """The API (``create_app`` with ``REDIS_URL=url``) and the Procfile's real worker on the same URL;
    yields ``run(n)``: enqueue ``tests.add(n, 1)`` over the API and return the finished job's view."""
    settings = load_settings({**TEST_ENV, "REDIS_URL": url})
    connection = connect_url(url)
    client = create_app(settings, connection).test_client()
    worker = Proc("jobs.worker", url, log, JOB_CONCURRENCY="1")

    def run(n: int) -> dict:
        created = wait_for(  # a request that meets a connection to a demoted master is a 503: retry
            lambda: (
                (
                    r := client.post(
                        "/api/v1/jobs", headers=AUTH, json={"task": "tests.add", "kwargs": {"a": n, "b": 1}}
                    )
                ).status_code
                == 201
                and r
            ),
            10,
            "the API to enqueue",
        )
        job_url = created.get_json()["url"]
        return wait_for(
            lambda: (
                (view := client.get(job_url, headers=AUTH).get_json()).get("status") == "finished" and view
            ),
            30,
            f"job {n} to run",
        )

    try:
        yield run
        assert worker.popen.poll() is None, worker.output()[-3000:]
    finally:
        worker.stop()
        connection.close()


def test_rediss_url_enqueues_and_runs_over_tls(tmp_path: Path) -> None:
    require(shutil.which("openssl") is not None, "no openssl to make a self-signed certificate")
    with tls_redis(tmp_path / "tls") as url:
        plain = url.replace("rediss://", "redis://").split("?")[0]
        assert not answers(plain, timeout=0.5), "the server must speak TLS only"
        with api_and_worker(url, tmp_path / "tls-worker.log") as run:
            assert run(6)["result"] == 7
        insecure = url.split("?")[0] + "?ssl_cert_reqs=none"  # the README's form for self-signed certificates
        assert answers(insecure)
        # The launcher never starts a local Redis for a rediss:// URL: it uses the one that answers.
        assert ensure_redis(url, tmp_path / "unused", "pw") == (url, None)
    with pytest.raises(RedisUnavailable, match="not a local redis://"):
        ensure_redis(url, tmp_path / "unused", "pw")
    assert not (tmp_path / "unused").exists()


def test_sentinel_url_enqueues_runs_and_follows_a_fail_over(tmp_path: Path) -> None:
    with (
        private_redis(tmp_path / "master", binary=require_system_redis()) as master,
        private_redis(tmp_path / "replica", binary=require_system_redis()) as replica,
    ):
        replica_client = connect_url(replica.url)
        replica_client.replicaof("127.0.0.1", master.port)
        wait_for(
            lambda: replica_client.info("replication").get("master_link_status") == "up", 10, "replication"
        )
        with (
            sentinel(tmp_path / "sentinel", master.port) as sentinel_port,
            api_and_worker(
                f"redis+sentinel://127.0.0.1:{sentinel_port}/mymaster/0", tmp_path / "worker.log"
            ) as run,
        ):
            url = f"redis+sentinel://127.0.0.1:{sentinel_port}/mymaster/0"
            assert run(1)["result"] == 2
            assert connect_url(master.url).dbsize() > 0  # it went to the master Sentinel named
            assert ensure_redis(url, tmp_path / "unused", "pw") == (url, None)

            # Fail-over while the API and the worker run: the replica becomes the master, and both follow
            # it through the same URL without a restart.
            probe = Redis(port=sentinel_port, socket_timeout=2)
            wait_for(lambda: _failover(probe), 20, "Sentinel to accept the fail-over")
            wait_for(lambda: _announced_master(probe) == replica.port, 20, "the switch to the new master")
            old_master = connect_url(master.url)
            # Until Sentinel demotes the old master, clients still connected to it keep writing there
            # (Redis's asynchronous replication; min-replicas-to-write narrows that window).
            wait_for(lambda: _is_replica(old_master), 25, "the old master's demotion")
            job = run(2)
            assert job["result"] == 3
            assert replica_client.info("replication")["role"] == "master"
            assert replica_client.exists(f"rq:job:{job['id']}"), "the job did not go to the new master"
            old_master.close()
            probe.close()
        replica_client.close()
        assert not (tmp_path / "unused").exists()
    with pytest.raises(RedisUnavailable, match="not a local redis://"):
        ensure_redis(url, tmp_path / "unused", "pw")
