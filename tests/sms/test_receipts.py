"""After a capture through a link, one receipt by text, to where the link was texted, unless that
number opted out (contract §3 v2)."""

from __future__ import annotations

import time

import httpx

from tests.helpers import GOOD_CARD, item
from tests.sms.conftest import Texting, wait_for


def balance_link_texted(texting: Texting, number: str) -> dict[str, str]:
    customer = texting.api.post(
        "/v1/customers", json={"name": "Maria", "phone": "+15555550199", "kind": "residential"}
    ).json()
    job = texting.api.post("/v1/jobs", json={"customerId": customer["id"], "title": "AC", "address": "1 Main"}).json()
    for amount in (8900, 4500):
        texting.api.post("/v1/orders", json={"lineItems": [item("Work", amount)], "metadata": {"jobId": job["id"]}})
    link = texting.api.post("/v1/payment-links", json={"name": "Balance", "jobId": job["id"]}).json()
    sent = texting.api.post(f"/v1/payment-links/{link['id']}/send-sms", json={"to": number})
    assert sent.status_code == 202, sent.text
    texting.wait_status(sent.json()["id"], "delivered")
    return {**link, "jobId": job["id"]}


def test_one_receipt_after_paying_with_amount_and_last_four(texting: Texting) -> None:
    number = "+15555550170"
    link = balance_link_texted(texting, number)
    paid = httpx.post(link["url"], data=GOOD_CARD)
    assert paid.status_code == 200, paid.text
    texts = wait_for(lambda: [t for t in texting.texts_to(number) if "receipt" in t["body"]], what="the receipt")
    [receipt] = texts
    assert "$134.00" in receipt["body"] and "4242" in receipt["body"] and "/pay/" in receipt["body"]
    again = httpx.post(link["url"], data=GOOD_CARD)
    assert again.status_code == 200
    time.sleep(0.5)
    assert len([t for t in texting.texts_to(number) if "receipt" in t["body"]]) == 1


def test_no_receipt_to_a_number_that_opted_out(texting: Texting) -> None:
    number = "+15555550171"
    link = balance_link_texted(texting, number)
    texting.customer_texts(number, "STOP")
    paid = httpx.post(link["url"], data=GOOD_CARD)
    assert paid.status_code == 200
    messages = texting.api.get("/v1/sms", params={"jobId": link["jobId"]}).json()["data"]
    assert [m["status"] for m in messages][-1] == "blocked"
    time.sleep(0.5)
    assert [t for t in texting.texts_to(number) if "receipt" in t["body"]] == []
