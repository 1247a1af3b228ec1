"""Card on file, autopay, dunning and refunds with `FLINT_PROCESSOR=stripe`, against localstripe:
the same scenarios as on the sandbox, through the `stripe` library. Cards are saved on the card
page with SetupIntents that the test confirms with Stripe directly, as Stripe.js would (Flint
never sees the number); cycles are charged off-session; refunds are Stripe Refunds, and Flint
refuses one past what was paid, which localstripe itself would accept."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from datetime import UTC, datetime

import httpx

from tests.process import doctor
from tests.stripe.conftest import SAVES_THEN_DECLINES, WEBHOOK_SECRET, LocalStripe, Shop, eventually


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def test_a_card_saved_through_stripe_and_each_cycle_charged_once(shop: Shop, localstripe: LocalStripe) -> None:
    # localstripe's own webhooks, signed with Stripe-Signature, reach Flint and prompt its reads.
    hook = {
        "url": f"{shop.server.url}/v1/webhooks/stripe",
        "secret": WEBHOOK_SECRET,
        "events": ["payment_intent.succeeded"],
    }
    with localstripe.api() as stripe_config:
        assert stripe_config.post("/_config/webhooks/flint", json=hook).status_code == 200
    who = shop.customer()
    saved = shop.save_card(who["id"])
    assert saved.status_code == 200 and "4242 is saved" in saved.text, saved.text
    card = shop.get(f"/v1/customers/{who['id']}")["cardOnFile"]
    assert (card["last4"], card["expMonth"], card["expYear"]) == ("4242", 12, 2034)
    made = shop.autopay_plan(who["id"], today())

    runs: list[int] = []
    threads = [
        threading.Thread(target=lambda: runs.append(shop.post("/v1/billing/run", {}, 200)["cyclesCreated"]))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(runs) == 1
    [cycle] = shop.cycles(made["id"])
    assert cycle["payment"] == {"status": "paid", "attempts": 1, "nextAttemptAt": None}
    [intent] = localstripe.intents()
    assert (intent["status"], intent["amount"], intent["currency"]) == ("succeeded", 14900, "usd")
    [payment] = shop.get(f"/v1/payments?orderId={cycle['orderId']}")["data"]
    assert (payment["source"], payment["status"], payment["card"]["last4"]) == ("autopay", "captured", "4242")
    assert intent["metadata"] == {"flint_attempt": payment["chargeId"], "flint_off_session": "1"}  # the attempt's id
    eventually(lambda: any("receipt" in t["body"] for t in shop.texts(cycle["jobId"])), "the receipt text")
    eventually(
        lambda: f"Stripe webhook payment_intent.succeeded: reading {payment['chargeId']} back" in shop.server.output(),
        "localstripe's webhook",
    )
    assert shop.post("/v1/billing/run", {}, 200)["cyclesCreated"] == 0 and len(localstripe.intents()) == 1

    # Refunds go to Stripe; past what was paid Flint refuses, though localstripe would not.
    body = {"paymentId": payment["id"], "amountMoney": {"amount": 4900, "currency": "USD"}, "reason": "missed filter"}
    refund = shop.post("/v1/refunds", body)
    assert refund["status"] == "completed"
    [given] = localstripe.refunds()
    assert (given["amount"], given["payment_intent"], given["metadata"]) == (
        4900,
        intent["id"],
        {"flint_refund": refund["id"]},
    )
    too_much = {**body, "amountMoney": {"amount": 10001, "currency": "USD"}}
    refused = shop.post("/v1/refunds", too_much, 422)
    assert refused["code"] == "refund_exceeds_payment" and len(localstripe.refunds()) == 1
    assert shop.post("/v1/refunds", {**body, "amountMoney": {"amount": 10000, "currency": "USD"}})["status"] == (
        "completed"
    )
    assert sum(r["amount"] for r in localstripe.refunds()) == 14900
    checked = doctor(shop.db)
    assert checked.returncode == 0, checked.stdout


def update_link(body: str) -> str:
    found = re.search(r"(https?://\S+/cards/[A-Za-z0-9_-]+)", body)
    assert found is not None, body
    return found.group(1)


def test_a_decline_retries_and_a_card_saved_on_its_link_pays_at_once(shop: Shop, localstripe: LocalStripe) -> None:
    who = shop.customer()
    assert shop.save_card(who["id"], SAVES_THEN_DECLINES).status_code == 200
    made = shop.autopay_plan(who["id"], today())
    assert shop.post("/v1/billing/run", {}, 200)["cyclesCreated"] == 1
    [cycle] = shop.cycles(made["id"])
    payment = cycle["payment"]
    assert (payment["status"], payment["attempts"]) == ("retrying", 1)
    tomorrow = datetime.now(UTC).timestamp() + 86400
    assert abs(datetime.fromisoformat(payment["nextAttemptAt"].replace("Z", "+00:00")).timestamp() - tomorrow) < 120
    [declined] = shop.get(f"/v1/payments?orderId={cycle['orderId']}")["data"]
    assert (declined["status"], declined["declineCode"]) == ("declined", "card_declined")
    [text] = [t for t in shop.texts(cycle["jobId"]) if "/cards/" in t["body"]]
    assert "declined for $149.00" in text["body"]

    saved = shop.save_card(who["id"], "5555555555554444", link_url=update_link(text["body"]))
    assert saved.status_code == 200, saved.text
    [cycle] = shop.cycles(made["id"])
    assert cycle["payment"] == {"status": "paid", "attempts": 2, "nextAttemptAt": None}
    captured = [i for i in localstripe.intents() if i["status"] == "succeeded"]
    assert len(captured) == 1 and captured[0]["amount"] == 14900


def sign(payload: str, secret: str = WEBHOOK_SECRET, at: int | None = None) -> str:
    stamp = at or int(time.time())
    digest = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def test_the_stripe_webhook_is_verified_and_only_prompts_a_read(shop: Shop, localstripe: LocalStripe) -> None:
    """Our own sender stands in for Stripe's webhooks here: localstripe sends each event once, and
    never a duplicate, a late one, or one that lies."""
    who = shop.customer()
    shop.save_card(who["id"])
    made = shop.autopay_plan(who["id"], today())
    shop.post("/v1/billing/run", {}, 200)
    [cycle] = shop.cycles(made["id"])
    [payment] = shop.get(f"/v1/payments?orderId={cycle['orderId']}")["data"]
    [intent] = localstripe.intents()
    url = f"{shop.server.url}/v1/webhooks/stripe"
    # A webhook that says the payment failed, duplicated and late: Flint reads Stripe, which says paid.
    lie = json.dumps(
        {
            "id": "evt_1",
            "type": "payment_intent.payment_failed",
            "data": {"object": {**intent, "status": "requires_payment_method", "metadata": intent["metadata"]}},
        }
    )
    for _ in range(2):
        answer = httpx.post(url, content=lie, headers={"Stripe-Signature": sign(lie)})
        assert answer.status_code == 200, answer.text
    assert shop.get(f"/v1/payments/{payment['id']}")["status"] == "captured"
    assert shop.cycles(made["id"])[0]["payment"]["status"] == "paid"
    forged = httpx.post(url, content=lie, headers={"Stripe-Signature": sign(lie, "whsec_someone_else")})
    assert forged.status_code == 400 and forged.json()["code"] == "invalid_request"
    assert httpx.post(url, content=lie).status_code == 400
    stale = httpx.post(url, content=lie, headers={"Stripe-Signature": sign(lie, at=int(time.time()) - 3600)})
    assert stale.status_code == 400
