"""A real `flint serve` process on a free loopback port, for tests that need one."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def doctor(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`flint doctor` on a store, as an operator would run it."""
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "doctor", "--db", str(path), *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


class Process:
    """A child process serving HTTP on a free loopback port, with its output in a log file."""

    health_path = "/healthz"

    def __init__(self, log_dir: Path, env: Mapping[str, str] | None = None, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{type(self).__name__.lower()}.{self.port}.log"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None

    def args(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 20) -> Process:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.args(), env=self.env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}{self.health_path}", timeout=0.5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not come up:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, as a crash would leave it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close_log()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def _close_log(self) -> None:
        log = getattr(self, "_log", None)
        if log is not None and not log.closed:
            log.close()

    def __enter__(self) -> Process:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class ServerProcess(Process):
    """`flint serve` on its own SQLite file."""

    def __init__(
        self,
        db_path: Path,
        env: Mapping[str, str] | None = None,
        *,
        demo: bool = False,
        port: int | None = None,
    ) -> None:
        super().__init__(db_path.parent, {"FLINT_DB": str(db_path), **(env or {})}, port)
        self.db_path = db_path
        self.demo = demo

    def args(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "server.cli",
            "serve",
            "--port",
            str(self.port),
            *(["--demo"] if self.demo else []),
        ]

    def __enter__(self) -> ServerProcess:
        self.start()
        return self


class SandboxProcess(Process):
    """The Twilio-compatible sandbox on its own, as the suite's Twilio."""

    health_path = "/sandbox/messages"

    def __init__(self, log_dir: Path, account_sid: str, auth_token: str, inbound_url: str) -> None:
        super().__init__(log_dir)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.inbound_url = inbound_url

    def args(self) -> list[str]:
        return [
            sys.executable, "-m", "sms.sandbox", "--port", str(self.port), "--account-sid", self.account_sid,
            "--auth-token", self.auth_token, "--inbound-url", self.inbound_url,
        ]  # fmt: skip

    def __enter__(self) -> SandboxProcess:
        self.start()
        return self
