"""A Stripe-mode pay page in Chromium (contract §10): the card is typed into Stripe.js's field and
goes to Stripe alone; Flint starts the PaymentIntent, the browser confirms it with Stripe, and
Flint reads the outcome back. Every request the browser sends to Flint goes through a recording
proxy on loopback, and the card number is in none of them, while it is in the browser's request
to Stripe (so the check can see a number when one is sent). The estimate page likewise: its
choice and signature go with the request that starts the deposit, and the deposit approves it.

Stripe here is `StripeDouble`, a double of our own served on loopback (its Stripe.js and the
API routes the page needs): localstripe's fake Stripe.js cannot confirm a card element."""

from __future__ import annotations

from pathlib import Path

import httpx
from selenium.webdriver.common.by import By

from tests.browser import phone_browser, wait_for_text
from tests.estimates.conftest import THREE_OPTIONS
from tests.helpers import item, usd
from tests.process import ServerProcess
from tests.stripe.conftest import KEY, stripe_env
from tests.stripe.doubles import LosingProxy, StripeDouble

NUMBER = "4242424242424242"
DECLINED = "4000000000000002"


def test_a_stripe_mode_pay_page_never_sends_the_card_number_to_flint(tmp_path: Path) -> None:
    with StripeDouble() as stripe:
        server = ServerProcess(tmp_path / "flint.db", stripe_env(stripe.url))
        with LosingProxy(server.url) as wire:
            server.env["FLINT_PUBLIC_URL"] = wire.url
            with server, httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
                order = api.post("/v1/orders", json={"lineItems": [item("Diagnostic visit", 8900)]}).json()
                link = api.post(
                    "/v1/payment-links",
                    json={"name": "Dispatch deposit", "orderId": order["id"], "amountMoney": usd(7500)},
                ).json()
                assert link["url"].startswith(wire.url)

                with phone_browser(javascript=True) as browser:
                    browser.get(link["url"])
                    wait_for_text(browser, "Dispatch deposit")
                    assert browser.find_elements(By.NAME, "cardNumber") == []  # no card field of Flint's own
                    pay_with(browser, DECLINED)
                    wait_for_text(browser, "Your card was declined")
                    pay_with(browser, NUMBER)
                    body = wait_for_text(browser, "Paid $75.00")
                    assert "4242" in body

                paid = api.get(f"/v1/payment-links/{link['id']}").json()
                assert paid["status"] == "paid"
                payments = api.get(f"/v1/payments?orderId={order['id']}").json()["data"]
                assert [(p["status"], p["amountMoney"]) for p in payments] == [
                    ("declined", usd(7500)),
                    ("captured", usd(7500)),
                ]
                assert payments[1]["card"] == {"brand": "visa", "last4": "4242"}

    to_flint = [seen for seen in wire.seen if seen.path.startswith("/pay/")]
    assert any(seen.path.endswith("/intent") for seen in to_flint)
    assert any(b"attempt=ch_" in seen.body for seen in to_flint)
    for seen in wire.seen:
        for number in (NUMBER, DECLINED):
            assert number not in seen.path and number not in seen.headers and number.encode() not in seen.body
    confirms = [seen for seen in stripe.seen if seen.path.endswith("/confirm")]
    assert len(confirms) == 2 and NUMBER.encode() in confirms[1].body  # the number went to Stripe alone
    assert len(stripe.intents) == 2 and all(
        i["metadata"]["flint_attempt"].startswith("ch_") for i in stripe.intents.values()
    )


def test_a_stripe_mode_estimate_page_approves_with_its_deposit(tmp_path: Path) -> None:
    with StripeDouble() as stripe:
        server = ServerProcess(tmp_path / "flint.db", stripe_env(stripe.url))
        with LosingProxy(server.url) as wire:
            server.env["FLINT_PUBLIC_URL"] = wire.url
            with server, httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}) as api:
                who = api.post(
                    "/v1/customers", json={"name": "David Chen", "phone": "+15555550103", "kind": "residential"}
                ).json()
                job = api.post(
                    "/v1/jobs", json={"customerId": who["id"], "title": "Water heater", "address": "17 Maple St"}
                ).json()
                made = api.post(
                    "/v1/estimates",
                    json={"jobId": job["id"], "title": "Water heater replacement", "options": THREE_OPTIONS,
                          "deposit": {"percentage": 10}},
                ).json()  # fmt: skip
                estimate = api.post(f"/v1/estimates/{made['id']}/send").json()
                better, extra = estimate["options"][1], estimate["options"][1]["lineItems"][1]

                with phone_browser(javascript=True) as browser:
                    browser.get(estimate["url"])
                    wait_for_text(browser, "Choose an option")
                    assert browser.find_elements(By.NAME, "cardNumber") == []  # no card field of Flint's own
                    browser.find_element(By.CSS_SELECTOR, f'input[value="{better["id"]}"]').click()
                    wait_for_text(browser, "$189.90")
                    browser.find_element(By.CSS_SELECTOR, f'input[value="{extra["uid"]}"]').click()
                    wait_for_text(browser, "Approve and pay $208.40")
                    browser.find_element(By.NAME, "acceptTerms").click()
                    browser.find_element(By.ID, "signerName").send_keys("David Chen")
                    pay_with(browser, DECLINED)
                    wait_for_text(browser, "Your card was declined")
                    assert api.get(f"/v1/estimates/{estimate['id']}").json()["state"] == "open"
                    browser.find_element(By.NAME, "acceptTerms").click()  # the choice and name are kept
                    pay_with(browser, NUMBER)
                    body = wait_for_text(browser, "Signed by David Chen")
                    assert "Deposit paid" in body and "$208.40" in body and "Visa •••• 4242" in body

                now = api.get(f"/v1/estimates/{estimate['id']}").json()
                approval = now["approval"]
                assert (now["state"], approval["optionId"], approval["optionalUids"]) == (
                    "approved", better["id"], [extra["uid"]]
                )  # fmt: skip
                payments = api.get(f"/v1/payments?orderId={approval['orderId']}").json()["data"]
                assert [(p["status"], p["amountMoney"]) for p in payments] == [("captured", usd(20840))]

    to_flint = [seen for seen in wire.seen if seen.path.startswith("/estimates/")]
    intents = [seen for seen in to_flint if seen.path.endswith("/intent")]
    assert len(intents) == 2 and all(b"signerName=David+Chen" in seen.body for seen in intents)
    assert all(f"optionalUids={extra['uid']}".encode() in seen.body for seen in intents)
    assert all(b"attempt=" not in seen.body for seen in intents)
    for seen in wire.seen:
        for number in (NUMBER, DECLINED):
            assert number not in seen.path and number not in seen.headers and number.encode() not in seen.body
    assert [i["amount"] for i in stripe.intents.values()] == [20840, 20840]


def pay_with(browser: object, number: str) -> None:
    fields = {"number": number, "exp": "12/2034", "cvc": "123", "postal": "94110"}
    for name, value in fields.items():
        box = browser.find_element(By.CSS_SELECTOR, f"[data-stripe={name}]")  # type: ignore[attr-defined]
        box.clear()
        box.send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()  # type: ignore[attr-defined]
