"""An estimate's deposit with `FLINT_PROCESSOR=stripe`, against localstripe: the estimate page
driven as its card script drives it (the form's choice and signature posted to `/intent`, the
PaymentIntent confirmed with Stripe directly, as Stripe.js would, the form posted back with the
attempt). Approval and deposit are still one act: a decline or a changed choice makes nothing, and
a deposit whose page never posts back is approved by the scheduler's settling."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import stripe

from tests.estimates.conftest import THREE_OPTIONS, approve_form
from tests.helpers import GOOD_CARD, usd
from tests.process import doctor
from tests.stripe.conftest import SAVES_THEN_DECLINES, SECRET_KEY, LocalStripe, Shop, eventually

NOTHING_STARTED = {"attempt": None, "clientSecret": None}


def sent_estimate(shop: Shop) -> tuple[dict[str, Any], str]:
    """An estimate with a 10% deposit, sent: it, and its page's address on this server."""
    who = shop.customer()
    job = shop.post("/v1/jobs", {"customerId": who["id"], "title": "Water heater", "address": "88 Oak St"})
    body = {"jobId": job["id"], "title": "Water heater", "options": THREE_OPTIONS, "deposit": {"percentage": 10}}
    made = shop.post("/v1/estimates", body)
    estimate: dict[str, Any] = shop.post(f"/v1/estimates/{made['id']}/send", None, 200)
    return estimate, shop.server.url + "/estimates/" + estimate["url"].rsplit("/estimates/", 1)[1]


def stripe_form(estimate: dict[str, Any], option: int, *extras: int, deposit: int) -> dict[str, Any]:
    """The page's form with Stripe: the choice and the signature, and no card field at all."""
    form = approve_form(estimate, option, *extras, deposit=deposit)
    return {k: v for k, v in form.items() if k not in GOOD_CARD}


def confirm(localstripe: LocalStripe, secret: str, number: str = "4242424242424242") -> None:
    """What Stripe.js does with the card typed into its field (localstripe takes no card on
    `confirm` itself: the card is made a PaymentMethod and set on the PaymentIntent first)."""
    client = stripe.StripeClient(SECRET_KEY, base_addresses={"api": localstripe.url}, max_network_retries=0)
    intent = secret.split("_secret_")[0]
    card = {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}
    method = client.v1.payment_methods.create({"type": "card", "card": card})
    client.v1.payment_intents.update(intent, {"payment_method": method.id})
    with contextlib.suppress(stripe.CardError):  # declined: Flint reads the decline back
        client.v1.payment_intents.confirm(intent)


def test_an_estimate_approved_with_its_deposit_through_stripe(shop: Shop, localstripe: LocalStripe) -> None:
    estimate, url = sent_estimate(shop)
    page = httpx.get(url)
    assert page.status_code == 200 and 'id="stripe-card"' in page.text and 'name="cardNumber"' not in page.text
    assert "stripe-checkout.js" in page.text and "estimate.js" in page.text
    form = stripe_form(estimate, 1, 1, deposit=20840)  # 10% of $2,084.00: the better tank, with the expansion tank

    # Not signed: nothing is started; the form's post names what is missing.
    assert httpx.post(f"{url}/intent", data={**form, "acceptTerms": ""}).json() == NOTHING_STARTED
    assert localstripe.intents() == []

    # A declined card approves nothing, and the estimate can still be approved.
    begun = httpx.post(f"{url}/intent", data=form, timeout=30)
    assert begun.status_code == 200, begun.text
    assert httpx.get(url).status_code == 202  # the deposit is being confirmed: no second form
    confirm(localstripe, begun.json()["clientSecret"], SAVES_THEN_DECLINES)
    declined = httpx.post(url, data={**form, "attempt": begun.json()["attempt"]}, timeout=60)
    assert declined.status_code == 402 and "Nothing was approved." in declined.text
    assert shop.get(f"/v1/estimates/{estimate['id']}")["state"] == "open"

    started = httpx.post(f"{url}/intent", data=form, timeout=30).json()
    assert started["attempt"] and started["clientSecret"]
    confirm(localstripe, started["clientSecret"])
    approved = httpx.post(url, data={**form, "attempt": started["attempt"]}, timeout=60)
    assert approved.status_code == 200 and 'id="approved"' in approved.text, approved.text
    assert "$208.40" in approved.text and "•••• 4242" in approved.text

    now = shop.get(f"/v1/estimates/{estimate['id']}")
    approval = now["approval"]
    chosen = estimate["options"][1]
    assert now["state"] == "approved" and approval["signerName"] == "Maria Alvarez"
    assert (approval["optionId"], approval["optionalUids"]) == (chosen["id"], [chosen["lineItems"][1]["uid"]])
    assert (approval["totalMoney"], approval["depositMoney"]) == (usd(208400), usd(20840))
    payment = shop.get(f"/v1/payments/{approval['paymentId']}")
    assert (payment["orderId"], payment["status"], payment["amountMoney"]) == (
        approval["orderId"], "captured", usd(20840)
    )  # fmt: skip
    assert payment["chargeId"] == started["attempt"] and payment["card"]["last4"] == "4242"
    work_order = shop.get(f"/v1/orders/{approval['orderId']}")
    assert (work_order["totalMoney"], work_order["paidMoney"]) == (usd(208400), usd(20840))
    assert [p["id"] for p in shop.get(f"/v1/payments?jobId={estimate['jobId']}")["data"]] == [payment["id"]]
    assert [o["id"] for o in shop.get(f"/v1/orders?jobId={estimate['jobId']}")["data"]] == [approval["orderId"]]
    trail = shop.get(f"/v1/jobs/{estimate['jobId']}/trail")["events"]
    [declined_event] = [e for e in trail if e["type"] == "payment.declined"]
    assert declined_event["data"]["estimateId"] == estimate["id"]  # the decline made no payment and no order
    intents = {i["metadata"]["flint_attempt"]: i for i in localstripe.intents()}
    assert set(intents) == {begun.json()["attempt"], started["attempt"]}
    assert (intents[started["attempt"]]["status"], intents[started["attempt"]]["amount"]) == ("succeeded", 20840)

    # The attempt posted again (a reload) shows the approval; the form posted again charges nothing.
    assert httpx.post(url, data={**form, "attempt": started["attempt"]}, timeout=60).status_code == 200
    assert httpx.post(url, data=form).status_code == 409
    assert httpx.post(f"{url}/intent", data=form).json() == NOTHING_STARTED
    assert len(localstripe.intents()) == 2
    checked = doctor(shop.db)
    assert checked.returncode == 0, checked.stdout


def test_a_changed_choice_starts_nothing_through_stripe(shop: Shop, localstripe: LocalStripe) -> None:
    estimate, url = sent_estimate(shop)
    # The page showed the better tank's deposit; the expansion tank was ticked since (scripts off).
    form = stripe_form(estimate, 1, 1, deposit=18990)
    stale = httpx.post(f"{url}/intent", data=form)
    assert stale.status_code == 409 and stale.json() == NOTHING_STARTED
    assert localstripe.intents() == []
    # The script then posts the form without an attempt: the page with the choice's deposit.
    shown = httpx.post(url, data={**form, "attempt": ""})
    assert shown.status_code == 409 and "The deposit for this choice is $208.40" in shown.text
    now = shop.get(f"/v1/estimates/{estimate['id']}")
    assert (now["state"], now["approval"]) == ("open", None)
    assert shop.get(f"/v1/payments?jobId={estimate['jobId']}")["data"] == []
    assert localstripe.intents() == []


def test_a_deposit_whose_page_never_came_back_is_approved_by_the_scheduler(
    shop: Shop, localstripe: LocalStripe
) -> None:
    estimate, url = sent_estimate(shop)
    form = stripe_form(estimate, 0, deposit=14500)
    started = httpx.post(f"{url}/intent", data=form, timeout=30).json()
    confirm(localstripe, started["clientSecret"])  # and the phone lost its signal before posting back
    eventually(lambda: shop.get(f"/v1/estimates/{estimate['id']}")["state"] == "approved", "the approval")
    approval = shop.get(f"/v1/estimates/{estimate['id']}")["approval"]
    assert (approval["signerName"], approval["depositMoney"]) == ("Maria Alvarez", usd(14500))
    payment = shop.get(f"/v1/payments/{approval['paymentId']}")
    assert (payment["chargeId"], payment["orderId"], payment["status"]) == (
        started["attempt"], approval["orderId"], "captured"
    )  # fmt: skip
    # The attempt posted late shows the approval; nothing more is charged.
    late = httpx.post(url, data={**form, "attempt": started["attempt"]}, timeout=60)
    assert late.status_code == 200 and 'id="approved"' in late.text
    assert len(localstripe.intents()) == 1
    checked = doctor(shop.db)
    assert checked.returncode == 0, checked.stdout
