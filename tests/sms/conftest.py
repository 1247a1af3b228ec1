from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.helpers import item, usd
from tests.process import SandboxProcess, ServerProcess

T = TypeVar("T")
SID = "AC" + "5" * 32
TOKEN = "sandbox-auth-token"
KEY = "sms-office-key-0123456789abcdefghij"
FROM = "+15005550006"


def when(value: T, test: Callable[[T], bool]) -> T | None:
    """`value` if it passes `test`, for `wait_for(lambda: when(fetch(), ...))`."""
    return value if test(value) else None


def wait_for(check: Callable[[], T | None], timeout: float = 10, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Texting:
    """A Flint server whose Twilio is the sandbox, both real processes on loopback."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.tmp_path = tmp_path
        self.server = ServerProcess(tmp_path / "flint.db", self._env(env))
        self.sandbox = SandboxProcess(tmp_path, SID, TOKEN, self.server.url + "/v1/webhooks/twilio/inbound")
        self.extra_env = env

    def _env(self, extra: dict[str, str]) -> dict[str, str]:
        return {
            "FLINT_API_KEY": KEY,
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": FROM,
            "FLINT_SMS_RETRY_BASE": "0.05",
            "FLINT_TWILIO_TIMEOUT": "2",
            **extra,
        }

    def start(self) -> Texting:
        self.sandbox.start()
        self.server.env["TWILIO_API_URL"] = self.sandbox.url
        self.server.start()
        self.api = httpx.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        self.twilio = httpx.Client(base_url=self.sandbox.url, timeout=10)
        return self

    def restart_server(self) -> None:
        """A new process on the same file and port, after the old one died."""
        env = dict(self.server.env)
        self.server = ServerProcess(self.server.db_path, env, port=self.server.port)
        self.server.start()

    def close(self) -> None:
        """Twilio goes first, so a send it is holding fails at once and the server stops promptly."""
        self.api.close()
        self.twilio.close()
        self.sandbox.kill()
        self.server.stop()

    # The office side.
    def link(self, phone: str = "+15555550101", amount: int = 7500) -> dict[str, Any]:
        customer = self.api.post("/v1/customers", json={"name": "Maria", "phone": phone, "kind": "residential"}).json()
        job = self.api.post(
            "/v1/jobs", json={"customerId": customer["id"], "title": "AC not cooling", "address": "1 Main"}
        ).json()
        order = self.api.post(
            "/v1/orders", json={"lineItems": [item("Repair", 20000)], "metadata": {"jobId": job["id"]}}
        ).json()
        made = self.api.post(
            "/v1/payment-links",
            json={"name": "Dispatch deposit", "orderId": order["id"], "amountMoney": usd(amount)},
        )
        assert made.status_code == 201, made.text
        return {**made.json(), "jobId": job["id"]}

    def send(self, link_id: str, to: str | None = None) -> dict[str, Any]:
        response = self.api.post(f"/v1/payment-links/{link_id}/send-sms", json={"to": to} if to else None)
        assert response.status_code == 202, response.text
        return dict(response.json())

    def age(self, message_id: str, minutes: int = 11) -> None:
        """Say a text went out `minutes` ago: the same link texted again after the window that
        folds a double tap into one text is a new text (contract §3 v3)."""
        conn = sqlite3.connect(self.server.db_path, timeout=10)
        with conn:
            conn.execute(
                "UPDATE sms_messages SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, ?) WHERE id = ?",
                (f"-{minutes} minutes", message_id),
            )
        conn.close()

    def message(self, message_id: str) -> dict[str, Any]:
        return dict(self.api.get(f"/v1/sms/{message_id}").json())

    def wait_status(self, message_id: str, *statuses: str, timeout: float = 10) -> dict[str, Any]:
        return wait_for(
            lambda: when(self.message(message_id), lambda m: m["status"] in statuses),
            timeout,
            f"message {message_id} to reach {statuses}",
        )

    def trail(self, job_id: str) -> list[str]:
        return [e["type"] for e in self.api.get(f"/v1/jobs/{job_id}/trail").json()["events"]]

    # Twilio's side.
    def texts_to(self, number: str) -> list[dict[str, Any]]:
        return list(self.twilio.get("/sandbox/messages", params={"to": number}).json())

    def fault(self, to: str, *faults: dict[str, Any]) -> None:
        assert self.twilio.post("/sandbox/faults", json={"to": to, "faults": list(faults)}).status_code == 204

    def customer_texts(self, number: str, body: str) -> None:
        assert self.twilio.post("/sandbox/inbound", json={"from": number, "body": body}).status_code == 204


@pytest.fixture
def texting(tmp_path: Path) -> Iterator[Texting]:
    pair = Texting(tmp_path).start()
    try:
        yield pair
    finally:
        pair.close()
