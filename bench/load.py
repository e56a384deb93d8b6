"""Load on the REST API: concurrent clients POSTing /api/v1/jobs to the real web process, beside the
same number of threads enqueuing straight through ``rq.Queue.enqueue``.

The web process is the Procfile's (``python -m web.server``: gunicorn, ``WEB_CONCURRENCY`` workers of
4 threads each, its default unless the environment sets it). Clients are threads of this process, each
with one keep-alive HTTP connection (``http.client``, the lightest client, so the load generator takes
as little of the 2 cores as it can); every request is a full enqueue (auth, validation, registry,
retry policy, RQ). Latency is per request, measured by the client. No worker runs: the queue only
grows, and at the end its length must equal the requests that answered 201.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Callable, Sequence

from redis import Redis
from rq import Queue

from bench.common import TOKEN, percentile, start_web, stop, table
from jobs.connection import connect_url
from jobs.local.redis_server import free_port

NOOP = "jobs.builtin.system.noop"
BODY = json.dumps({"task": "system.noop"})
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


class Tally:
    """Latencies (ms) and errors gathered from every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.errors = 0
        self.first_error: str | None = None

    def add(self, latencies: list[float], errors: int, first_error: str | None) -> None:
        with self.lock:
            self.latencies.extend(latencies)
            self.errors += errors
            self.first_error = self.first_error or first_error


def _drive(clients: int, seconds: float, make_call: Callable[[], Callable[[], None]]) -> tuple[Tally, float]:
    """Run ``clients`` threads, each calling its own ``make_call()`` in a loop for ``seconds``; a call
    raises on failure. Returns the tally and the wall time taken."""
    tally = Tally()
    start_line = threading.Barrier(clients + 1)

    def client() -> None:
        call = make_call()
        latencies: list[float] = []
        errors, first_error = 0, None
        start_line.wait()
        deadline = time.perf_counter() + seconds
        while (began := time.perf_counter()) < deadline:
            try:
                call()
                latencies.append((time.perf_counter() - began) * 1000)
            except Exception as error:  # counted, and the first one is shown under the table
                errors += 1
                first_error = first_error or f"{type(error).__name__}: {error}"
        tally.add(latencies, errors, first_error)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(seconds + 60)
    return tally, time.perf_counter() - began


def _api_call(port: int) -> Callable[[], None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def call() -> None:
        try:
            connection.request("POST", "/api/v1/jobs", body=BODY, headers=HEADERS)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()  # reconnect on the next call
            raise
        if response.status != 201:
            raise RuntimeError(f"HTTP {response.status}: {payload[:200]!r}")

    return call


def api_load(connection: Redis, url: str, clients: Sequence[int] = (8, 16), seconds: float = 5.0) -> str:
    """Enqueue rate, latency and errors: for each count in ``clients``, that many threads for ``seconds``
    against the web process, then as many threads calling ``Queue.enqueue`` on the same Redis."""
    workers = os.environ.get("WEB_CONCURRENCY", "2 (default)")
    api_label = f"POST /api/v1/jobs (web: {workers} gunicorn workers x 4 threads)"
    port = free_port()
    rows = []
    connection.flushall()
    process = start_web(url, port)
    try:
        _drive(4, 1.0, lambda: _api_call(port))  # warm up every gunicorn worker: imports, connections
        for count in clients:
            connection.flushall()
            tally, took = _drive(count, seconds, lambda: _api_call(port))
            rows.append(_row(api_label, count, tally, took, connection))
    finally:
        stop([process])
    shared = connect_url(url)  # one client (a connection pool), shared by the threads as an app would
    queue = Queue("default", connection=shared)
    for count in clients:
        connection.flushall()
        tally, took = _drive(count, seconds, lambda: lambda: queue.enqueue(NOOP) and None)
        rows.append(_row("rq Queue.enqueue, straight to Redis", count, tally, took, connection))
    connection.flushall()
    header = (
        "path",
        "client threads",
        "enqueued",
        "jobs/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "queue length after",
    )
    return table(f"REST API load: concurrent clients for {seconds:g} s each, loopback", header, rows)


def _row(label: str, clients: int, tally: Tally, took: float, connection: Redis) -> tuple[object, ...]:
    done = len(tally.latencies)
    suffix = f" ({tally.first_error})" if tally.first_error else ""
    return (
        label,
        clients,
        done,
        round(done / took),
        f"{percentile(tally.latencies, 50):.2f}",
        f"{percentile(tally.latencies, 99):.2f}",
        f"{tally.errors}{suffix}",
        connection.llen("rq:queue:default"),
    )
