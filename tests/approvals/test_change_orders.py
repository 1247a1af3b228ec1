"""Change orders (contract §8): a line that needs approval is pending and owed by nobody until the
customer approves it (on its page or by replying the 6-digit code from the number it was texted
to); a wrong code, another number or an old code approves nothing; decline; a new request
replaces the old one."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.approvals.conftest import CUSTOMER_PHONE, code_in, inbound, page_path, pending, texts, work_job
from tests.conftest import OFFICE, FakeClock
from tests.helpers import get, item, pay_path, post, usd


async def _ask(client: AsyncTestClient[Any], order_id: str, **body: Any) -> dict[str, Any]:
    return await post(client, f"/v1/orders/{order_id}/approval-requests", body or None)


async def test_a_pending_line_is_in_no_figure_until_approved_by_code(client: AsyncTestClient[Any]) -> None:
    job, order = await work_job(client)
    added = await post(
        client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("Condensate pump", 18500)]}, 200
    )
    [_, line] = added["lineItems"]
    assert (line["approval"], line["totalMoney"]) == ("pending", usd(18500))
    assert added["totalMoney"] == usd(11400) and added["balanceMoney"] == usd(11400)
    shown = await get(client, f"/v1/jobs/{job['id']}")
    assert (shown["payment"]["totalMoney"], shown["payment"]["balanceMoney"]) == (usd(11400), usd(11400))
    board = await get(client, "/v1/dispatch/board")
    assert next(j for j in board["jobs"] if j["id"] == job["id"])["balanceMoney"] == usd(11400)
    balance_link = await post(client, "/v1/payment-links", {"name": "Balance", "jobId": job["id"]})
    assert balance_link["amountMoney"] == usd(11400)
    pay_page = await client.get(pay_path(balance_link))
    assert "Condensate pump" in pay_page.text and "Awaiting your approval" in pay_page.text
    invoice = await post(client, "/v1/invoices", {"orderId": order["id"], "recipient": {"name": "Maria Alvarez"}})
    assert invoice["amountDueMoney"] == usd(11400)

    request = await _ask(client, order["id"])
    assert (request["status"], request["lineUids"], request["totalMoney"]) == ("pending", [line["uid"]], usd(18500))
    assert request["url"].startswith("http://flint.test/approvals/") and len(request["contentHash"]) == 64
    [text] = [t for t in await texts(client, job["id"]) if t["id"] == request["smsId"]]
    assert text["to"] == CUSTOMER_PHONE
    assert "Condensate pump $185.00" in text["body"] and "$299.00" in text["body"] and request["url"] in text["body"]

    await inbound(client, CUSTOMER_PHONE, " ".join([code_in(text["body"])[:3], code_in(text["body"])[3:]]))
    after = await get(client, f"/v1/approval-requests/{request['id']}")
    assert after["status"] == "approved"
    approval = after["approval"]
    assert (approval["channel"], approval["phone"], approval["signerName"]) == ("sms_code", CUSTOMER_PHONE, None)
    assert approval["contentHash"] == request["contentHash"] and approval["totalMoney"] == usd(18500)
    now = await get(client, f"/v1/orders/{order['id']}")
    assert now["lineItems"][1]["approval"] == "approved" and now["totalMoney"] == usd(29900)
    assert (await get(client, f"/v1/jobs/{job['id']}"))["payment"]["balanceMoney"] == usd(29900)
    assert (await get(client, f"/v1/payment-links/{balance_link['id']}"))["amountMoney"] == usd(29900)
    assert (await get(client, f"/v1/invoices/{invoice['id']}"))["amountDueMoney"] == usd(29900)
    bodies = [t["body"] for t in await texts(client, job["id"])]
    assert any("approved, thank you" in b and "$299.00" in b for b in bodies)
    trail = [e["type"] for e in (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]]
    assert trail.index("approval.requested") < trail.index("approval.approved")


async def test_a_wrong_code_or_another_number_approves_nothing(client: AsyncTestClient[Any]) -> None:
    job, order = await work_job(client)
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("Condensate pump", 18500)]}, 200)
    request = await _ask(client, order["id"])
    [text] = [t for t in await texts(client, job["id"]) if t["id"] == request["smsId"]]
    code = code_in(text["body"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    await inbound(client, CUSTOMER_PHONE, wrong)
    await inbound(client, "+15555550199", code)  # the right code, from another number
    assert (await get(client, f"/v1/approval-requests/{request['id']}"))["status"] == "pending"
    assert (await get(client, f"/v1/orders/{order['id']}"))["totalMoney"] == usd(11400)
    mismatches = [t for t in await texts(client, job["id"]) if "did not match" in t["body"]]
    assert [t["to"] for t in mismatches] == [CUSTOMER_PHONE]  # the other number's reply is on no job's trail
    replies = (await get(client, "/v1/sms?limit=200"))["data"]
    assert any(t["to"] == "+15555550199" and "did not match" in t["body"] for t in replies)

    await inbound(client, CUSTOMER_PHONE, code)  # a wrong code did not spend the right one
    assert (await get(client, f"/v1/approval-requests/{request['id']}"))["status"] == "approved"


async def test_five_wrong_codes_stop_a_numbers_codes_but_not_the_page(client: AsyncTestClient[Any]) -> None:
    job, order = await work_job(client)
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("Condensate pump", 18500)]}, 200)
    request = await _ask(client, order["id"])
    [text] = [t for t in await texts(client, job["id"]) if t["id"] == request["smsId"]]
    code = code_in(text["body"])
    for guess in range(5):
        await inbound(client, CUSTOMER_PHONE, f"{(int(code) + 1 + guess) % 1_000_000:06d}")
    await inbound(client, CUSTOMER_PHONE, code)
    assert (await get(client, f"/v1/approval-requests/{request['id']}"))["status"] == "pending"
    assert any("paused" in t["body"] for t in await texts(client, job["id"]))
    done = await client.post(page_path(request["url"]), data={"signerName": "Maria Alvarez", "acceptTerms": "yes"})
    assert done.status_code == 200 and "Approved" in done.text
    approved = await get(client, f"/v1/approval-requests/{request['id']}")
    assert approved["approval"]["channel"] == "page" and approved["approval"]["signerName"] == "Maria Alvarez"


async def test_a_code_after_24_hours_approves_nothing(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    job, order = await work_job(client)
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("Condensate pump", 18500)]}, 200)
    request = await _ask(client, order["id"])
    [text] = [t for t in await texts(client, job["id"]) if t["id"] == request["smsId"]]
    clock.advance(hours=24, seconds=1)
    await inbound(client, CUSTOMER_PHONE, code_in(text["body"]))
    assert (await get(client, f"/v1/approval-requests/{request['id']}"))["status"] == "expired"
    assert (await get(client, f"/v1/orders/{order['id']}"))["lineItems"][1]["approval"] == "pending"
    assert (await client.get(page_path(request["url"]))).status_code == 410


async def test_yes_still_opts_back_in_and_approves_nothing(client: AsyncTestClient[Any]) -> None:
    _, order = await work_job(client)
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("Condensate pump", 18500)]}, 200)
    await inbound(client, CUSTOMER_PHONE, "STOP")
    blocked = await _ask(client, order["id"])
    assert (await get(client, f"/v1/sms/{blocked['smsId']}"))["status"] == "blocked"
    await inbound(client, CUSTOMER_PHONE, "yes")
    assert (await get(client, f"/v1/approval-requests/{blocked['id']}"))["status"] == "pending"
    again = await _ask(client, order["id"])
    assert (await get(client, f"/v1/sms/{again['smsId']}"))["status"] != "blocked"


async def test_the_page_approves_once_and_declines(client: AsyncTestClient[Any]) -> None:
    _, order = await work_job(client)
    await post(
        client,
        f"/v1/orders/{order['id']}/line-items",
        {"lineItems": [pending("Condensate pump", 18500), pending("UV lamp", 24000)]},
        200,
    )
    pump, lamp = (await get(client, f"/v1/orders/{order['id']}"))["lineItems"][1:]
    request = await _ask(client, order["id"], lineUids=[pump["uid"]])
    path = page_path(request["url"])
    shown = await client.get(path)
    assert shown.status_code == 200 and "Condensate pump" in shown.text and "UV lamp" not in shown.text
    assert "$299.00" in shown.text and "content-security-policy" in shown.headers
    refused = await client.post(path, data={"signerName": "", "acceptTerms": "yes"})
    assert refused.status_code == 400
    refused = await client.post(path, data={"signerName": "Maria Alvarez"})
    assert refused.status_code == 400
    assert (await get(client, f"/v1/approval-requests/{request['id']}"))["status"] == "pending"
    done = await client.post(
        path, data={"signerName": "Maria  Alvarez ", "acceptTerms": "yes"}, headers={"User-Agent": "Phone/1"}
    )
    assert done.status_code == 200
    approval = (await get(client, f"/v1/approval-requests/{request['id']}"))["approval"]
    assert (approval["signerName"], approval["userAgent"], approval["channel"]) == ("Maria Alvarez", "Phone/1", "page")
    assert approval["ip"]
    assert (await client.post(path, data={"signerName": "Someone Else", "acceptTerms": "yes"})).status_code == 409
    assert (await get(client, f"/v1/orders/{order['id']}"))["totalMoney"] == usd(29900)

    second = await _ask(client, order["id"])
    assert second["lineUids"] == [lamp["uid"]]
    declined = await client.post(page_path(second["url"]) + "/decline", data={"reason": "Not this visit"})
    assert declined.status_code == 200 and "declined" in declined.text
    now = await get(client, f"/v1/approval-requests/{second['id']}")
    assert (now["status"], now["declineReason"]) == ("declined", "Not this visit")
    order_now = await get(client, f"/v1/orders/{order['id']}")
    assert order_now["lineItems"][2]["approval"] == "declined" and order_now["totalMoney"] == usd(29900)
    gone = await client.delete(f"/v1/orders/{order['id']}/line-items/{lamp['uid']}", headers=OFFICE)
    assert gone.status_code == 422 and gone.json()["code"] == "line_declined"
    nothing = await client.post(f"/v1/orders/{order['id']}/approval-requests", json={}, headers=OFFICE)
    assert nothing.status_code == 422 and nothing.json()["code"] == "nothing_pending"


async def test_a_new_request_replaces_the_open_one_and_a_removed_line_cancels_it(client: AsyncTestClient[Any]) -> None:
    job, order = await work_job(client)
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("Condensate pump", 18500)]}, 200)
    first = await _ask(client, order["id"])
    second = await _ask(client, order["id"])
    assert (await get(client, f"/v1/approval-requests/{first['id']}"))["status"] == "replaced"
    [old] = [t for t in await texts(client, job["id"]) if t["id"] == first["smsId"]]
    await inbound(client, CUSTOMER_PHONE, code_in(old["body"]))
    assert (await get(client, f"/v1/approval-requests/{second['id']}"))["status"] == "pending"
    assert (await client.get(page_path(first["url"]))).status_code == 410

    uid = second["lineUids"][0]
    removed = await client.delete(f"/v1/orders/{order['id']}/line-items/{uid}", headers=OFFICE)
    assert removed.status_code == 200 and removed.json()["totalMoney"] == usd(11400)
    assert (await get(client, f"/v1/approval-requests/{second['id']}"))["status"] == "cancelled"
    assert (
        await client.post(page_path(second["url"]), data={"signerName": "M", "acceptTerms": "yes"})
    ).status_code == 410


async def test_bad_requests_get_the_contracts_errors(client: AsyncTestClient[Any]) -> None:
    job, order = await work_job(client)
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("Condensate pump", 18500)]}, 200)
    cases = [
        ({"lineUids": ["nope"]}, 422, "unknown_line"),
        ({"lineUids": [order["lineItems"][0]["uid"]]}, 422, "line_not_pending"),
        ({"to": "555"}, 400, "invalid_request"),
        ({"lineUid": []}, 400, "invalid_request"),
    ]
    for body, status, code in cases:
        answer = await client.post(f"/v1/orders/{order['id']}/approval-requests", json=body, headers=OFFICE)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
    missing = await client.post("/v1/orders/ord_nope/approval-requests", json={}, headers=OFFICE)
    assert missing.status_code == 404
    assert (await client.get("/v1/approval-requests/apr_nope", headers=OFFICE)).status_code == 404
    deposit = await client.post(
        "/v1/orders",
        json={
            "lineItems": [pending("Deposit", 5000)],
            "metadata": {"jobId": job["id"], "paymentStage": "dispatch_deposit"},
        },
        headers=OFFICE,
    )
    assert (deposit.status_code, deposit.json()["code"]) == (422, "deposit_order")
    assert (await client.get("/approvals/not-a-token")).status_code == 404


async def test_would_overpay_leaves_pending_lines_out(client: AsyncTestClient[Any]) -> None:
    job, order = await work_job(client)
    await post(
        client,
        f"/v1/orders/{order['id']}/line-items",
        {"lineItems": [pending("Condensate pump", 18500), item("Filter", 2000)]},
        200,
    )
    await post(client, "/v1/payments", {"orderId": order["id"], "amountMoney": usd(13400), "method": "cash"})
    filter_uid = (await get(client, f"/v1/orders/{order['id']}"))["lineItems"][2]["uid"]
    refused = await client.delete(f"/v1/orders/{order['id']}/line-items/{filter_uid}", headers=OFFICE)
    assert refused.status_code == 422 and refused.json()["code"] == "would_overpay"
    paid = await get(client, f"/v1/jobs/{job['id']}")
    assert paid["payment"]["balanceMoney"] == usd(0)
    link = await client.post("/v1/payment-links", json={"name": "Balance", "jobId": job["id"]}, headers=OFFICE)
    assert link.json()["code"] == "nothing_due"
