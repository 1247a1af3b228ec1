"""A technician's day in the driveway, scripted with the `flint device` commands a phone runs: a
deposit paid before the truck rolls, an add-on in the basement with no signal, text-to-pay for
the job, and the customer paying the right amount once."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.helpers import GOOD_CARD, item
from tests.sms.conftest import Texting, wait_for
from tests.sync.office import enrol_with_job, flint_device


def test_the_driveway_day(texting: Texting, tmp_path: Path) -> None:
    setup = enrol_with_job(texting.api, phone="+15555550160", amount=8900)
    phone = tmp_path / "sam.db"

    # Before the truck rolls: the office texts a $75.00 dispatch deposit and the customer pays it.
    deposit = texting.api.post(
        "/v1/orders",
        json={
            "lineItems": [item("Dispatch deposit", 7500)],
            "metadata": {"jobId": setup.job_id, "paymentStage": "dispatch_deposit"},
        },
    ).json()
    asked = texting.api.post(
        "/v1/payment-links",
        json={"name": "Dispatch deposit", "orderId": deposit["id"], "amountMoney": {"amount": 7500, "currency": "USD"}},
    ).json()
    assert httpx.post(asked["url"], data=GOOD_CARD).status_code == 200
    truth = texting.api.get(f"/v1/jobs/{setup.job_id}").json()
    assert truth["payment"]["balanceMoney"]["amount"] == 8900 - 7500  # the deposit carried over

    def device(*args: str) -> str:
        result = flint_device(phone, *args)
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout

    # Morning: enrol and sync.
    assert "1 job(s)" in device("enroll", "--server", texting.server.url, "--token", setup.token)
    [job] = json.loads(device("jobs", "--json"))
    assert (job["id"], job["payment"]["balanceMoney"]["amount"]) == (setup.job_id, 1400)

    # In the basement: no signal. The add-on goes to the work order, never the deposit order.
    texting.server.stop()
    device("status", setup.job_id, "on_site")
    device("add-on", setup.job_id, "--name", "Capacitor", "--price", "4500")
    device("text-to-pay", setup.job_id)
    shown = json.loads(device("show", setup.job_id, "--json"))
    assert (shown["status"], shown["payment"]["balanceMoney"]["amount"]) == ("on_site", 1400 + 4500)

    failed = flint_device(phone, "sync")
    assert failed.returncode == 1
    assert "could not reach" in failed.stderr
    outbox = json.loads(device("outbox", "--json"))
    assert [o["name"] for o in outbox] == ["job.setStatus", "order.addLineItem", "textToPay.request"]
    assert all(o["status"] == "pending" for o in outbox)
    assert outbox[1]["args"]["orderId"] == setup.order_id and outbox[2]["args"]["jobId"] == setup.job_id

    # Back in the driveway: the signal returns.
    texting.restart_server()
    report = json.loads(device("sync", "--json"))
    assert (report["pushed"], report["applied"], report["pending"]) == (3, 3, 0)
    assert device("outbox").strip() == "The outbox is empty."
    assert "Pushed 0" in device("sync")  # nothing goes twice

    text = wait_for(
        lambda: [t for t in texting.texts_to(setup.customer_phone) if "Payment for" in t["body"]],
        what="the customer's text",
    )[0]
    assert "$59.00" in text["body"] and "/pay/" in text["body"]
    truth = texting.api.get(f"/v1/jobs/{setup.job_id}").json()
    assert (truth["status"], truth["payment"]["balanceMoney"]["amount"]) == ("on_site", 5900)
    shown = json.loads(device("show", setup.job_id, "--json"))
    assert shown["payment"]["balanceMoney"] == truth["payment"]["balanceMoney"]

    # The customer pays from the text, once; asking again changes nothing.
    pay_url = next(word for word in text["body"].split() if "/pay/" in word)
    assert httpx.post(pay_url, data=GOOD_CARD).status_code == 200
    assert httpx.post(pay_url, data=GOOD_CARD).status_code == 200
    payments = texting.api.get("/v1/payments", params={"jobId": setup.job_id}).json()["data"]
    assert sorted(p["amountMoney"]["amount"] for p in payments) == [5900, 7500]
    assert texting.api.get(f"/v1/jobs/{setup.job_id}").json()["payment"]["balanceMoney"]["amount"] == 0

    def receipts() -> list[str]:
        return [t["body"] for t in texting.texts_to(setup.customer_phone) if "receipt" in t["body"]]

    wait_for(lambda: len(receipts()) == 2, what="a receipt for each payment")
    time.sleep(0.3)
    [for_deposit, for_balance] = receipts()
    assert "$75.00" in for_deposit and "$59.00" in for_balance and "4242" in for_balance
    device("sync")
    assert json.loads(device("show", setup.job_id, "--json"))["payment"]["balanceMoney"]["amount"] == 0
