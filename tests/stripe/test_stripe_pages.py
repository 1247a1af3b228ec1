"""The invoice page and the pay page with `FLINT_PROCESSOR=stripe`, driven as their script drives
them (no browser: `tests/pages/test_stripe_pay_page_browser.py` has one), against `StripeDouble`,
a Stripe of our own on loopback, since localstripe cannot confirm a PaymentIntent from a browser.
And a PaymentIntent no browser ever finishes: cancelled after 5 minutes, its reservation released."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from server.config import StripeSettings
from server.money import Money
from server.payments.processor import Unfinished
from server.payments.stripe_processor import StripeProcessor
from tests.helpers import item, usd
from tests.process import ServerProcess
from tests.stripe.conftest import KEY, PUBLISHABLE_KEY, SECRET_KEY, WEBHOOK_SECRET, stripe_env
from tests.stripe.doubles import StripeDouble


def confirm(stripe: StripeDouble, secret: str, number: str = "4242424242424242") -> httpx.Response:
    """What the page's Stripe.js sends Stripe: the card, with the publishable key."""
    fields = {"key": PUBLISHABLE_KEY, "client_secret": secret, "card[number]": number, "card[exp_month]": "12"}
    fields |= {"card[exp_year]": "2034", "card[cvc]": "123"}
    return httpx.post(f"{stripe.url}/v1/payment_intents/{secret.split('_secret_')[0]}/confirm", data=fields)


def test_an_invoice_and_a_link_paid_through_stripe(tmp_path: Path) -> None:
    with (
        StripeDouble() as stripe,
        ServerProcess(tmp_path / "flint.db", stripe_env(stripe.url)) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api,
    ):
        order = api.post("/v1/orders", json={"lineItems": [item("Boiler service", 150000)]}).json()
        made = api.post("/v1/invoices", json={"orderId": order["id"], "recipient": {"name": "Oakridge"}}).json()
        published = api.post(f"/v1/invoices/{made['id']}/publish").json()
        page = httpx.get(published["publicUrl"])
        assert page.status_code == 200 and 'id="stripe-card"' in page.text and 'name="cardNumber"' not in page.text
        assert f"script-src 'self' {stripe.url}" in page.headers["content-security-policy"]
        request_uid = published["paymentRequests"][0]["uid"]

        # The page showed another amount: nothing is started, and the plain post says what changed.
        stale = httpx.post(f"{published['publicUrl']}/intent", data={"expectedAmount": "100", "request": request_uid})
        assert stale.status_code == 409 and stale.json() == {"attempt": None, "clientSecret": None}
        assert stripe.intents == {}
        shown = httpx.post(published["publicUrl"], data={"expectedAmount": "100", "request": request_uid})
        assert shown.status_code == 409 and "$1,500.00" in shown.text

        started = httpx.post(
            f"{published['publicUrl']}/intent", data={"expectedAmount": "150000", "request": request_uid}
        ).json()
        assert httpx.get(published["publicUrl"]).status_code == 202  # being paid: no second form
        assert confirm(stripe, started["clientSecret"]).status_code == 200
        paid = httpx.post(published["publicUrl"], data={"attempt": started["attempt"], "request": request_uid})
        assert paid.status_code == 200, paid.text
        assert api.get(f"/v1/invoices/{made['id']}").json()["state"] == "paid"
        [intent] = stripe.intents.values()
        assert (intent["amount"], intent["metadata"]) == (150000, {"flint_attempt": started["attempt"]})
        # The attempt's id, saved before Stripe was called, is the idempotency key (localstripe ignores keys).
        [created] = [s for s in stripe.seen if (s.method, s.path) == ("POST", "/v1/payment_intents")]
        assert f"Idempotency-Key: {started['attempt']}" in created.headers
        # The same attempt posted again (a reload): nothing more is charged.
        assert httpx.post(published["publicUrl"], data={"attempt": started["attempt"]}).status_code == 200
        assert len(stripe.intents) == 1

        # A pay link: an attempt id that is not this link's is refused; a decline is the 402 page.
        link = api.post("/v1/payment-links", json={"name": "Deposit", "lineItems": [item("Deposit", 7500)]}).json()
        assert httpx.post(link["url"], data={"attempt": started["attempt"]}).status_code == 400
        begun = httpx.post(f"{link['url']}/intent", data={"expectedAmount": "7500"}).json()
        assert confirm(stripe, begun["clientSecret"], "4000000000000002").status_code == 402
        declined = httpx.post(link["url"], data={"attempt": begun["attempt"]})
        assert declined.status_code == 402 and "declined" in declined.text
        again = httpx.post(f"{link['url']}/intent", data={"expectedAmount": "7500"}).json()
        confirm(stripe, again["clientSecret"])
        assert httpx.post(link["url"], data={"attempt": again["attempt"]}).status_code == 200
        payments = api.get(f"/v1/payments?orderId={link['orderId']}").json()["data"]
        assert [(p["status"], p["amountMoney"]) for p in payments] == [("declined", usd(7500)), ("captured", usd(7500))]


async def test_a_payment_intent_no_browser_finishes_is_cancelled_after_five_minutes() -> None:
    now = [datetime.now(UTC)]
    with StripeDouble() as stripe:
        settings = StripeSettings(stripe.url, SECRET_KEY, PUBLISHABLE_KEY, WEBHOOK_SECRET, f"{stripe.url}/v3/")
        processor = StripeProcessor(settings, clock=lambda: now[0])
        try:
            await abandoned(processor, stripe, now)
        finally:
            await processor.close()


async def abandoned(processor: StripeProcessor, stripe: StripeDouble, now: list[datetime]) -> None:
    started = await processor.start_charge(Money(7500, "USD"), "ch_abandoned", "Deposit")
    with pytest.raises(Unfinished):
        await processor.find_charge("ch_abandoned", started.reference)
    with pytest.raises(Unfinished):
        await processor.find_charge("ch_abandoned")  # found by its metadata too
    now[0] += timedelta(minutes=6)
    found = await processor.find_charge("ch_abandoned")
    assert found is not None and (found.approved, found.decline_code) == (False, "not_completed")
    assert stripe.intents[started.reference]["status"] == "canceled"
    assert await processor.find_charge("ch_never_made") is None
