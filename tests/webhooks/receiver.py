"""A webhook receiver on loopback, as a platform would run one: every delivery is verified with
the reference `standardwebhooks` library against each secret the test gave it, and the receiver
answers what the test scripts (a status, or holding the request open)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import standardwebhooks.webhooks as library
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    verified_by: list[str]  # the secrets (of those the receiver knows) whose signature checks out
    at: float  # time.monotonic() when it arrived

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def payload(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.body)
        return loaded

    @property
    def type(self) -> str:
        return str(self.payload["type"])

    @property
    def signatures(self) -> list[str]:
        return self.headers["webhook-signature"].split(" ")


@dataclass
class Receiver:
    """`answers` is used up first (a status, or `HOLD`), then `default` answers."""

    secrets: list[str] = field(default_factory=list)
    answers: deque[int | str] = field(default_factory=deque)
    default: int = 200
    received: list[Delivery] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = receiver._arrived(headers, body)
                if answer == HOLD:
                    receiver.released.wait(30)
                    answer = receiver.default
                self.send_response(int(answer))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/flint"

    def _arrived(self, headers: dict[str, str], body: bytes) -> int | str:
        verified = []
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
                verified.append(secret)
            except WebhookVerificationError:
                pass
        with self._lock:
            self.received.append(Delivery(headers, body, verified, time.monotonic()))
            return self.answers.popleft() if self.answers else self.default

    def ids(self) -> list[str]:
        return [d.id for d in self.received]

    def wait_for(self, count: int, timeout: float = 10) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.received) >= count:
                return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"{len(self.received)} deliveries arrived, not {count}")

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


HOLD = "hold"  # keep the request open until `released` is set (or 30 s pass)


class DeadEndpoint:
    """Accepts connections and never answers: every attempt to it waits out its timeout."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.held: list[socket.socket] = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks"

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        for conn in self.held:
            conn.close()
        self.sock.close()


@contextmanager
def verifying_at(now: Callable[[], datetime]) -> Iterator[None]:
    """The library checks `webhook-timestamp` against its own clock (5 minutes either way); a test
    that moves the server's clock moves the receiver's with it."""

    class Moved(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Moved:  # type: ignore[override]
            moment = now()
            return cls.fromtimestamp(moment.timestamp(), tz)

    real = library.datetime
    library.datetime = Moved  # type: ignore[misc]
    try:
        yield
    finally:
        library.datetime = real  # type: ignore[misc]
