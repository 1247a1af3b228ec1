"""The wire to an endpoint: the request goes to the address that was checked, never to a second DNS
answer, with the endpoint's host name in `Host` and in TLS's SNI, and its certificate verified for
that name; a timeout is a failed attempt, not a hang."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from server.webhooks import rules, sending
from server.webhooks.sending import HttpSender, UrlPolicy
from tests.webhooks.receiver import DeadEndpoint


@dataclass
class TlsEndpoint:
    """An https endpoint on loopback whose certificate names `hooks.test`."""

    cert: Path
    port: int = 0
    sni: list[str | None] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def endpoint(tmp_path: Path) -> Iterator[TlsEndpoint]:
    cert, key = _certificate(tmp_path, "hooks.test")
    made = TlsEndpoint(cert)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", "0")))
            made.hosts.append(self.headers["host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: made.sni.append(name)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    made.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield made
    server.shutdown()
    server.server_close()


def _trusting(cert: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    return context


async def test_the_checked_address_is_called_with_the_name_in_host_and_sni(
    endpoint: TlsEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([["127.0.0.1"], ["10.66.0.1"]])  # a second lookup would point elsewhere

    async def resolver(host: str, port: int) -> list[str]:
        assert host == "hooks.test"
        return next(answers)

    # Loopback stands in for a public address here: what is checked is where the request goes.
    monkeypatch.setattr(sending.rules, "check_addresses", lambda target, addresses: None)
    sender = HttpSender(UrlPolicy(allow_private=False, resolver=resolver), verify=_trusting(endpoint.cert))
    try:
        url = f"https://hooks.test:{endpoint.port}/flint"
        attempt = await sender.post("we_1", url, b"{}", rules.headers("evt_1", 1777907529, "v1,x"))
    finally:
        await sender.close()
    assert attempt.status_code == 204, attempt
    assert endpoint.sni == ["hooks.test"] and endpoint.hosts == [f"hooks.test:{endpoint.port}"]


async def test_a_certificate_for_another_name_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = _certificate(tmp_path, "other.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            conn.close()

    threading.Thread(target=serve, daemon=True).start()

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    monkeypatch.setattr(sending.rules, "check_addresses", lambda target, addresses: None)
    sender = HttpSender(UrlPolicy(allow_private=False, resolver=resolver), verify=_trusting(cert))
    try:
        attempt = await sender.post("we_1", f"https://hooks.test:{port}/", b"{}", {})
    finally:
        await sender.close()
        listener.close()
    assert attempt.status_code is None and attempt.error is not None and not attempt.delivered


async def test_no_answer_is_a_failed_attempt_within_the_timeout() -> None:
    dead = DeadEndpoint()
    sender = HttpSender(UrlPolicy(allow_private=True), timeout=0.5)
    try:
        started = asyncio.get_running_loop().time()
        attempt = await sender.post("we_1", dead.url, b"{}", {})
        took = asyncio.get_running_loop().time() - started
    finally:
        await sender.close()
        dead.close()
    assert attempt.error == "no answer within 0.5 s" and attempt.describe() == "no answer within 0.5 s"
    assert 0.4 < took < 2
