"""Dunning with `FLINT_PROCESSOR=stripe` against localstripe, with a clock the test moves (the app
in this process, localstripe in its own): three failed retries make the plan past due and nothing
more is billed; resumed, the owed cycle is tried at once; a card saved on the update-card link
pays it, and billing goes on."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.config import Settings
from server.money import PositiveMoneyIn
from server.payments import refunding
from server.payments.desk import PaymentDesk
from server.payments.stripe_processor import StripeProcessor
from server.payments.types import CreateRefund
from server.store import Database
from server.wire import Actor
from tests.billing.office import cycles, run_billing, texts
from tests.conftest import OFFICE, OFFICE_KEY, FakeClock
from tests.helpers import get, item, post
from tests.stripe.conftest import PUBLISHABLE_KEY, SAVES_THEN_DECLINES, LocalStripe, stripe_env


@pytest.fixture
async def stripe_client(
    db_path: Path, clock: FakeClock, localstripe: LocalStripe
) -> AsyncIterator[AsyncTestClient[Any]]:
    env = {**stripe_env(localstripe.url), "FLINT_DB": str(db_path), "FLINT_PUBLIC_URL": "http://flint.test"}
    env["FLINT_API_KEY"] = OFFICE_KEY
    settings = replace(Settings.from_env(env), scheduler=False)
    async with AsyncTestClient(create_app(settings, clock)) as client:
        yield client


async def save_card(client: AsyncTestClient[Any], stripe: LocalStripe, path: str, number: str) -> Any:
    """The card page as Stripe.js drives it: Flint starts the SetupIntent, Stripe gets the card."""
    started = (await client.post(f"{path}/intent")).json()
    secret = started["clientSecret"]
    fields = {"key": PUBLISHABLE_KEY, "client_secret": secret, "payment_method_data[type]": "card"}
    card = {"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"}
    fields |= {f"payment_method_data[card][{k}]": v for k, v in card.items()}
    httpx.post(f"{stripe.url}/v1/setup_intents/{secret.split('_secret_')[0]}/confirm", data=fields)
    return await client.post(path, data={"attempt": started["attempt"]})


def card_path(body: str) -> str:
    found = re.search(r"(/cards/[A-Za-z0-9_-]+)", body)
    assert found is not None, body
    return found.group(1)


async def test_three_failed_retries_on_stripe_make_the_plan_past_due_until_resumed(
    stripe_client: AsyncTestClient[Any], clock: FakeClock, localstripe: LocalStripe
) -> None:
    client = stripe_client
    who = await post(
        client, "/v1/customers", {"name": "Dana Whitfield", "phone": "+15555550144", "kind": "residential"}
    )
    link = await post(client, f"/v1/customers/{who['id']}/card-links", {})
    saved = await save_card(client, localstripe, card_path(link["url"]), SAVES_THEN_DECLINES)
    assert saved.status_code == 200, saved.text
    plan = {
        "customerId": who["id"],
        "name": "Monthly boiler maintenance",
        "lineItems": [item("Boiler service", 14900)],
        "interval": "month",
        "startDate": "2026-05-01",
        "billing": "autopay",
    }
    made = await post(client, "/v1/service-plans", plan)
    assert await run_billing(client) == 1
    for days in (1, 2, 4):  # the retries 1, 3 and 7 days after the first decline
        clock.advance(days=days)
        await run_billing(client)
    [cycle] = await cycles(client, made["id"])
    assert cycle["payment"] == {"status": "failed", "attempts": 4, "nextAttemptAt": None}
    assert (await get(client, f"/v1/service-plans/{made['id']}"))["status"] == "past_due"
    with localstripe.api() as stripe:
        intents = stripe.get("/v1/payment_intents", params={"limit": 100}).json()["data"]
    assert len(intents) == 4 and all(i["status"] == "requires_payment_method" for i in intents)

    clock.advance(days=40)
    assert await run_billing(client) == 0  # past due: June is not billed
    resumed = await post(client, f"/v1/service-plans/{made['id']}/resume", None, 200)
    assert resumed["status"] == "past_due"  # tried at once, declined again
    update = [t for t in await texts(client, jobId=cycle["jobId"]) if "/cards/" in t["body"]]
    assert len(update) == 5
    saved = await save_card(client, localstripe, card_path(update[-1]["body"]), "4242424242424242")
    assert saved.status_code == 200, saved.text
    [cycle] = await cycles(client, made["id"])
    assert cycle["payment"] == {"status": "paid", "attempts": 6, "nextAttemptAt": None}
    assert (await get(client, f"/v1/service-plans/{made['id']}"))["status"] == "active"
    assert await run_billing(client) == 1  # June, now
    with localstripe.api() as stripe:
        succeeded = [
            i
            for i in stripe.get("/v1/payment_intents", params={"limit": 100}).json()["data"]
            if i["status"] == "succeeded"
        ]
    assert len(succeeded) == 2
    response = await client.get(f"/v1/customers/{who['id']}", headers=OFFICE)
    assert response.json()["cardOnFile"]["last4"] == "4242"


async def test_a_refund_stripe_answered_for_is_completed_never_sent_again(
    stripe_client: AsyncTestClient[Any], localstripe: LocalStripe, db_path: Path, clock: FakeClock
) -> None:
    """The refund was given back and its answer kept, but the request's own completion has not
    committed yet when the settling run looks (as happens under load): the run completes it and
    sends nothing to Stripe again; localstripe would refund twice for the same key."""
    client = stripe_client
    who = await post(client, "/v1/customers", {"name": "Dana Whitfield", "phone": "+15555550177", "kind": "commercial"})
    link = await post(client, f"/v1/customers/{who['id']}/card-links", {})
    assert (await save_card(client, localstripe, card_path(link["url"]), "4242424242424242")).status_code == 200
    plan = {
        "customerId": who["id"],
        "name": "Monthly boiler maintenance",
        "lineItems": [item("Boiler service", 14900)],
        "interval": "month",
        "startDate": "2026-05-01",
        "billing": "autopay",
    }
    made = await post(client, "/v1/service-plans", plan)
    await run_billing(client)
    [cycle] = await cycles(client, made["id"])
    [payment] = (await get(client, f"/v1/payments?orderId={cycle['orderId']}"))["data"]

    # The office's refund request and the settling run, as the server runs them, in this test's loop.
    stripe = Settings.from_env({**stripe_env(localstripe.url), "FLINT_API_KEY": OFFICE_KEY}).stripe
    assert stripe is not None
    db = Database(db_path, clock)
    await db.open()
    processor = StripeProcessor(stripe, clock)
    desk = PaymentDesk(db, processor)
    try:
        asked = CreateRefund(payment_id=payment["id"], amount_money=PositiveMoneyIn(4900, "USD"), reason="missed")
        refund_id = await refunding.refund(desk, Actor(kind="office", id=None), asked, None)  # given back, not done
        [done] = await refunding.settle_in_doubt(desk, Actor(kind="system", id="recovery"))
        assert (done.id, done.status) == (refund_id, "completed")
    finally:
        await processor.close()
        await db.close()
    assert [r["amount"] for r in localstripe.refunds()] == [4900]
    assert (await get(client, f"/v1/payments/{payment['id']}"))["refundedMoney"] == {"amount": 4900, "currency": "USD"}
