"""Estimates against the server (contract §8): send freezes the content under its hash; a sent
estimate takes no change; the page approves with a deposit (a percentage rounded half up, less
what the job keeps) as one act with the capture; a declined card approves nothing; a second
approval is 409; the work order and the job's figures after; expiry; decline; void."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from server.estimates import answers
from server.store.db import connect, write_sync
from tests.conftest import OFFICE, FakeClock
from tests.estimates.conftest import (
    THREE_OPTIONS,
    approve_form,
    canonical_hash,
    draft,
    estimate_job,
    optional,
    page_path,
    sent,
)
from tests.helpers import GOOD_CARD, get, item, link, order, pay_path, post, usd


async def test_send_freezes_the_content_under_its_hash(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    job = await estimate_job(client)
    made = await draft(client, job["id"], deposit={"percentage": 10}, terms="Half the work guaranteed forever.")
    assert (made["state"], made["number"], made["contentHash"], made["url"], made["version"]) == (
        "draft",
        1,
        None,
        None,
        1,
    )
    assert [o["totalMoney"] for o in made["options"]] == [usd(145000), usd(189900), usd(374900)]
    changed = await client.patch(
        f"/v1/estimates/{made['id']}", json={"version": 1, "terms": "Work guaranteed for one year."}, headers=OFFICE
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = await client.patch(f"/v1/estimates/{made['id']}", json={"version": 1, "terms": "x"}, headers=OFFICE)
    assert (stale.status_code, stale.json()["currentVersion"]) == (409, 2)

    opened = await post(client, f"/v1/estimates/{made['id']}/send", None, 200)
    assert opened["state"] == "open" and opened["url"].startswith("http://flint.test/estimates/")
    assert opened["expiresAt"] == "2026-05-31T14:00:00.000Z"  # 30 days after the first send
    assert opened["contentHash"] == canonical_hash(opened)
    [text] = (await get(client, f"/v1/sms?jobId={job['id']}"))["data"]
    assert "estimate #1" in text["body"] and "from $1,450.00" in text["body"] and opened["url"] in text["body"]

    refused = await client.patch(f"/v1/estimates/{made['id']}", json={"version": 2, "title": "Cheaper"}, headers=OFFICE)
    assert (refused.status_code, refused.json()["code"]) == (422, "estimate_not_draft")
    clock.advance(days=1)
    again = await post(client, f"/v1/estimates/{made['id']}/send", {"to": "+15555550166"}, 200)
    assert (again["contentHash"], again["expiresAt"], again["url"]) == (
        opened["contentHash"], opened["expiresAt"], opened["url"]
    )  # fmt: skip
    assert [t["to"] for t in (await get(client, f"/v1/sms?jobId={job['id']}"))["data"]] == [
        "+15555550177",
        "+15555550166",
    ]
    trail = [e["type"] for e in (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]]
    assert trail.count("estimate.sent") == 2 and "estimate.updated" in trail


async def test_the_page_approves_with_a_deposit_less_what_the_job_keeps(client: AsyncTestClient[Any]) -> None:
    job = await estimate_job(client)
    dispatch = await post(
        client,
        "/v1/orders",
        {
            "lineItems": [item("Dispatch deposit", 2500)],
            "metadata": {"jobId": job["id"], "paymentStage": "dispatch_deposit"},
        },
    )
    paid = await client.post(pay_path(await link(client, dispatch["id"])), data=GOOD_CARD)
    assert paid.status_code == 200
    estimate = await sent(client, job["id"], deposit={"percentage": 15})
    path = page_path(estimate)
    page = await client.get(path)
    assert page.status_code == 200
    # Good with its expansion tank: $1,635.00; 15% is $245.25, less the $25.00 kept: $220.25.
    quote = await client.get(
        path + "/quote",
        params={
            "optionId": estimate["options"][0]["id"],
            "optionalUids": estimate["options"][0]["lineItems"][1]["uid"],
        },
    )
    assert quote.json()["depositMoney"] == usd(22025) and quote.json()["deposit"] == "$220.25"

    done = await client.post(path, data=approve_form(estimate, 0, 1, deposit=22025), headers={"User-Agent": "iPhone"})
    assert done.status_code == 200, done.text
    assert "Approved" in done.text and "$220.25" in done.text
    now = await get(client, f"/v1/estimates/{estimate['id']}")
    approval = now["approval"]
    assert now["state"] == "approved"
    assert approval["optionId"] == estimate["options"][0]["id"]
    assert approval["optionalUids"] == [estimate["options"][0]["lineItems"][1]["uid"]]
    assert (approval["signerName"], approval["channel"], approval["userAgent"]) == ("Maria Alvarez", "page", "iPhone")
    assert approval["contentHash"] == estimate["contentHash"] and approval["ip"]
    assert (approval["totalMoney"], approval["depositMoney"]) == (usd(163500), usd(22025))

    work = await get(client, f"/v1/orders/{approval['orderId']}")
    assert work["metadata"] == {"jobId": job["id"], "estimateId": estimate["id"], "paymentStage": "work"}
    assert [(line["name"], line["kind"], line["totalMoney"]) for line in work["lineItems"]] == [
        ("40-gallon tank", "service", usd(145000)),
        ("Expansion tank", "service", usd(18500)),
        ("Deposit applied", "deposit_applied", usd(2500)),
    ]
    assert (work["totalMoney"], work["paidMoney"], work["balanceMoney"]) == (usd(161000), usd(22025), usd(138975))
    [payment] = (await get(client, f"/v1/payments?orderId={work['id']}"))["data"]
    assert (payment["id"], payment["source"], payment["amountMoney"]) == (approval["paymentId"], "estimate", usd(22025))
    money = (await get(client, f"/v1/jobs/{job['id']}"))["payment"]
    assert (money["totalMoney"], money["paidMoney"], money["balanceMoney"]) == (usd(163500), usd(24525), usd(138975))

    second = await client.post(path, data=approve_form(estimate, 1, deposit=28485))
    assert second.status_code == 409
    assert len((await get(client, f"/v1/orders?jobId={job['id']}"))["data"]) == 2
    trail = [e["type"] for e in (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]]
    assert trail.index("estimate.viewed") < trail.index("estimate.approved") < len(trail)
    assert trail.count("estimate.viewed") == 1


async def test_a_declined_deposit_approves_nothing(client: AsyncTestClient[Any]) -> None:
    job = await estimate_job(client)
    estimate = await sent(client, job["id"], deposit={"amountMoney": usd(50000)})
    path = page_path(estimate)
    declined = await client.post(path, data=approve_form(estimate, 1, deposit=50000, cardNumber="4000000000000002"))
    assert declined.status_code == 402 and "Nothing was approved" in declined.text
    assert 'name="cardNumber"' in declined.text and 'value="Maria Alvarez"' in declined.text
    assert (await get(client, f"/v1/estimates/{estimate['id']}"))["state"] == "open"
    assert (await get(client, f"/v1/orders?jobId={job['id']}"))["data"] == []
    [event] = [
        e for e in (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"] if e["type"] == "payment.declined"
    ]
    assert event["data"]["estimateId"] == estimate["id"] and event["data"]["parts"] == []
    [feed] = (await get(client, "/v1/events?type=payment.declined"))["data"]
    assert feed["data"]["id"] == estimate["id"]  # no payment was made: the event carries the estimate
    assert (await client.post(path, data=approve_form(estimate, 1, deposit=50000))).status_code == 200
    assert (await get(client, f"/v1/jobs/{job['id']}"))["payment"]["paidMoney"] == usd(50000)


async def test_the_page_works_without_scripts_and_never_charges_what_it_did_not_show(
    client: AsyncTestClient[Any],
) -> None:
    job = await estimate_job(client)
    estimate = await sent(client, job["id"], deposit={"percentage": 10})
    path = page_path(estimate)
    shown = await client.get(path)
    policy = shown.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert shown.headers["cache-control"] == "no-store" and "<script>" not in shown.text
    page = shown.text
    assert 'name="expectedAmount" value="14500"' in page and "Approve and pay $145.00" in page
    assert 'type="radio" name="optionId" value="' + estimate["options"][0]["id"] + '" checked' in page
    assert "/static/estimate.js" in page
    # Scripts off: the customer ticks the expansion tank; the form still says the first deposit.
    changed = await client.post(path, data=approve_form(estimate, 0, 1, deposit=14500))
    assert changed.status_code == 409 and "$163.50" in changed.text and 'value="16350"' in changed.text
    assert f'value="{estimate["options"][0]["lineItems"][1]["uid"]}" checked' in changed.text
    assert (await get(client, f"/v1/estimates/{estimate['id']}"))["state"] == "open"
    missing = await client.post(path, data=approve_form(estimate, 0, deposit=14500, signerName=" "))
    assert missing.status_code == 400 and "Type your full name" in missing.text
    unticked = await client.post(path, data={**approve_form(estimate, 0, deposit=14500), "acceptTerms": ""})
    assert unticked.status_code == 400
    wrong = await client.post(path, data={**approve_form(estimate, 0, deposit=14500), "optionId": "opt_nope"})
    assert wrong.status_code == 400
    other = estimate["options"][1]["lineItems"][1]["uid"]
    crossed = await client.post(path, data={**approve_form(estimate, 0, deposit=14500), "optionalUids": [other]})
    assert crossed.status_code == 400
    assert (await get(client, f"/v1/orders?jobId={job['id']}"))["data"] == []
    assert (await client.post(path, data=approve_form(estimate, 0, 1, deposit=16350))).status_code == 200
    assert (await get(client, f"/v1/jobs/{job['id']}"))["payment"]["paidMoney"] == usd(16350)


async def test_a_percentage_is_rounded_half_up(client: AsyncTestClient[Any]) -> None:
    job = await estimate_job(client)
    options = [{"name": "Repair", "lineItems": [item("Repair", 123455), optional("Filter", 1001)]}]
    estimate = await sent(client, job["id"], options=options, deposit={"percentage": 10})
    page = (await client.get(page_path(estimate))).text
    assert 'name="expectedAmount" value="12346"' in page  # 10% of $1,234.55 is $123.455
    choice = {"optionId": estimate["options"][0]["id"], "optionalUids": estimate["options"][0]["lineItems"][1]["uid"]}
    quote = (await client.get(page_path(estimate) + "/quote", params=choice)).json()
    assert quote["depositMoney"] == usd(12446)  # 10% of $1,244.56 is $124.456
    assert (await client.post(page_path(estimate), data=approve_form(estimate, 0, deposit=12346))).status_code == 200
    assert (await get(client, f"/v1/estimates/{estimate['id']}"))["approval"]["depositMoney"] == usd(12346)


async def test_no_deposit_approves_with_no_card(client: AsyncTestClient[Any]) -> None:
    job = await estimate_job(client)
    estimate = await sent(client, job["id"])
    path = page_path(estimate)
    page = (await client.get(path)).text
    assert 'name="cardNumber"' not in page and ">Approve</button>" in page
    done = await client.post(
        path, data={"optionId": estimate["options"][2]["id"], "signerName": "Maria Alvarez", "acceptTerms": "yes"}
    )
    assert done.status_code == 200 and "Approved" in done.text
    now = await get(client, f"/v1/estimates/{estimate['id']}")
    assert (now["approval"]["paymentId"], now["approval"]["depositMoney"]) == (None, usd(0))
    money = (await get(client, f"/v1/jobs/{job['id']}"))["payment"]
    assert (money["totalMoney"], money["balanceMoney"]) == (usd(374900), usd(374900))


async def test_a_deposit_the_job_already_keeps_takes_no_card(client: AsyncTestClient[Any]) -> None:
    job = await estimate_job(client)
    dispatch = await order(client, None, item("Dispatch deposit", 50000))
    await client.patch(
        f"/v1/orders/{dispatch['id']}",
        json={"version": 1, "metadata": {"jobId": job["id"], "paymentStage": "dispatch_deposit"}},
        headers=OFFICE,
    )
    await post(client, "/v1/payments", {"orderId": dispatch["id"], "amountMoney": usd(50000), "method": "cash"})
    estimate = await sent(client, job["id"], deposit={"percentage": 10})
    page = (await client.get(page_path(estimate))).text
    assert 'name="expectedAmount" value="0"' in page and "less $500.00 paid already" in page
    done = await client.post(page_path(estimate), data=approve_form(estimate, 0, deposit=0))
    assert done.status_code == 200
    money = (await get(client, f"/v1/jobs/{job['id']}"))["payment"]
    assert (money["totalMoney"], money["paidMoney"], money["balanceMoney"]) == (usd(145000), usd(50000), usd(95000))


async def test_expiry(client: AsyncTestClient[Any], clock: FakeClock, db_path: Path) -> None:
    job = await estimate_job(client)
    estimate = await sent(client, job["id"], expiresAt="2026-05-08T14:00:00Z")
    assert estimate["expiresAt"] == "2026-05-08T14:00:00.000Z"
    clock.advance(days=7, seconds=1)
    assert (await get(client, f"/v1/estimates/{estimate['id']}"))["state"] == "expired"
    assert (await client.get(page_path(estimate))).status_code == 410
    refused = await client.post(page_path(estimate), data=approve_form(estimate, 0, deposit=None))
    assert refused.status_code == 410 and "expired" in refused.text
    again = await client.post(f"/v1/estimates/{estimate['id']}/send", headers=OFFICE)
    assert (again.status_code, again.json()["code"]) == (422, "estimate_expired")
    conn = connect(db_path)
    try:
        assert write_sync(conn, "2026-05-08T14:00:02.000Z", answers.expire_due) == 1
        assert write_sync(conn, "2026-05-08T14:00:03.000Z", answers.expire_due) == 0
    finally:
        conn.close()
    trail = (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]
    assert [e["data"]["estimateId"] for e in trail if e["type"] == "estimate.expired"] == [estimate["id"]]
    past = await client.post(
        "/v1/estimates",
        json={"jobId": job["id"], "title": "x", "options": THREE_OPTIONS[:1], "expiresAt": "2026-05-01T00:00:00Z"},
        headers=OFFICE,
    )
    assert past.status_code == 400


async def test_decline_and_void(client: AsyncTestClient[Any]) -> None:
    job = await estimate_job(client)
    estimate = await sent(client, job["id"])
    declined = await client.post(page_path(estimate) + "/decline", data={"reason": "Going tankless elsewhere"})
    assert declined.status_code == 200 and "You declined this estimate" in declined.text
    now = await get(client, f"/v1/estimates/{estimate['id']}")
    assert (now["state"], now["declineReason"], now["approval"]) == ("declined", "Going tankless elsewhere", None)
    assert (await client.post(page_path(estimate), data=approve_form(estimate, 0, deposit=None))).status_code == 409
    voided = await client.post(f"/v1/estimates/{estimate['id']}/void", headers=OFFICE)
    assert (voided.status_code, voided.json()["code"]) == (422, "estimate_not_open")

    other = await sent(client, job["id"])
    assert (await post(client, f"/v1/estimates/{other['id']}/void", None, 200))["state"] == "voided"
    assert (await client.get(page_path(other))).status_code == 410
    approved = await sent(client, job["id"])
    await client.post(page_path(approved), data=approve_form(approved, 0, deposit=None))
    refused = await client.post(f"/v1/estimates/{approved['id']}/void", headers=OFFICE)
    assert (refused.status_code, refused.json()["code"]) == (422, "estimate_approved")
    trail = [e["type"] for e in (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]]
    assert {"estimate.declined", "estimate.voided", "estimate.approved"} <= set(trail)


async def test_numbers_count_without_gaps_and_bad_input_is_refused(client: AsyncTestClient[Any], db_path: Path) -> None:
    job = await estimate_job(client)
    assert (await draft(client, job["id"]))["number"] == 1
    line = item("Tank", 1000)

    def one(*lines: dict[str, Any]) -> dict[str, Any]:
        return {"options": [{"name": "x", "lineItems": list(lines)}]}

    euro = {**line, "unitPriceMoney": {"amount": 1, "currency": "EUR"}}
    bad = [
        ({"options": []}, 400, "invalid_request"),
        ({"options": [{"name": "x", "lineItems": [line]}] * 6}, 400, "invalid_request"),
        ({"deposit": {"percentage": 0}}, 400, "invalid_request"),
        ({"deposit": {"percentage": 101}}, 400, "invalid_request"),
        ({"deposit": {"percentage": 10, "amountMoney": usd(100)}}, 400, "invalid_request"),
        ({"deposit": {}}, 400, "invalid_request"),
        ({"deposit": {"amountMoney": {"amount": 100, "currency": "EUR"}}}, 422, "currency_mismatch"),
        ({"option": []}, 400, "invalid_request"),
        (one(optional("Only extra", 100)), 400, "invalid_request"),
        (one({**line, "uid": "a"}, {**line, "uid": "a"}), 400, "invalid_request"),
        (one({**line, "kind": "deposit_applied"}), 400, "invalid_request"),
        (one(line, euro), 422, "currency_mismatch"),
        (one(line, item("Off", 2000, kind="discount")), 422, "negative_total"),
        (one(item("Big", 999_999_999_999, quantity=2)), 422, "amount_too_large"),
        ({"jobId": "job_nope"}, 422, "unknown_job"),
        ({"title": "x" * 201}, 400, "invalid_request"),
    ]  # fmt: skip
    for fields, status, code in bad:
        body = {"jobId": job["id"], "title": "Water heater", "options": THREE_OPTIONS, **fields}
        if "option" in fields:
            del body["options"]
        answer = await client.post("/v1/estimates", json=body, headers=OFFICE)
        assert (answer.status_code, answer.json()["code"]) == (status, code), fields
    assert (await draft(client, job["id"]))["number"] == 2
    conn = sqlite3.connect(db_path)
    assert [n for (n,) in conn.execute("SELECT number FROM estimates ORDER BY number")] == [1, 2]
    conn.close()
    assert (await client.get("/v1/estimates/est_nope", headers=OFFICE)).status_code == 404
    listed = await get(client, f"/v1/estimates?jobId={job['id']}")
    assert [e["number"] for e in listed["data"]] == [1, 2]
    assert (await client.get("/estimates/nope")).status_code == 404
