"""Real HTTP servers on 127.0.0.1 for tests of outbound calls (webhook receivers, OAuth token endpoints).

Each runs ``http.server`` in a thread on a free port, records every request (arrival time, path, headers,
body) and answers from a script: e.g. two 500s, then 200s.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.waiting import wait_for


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Received, int], tuple[int, dict[str, Any] | None]]


@dataclass
class Receiver:
    """A running server: ``url``, the requests it got, and the responder deciding each answer."""

    url: str
    responder: Responder
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The requests received, once there are at least ``count`` (fails after ``timeout``)."""

        def received() -> list[Received] | None:
            with self.lock:
                return list(self.requests) if len(self.requests) >= count else None

        return wait_for(received, timeout, f"{count} requests (got {len(self.requests)} so far)", every=0.02)


def fail_then_succeed(failures: int, status: int = 500) -> Responder:
    """Answer ``status`` to the first ``failures`` requests, then 200."""
    return lambda request, n: (status, {"error": "not yet"}) if n <= failures else (200, {"ok": True})


@contextmanager
def serve(responder: Responder, delay: float = 0.0) -> Iterator[Receiver]:
    """Start a receiver; stop it when the block ends."""
    receiver = Receiver("", responder)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Received(time.time(), self.path, dict(self.headers.items()), self.rfile.read(length))
            with receiver.lock:
                receiver.requests.append(request)
                number = len(receiver.requests)
            if delay:
                time.sleep(delay)
            status, body = receiver.responder(request, number)
            payload = json.dumps(body or {}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
