"""Flint with `FLINT_PROCESSOR=stripe` against localstripe (a stateful Stripe-compatible server from
PyPI, pinned in the dev extras), both real processes on loopback. What localstripe cannot do (honour
idempotency keys, lose an answer after acting, a browser's Stripe.js) is done by small doubles of
our own, each named in the test that needs it."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.process import Process, ServerProcess

KEY = "stripe-office-key-0123456789abcdefghij"
SECRET_KEY = "sk_test_flint_localstripe"
PUBLISHABLE_KEY = "pk_test_flint_localstripe"
WEBHOOK_SECRET = "whsec_flint_localstripe_test"
SAVES_THEN_DECLINES = "4000000000000341"


class LocalStripe(Process):
    health_path = "/js.stripe.com/v3/"

    def args(self) -> list[str]:
        return [sys.executable, "-m", "tests.stripe.localstripe_server", "--port", str(self.port)]

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(SECRET_KEY, ""), timeout=10)

    def intents(self) -> list[dict[str, Any]]:
        with self.api() as api:
            found: list[dict[str, Any]] = api.get("/v1/payment_intents", params={"limit": 100}).json()["data"]
            return found

    def refunds(self) -> list[dict[str, Any]]:
        with self.api() as api:
            found: list[dict[str, Any]] = api.get("/v1/refunds", params={"limit": 100}).json()["data"]
            return found


@pytest.fixture
def localstripe(tmp_path: Path) -> Iterator[LocalStripe]:
    stripe = LocalStripe(tmp_path)
    stripe.start()
    try:
        yield stripe
    finally:
        stripe.stop()


def stripe_env(api_base: str) -> dict[str, str]:
    return {
        "FLINT_API_KEY": KEY,
        "FLINT_PROCESSOR": "stripe",
        "STRIPE_API_BASE": api_base,
        "STRIPE_SECRET_KEY": SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "STRIPE_JS_URL": f"{api_base}/js.stripe.com/v3/",
        "FLINT_BILLING_INTERVAL": "3600",  # the scheduler's runs stay out of the way of the runs under test
        "FLINT_SETTLE_EVERY": "0.5",
        "FLINT_SMS_RETRY_BASE": "0.05",
    }


class Shop:
    """Flint on Stripe: the office API, and a customer's browser doing what Stripe.js would."""

    def __init__(self, tmp_path: Path, stripe_url: str, api_base: str | None = None, **env: str) -> None:
        self.db = tmp_path / "flint.db"
        self.stripe_url = stripe_url
        self.env = {**stripe_env(api_base or stripe_url), **env}
        self.server = ServerProcess(self.db, self.env)

    def start(self) -> Shop:
        self.server.start()
        self.api = httpx.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=90)
        return self

    def restart(self) -> None:
        self.server = ServerProcess(self.db, self.env, port=self.server.port)
        self.server.start()

    def stop(self) -> None:
        self.api.close()
        self.server.stop()

    def post(self, path: str, body: Any = None, status: int = 201) -> Any:
        response = self.api.post(path, json=body)
        assert response.status_code == status, response.text
        return response.json()

    def get(self, path: str) -> Any:
        response = self.api.get(path)
        assert response.status_code == 200, response.text
        return response.json()

    def customer(self, phone: str = "+15555550188") -> dict[str, Any]:
        made: dict[str, Any] = self.post(
            "/v1/customers", {"name": "Oakridge Property Management", "phone": phone, "kind": "commercial"}
        )
        return made

    def save_card(self, customer_id: str, number: str = "4242424242424242", link_url: str | None = None) -> Any:
        """The card page as a browser with Stripe.js uses it: Flint starts a SetupIntent, the card
        goes to Stripe alone (as Stripe.js's `confirmCardSetup` sends it, with the publishable
        key), and Flint is told only the attempt's id."""
        url = link_url or self.post(f"/v1/customers/{customer_id}/card-links", {})["url"]
        started = httpx.post(f"{url}/intent", timeout=30)
        assert started.status_code == 200, started.text
        secret = started.json()["clientSecret"]
        confirmed = httpx.post(
            f"{self.stripe_url}/v1/setup_intents/{secret.split('_secret_')[0]}/confirm",
            data={
                "key": PUBLISHABLE_KEY,
                "client_secret": secret,
                "payment_method_data[type]": "card",
                "payment_method_data[card][number]": number,
                "payment_method_data[card][exp_month]": "12",
                "payment_method_data[card][exp_year]": "2034",
                "payment_method_data[card][cvc]": "123",
            },
        )
        assert confirmed.status_code in (200, 402), confirmed.text
        return httpx.post(url, data={"attempt": started.json()["attempt"]}, timeout=60)

    def autopay_plan(self, customer_id: str, start: str) -> dict[str, Any]:
        made: dict[str, Any] = self.post(
            "/v1/service-plans",
            {
                "customerId": customer_id,
                "name": "Monthly boiler maintenance",
                "lineItems": [
                    {"name": "Boiler service", "quantity": 1, "unitPriceMoney": {"amount": 14900, "currency": "USD"}}
                ],
                "interval": "month",
                "startDate": start,
                "billing": "autopay",
            },
        )
        return made

    def cycles(self, plan_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get(f"/v1/service-plans/{plan_id}/cycles?limit=200")["data"]
        return found

    def texts(self, job_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get(f"/v1/sms?jobId={job_id}&limit=200")["data"]
        return found


@pytest.fixture
def shop(tmp_path: Path, localstripe: LocalStripe) -> Iterator[Shop]:
    running = Shop(tmp_path, localstripe.url).start()
    try:
        yield running
    finally:
        running.stop()


def eventually(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
