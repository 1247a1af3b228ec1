"""Killed between Stripe's answer and Flint's commit (contract §10): Flint saved the charge
attempt before calling Stripe, Stripe charged the card, the answer never reached a commit
(`LosingProxy` keeps it, and the server is SIGKILLed meanwhile). Restarted, Flint reads the
attempt back from Stripe by the attempt id in the PaymentIntent's metadata (localstripe honours
no idempotency key, so asking again would have charged twice; reading back does not), and
settles it: one PaymentIntent charged, the cycle paid once."""

from __future__ import annotations

import contextlib
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx

from tests.process import doctor
from tests.stripe.conftest import LocalStripe, Shop, eventually
from tests.stripe.doubles import LosingProxy


def test_killed_between_stripes_answer_and_the_commit_charges_once(tmp_path: Path, localstripe: LocalStripe) -> None:
    with LosingProxy(localstripe.url) as proxy:
        shop = Shop(tmp_path, localstripe.url, api_base=proxy.url, FLINT_PROCESSOR_TIMEOUT="60").start()
        try:
            who = shop.customer()
            assert shop.save_card(who["id"]).status_code == 200
            made = shop.autopay_plan(who["id"], datetime.now(UTC).date().isoformat())
            proxy.lose_next_answer("POST", "/v1/payment_intents")
            running = threading.Thread(target=lambda: _quietly(shop), daemon=True)
            running.start()
            assert proxy.acted.wait(30), "Stripe never got the charge"
            [intent] = localstripe.intents()
            assert intent["status"] == "succeeded"  # Stripe charged; Flint has not heard
            shop.server.kill()
            proxy.release.set()
            shop.restart()
            paid = lambda: shop.cycles(made["id"])[0].get("payment", {}).get("status") == "paid"  # noqa: E731
            eventually(paid, "the settle", timeout=60)
            [cycle] = shop.cycles(made["id"])
            assert cycle["payment"] == {"status": "paid", "attempts": 1, "nextAttemptAt": None}
            assert len(localstripe.intents()) == 1
            [payment] = shop.get(f"/v1/payments?orderId={cycle['orderId']}")["data"]
            assert (payment["status"], payment["chargeId"]) == ("captured", intent["metadata"]["flint_attempt"])
            assert shop.post("/v1/billing/run", {}, 200)["cyclesCreated"] == 0
            assert len(localstripe.intents()) == 1
            checked = doctor(shop.db)
            assert checked.returncode == 0, checked.stdout
        finally:
            shop.stop()


def _quietly(shop: Shop) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server was killed under it
        shop.api.post("/v1/billing/run", json={})
