"""Doubles of our own for what localstripe cannot show.

`LosingProxy` sits between Flint and localstripe on loopback and forwards every request; told to,
it lets Stripe act on the next matching request and then keeps Stripe's answer from Flint, as a
network that drops a response would, so a test can kill Flint between Stripe's answer and
Flint's commit."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx


class LosingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.acted = threading.Event()  # the held request reached Stripe and Stripe answered
        self.release = threading.Event()
        self._hold: tuple[str, str] | None = None
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers)
                if proxy._take(self.command, self.path):
                    proxy.acted.set()
                    proxy.release.wait(120)
                    self.close_connection = True
                    return  # the answer is lost on the way back
                self.send_response(answer.status_code)
                for name in ("content-type", "request-id", "idempotency-key"):
                    if name in answer.headers:
                        self.send_header(name, answer.headers[name])
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def lose_next_answer(self, method: str, path: str) -> None:
        with self._lock:
            self._hold = (method, path)

    def _take(self, method: str, path: str) -> bool:
        with self._lock:
            if self._hold is not None and self._hold == (method, path.split("?")[0]):
                self._hold = None
                return True
            return False

    def __enter__(self) -> LosingProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
