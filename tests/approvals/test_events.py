"""Estimates and approvals in the account's events (contract §11): each `estimate.*` event carries
the estimate and each `approval.*` event the approval request, as the API shows them after the
change; an order whose lines turned approved or declined is rendered as `GET` shows it (each
line's kept JSON written again with its approval)."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.approvals.conftest import CUSTOMER_PHONE, code_in, inbound, page_path, pending, texts
from tests.estimates.conftest import approve_form, draft
from tests.estimates.conftest import page_path as estimate_path
from tests.helpers import customer, get, item, post
from tests.webhooks.test_events import Feed


async def test_estimate_and_approval_events_carry_their_objects(client: AsyncTestClient[Any]) -> None:
    feed = Feed(client)
    who = await customer(client, CUSTOMER_PHONE)
    job = await post(client, "/v1/jobs", {"customerId": who["id"], "title": "AC not cooling", "address": "412 Birch"})
    await feed.check()
    order = await post(
        client, "/v1/orders", {"lineItems": [item("Diagnostic", 11400)], "metadata": {"jobId": job["id"]}}
    )
    await feed.check()
    made = await draft(client, job["id"], deposit={"percentage": 10})
    await feed.check()
    estimate = await post(client, f"/v1/estimates/{made['id']}/send", None, 200)
    await feed.check()
    assert (await client.get(estimate_path(estimate))).status_code == 200
    await feed.check()
    declined = await client.post(
        estimate_path(estimate), data=approve_form(estimate, 1, deposit=18990, cardNumber="4000000000009995")
    )
    assert declined.status_code == 402
    await feed.check()
    assert (
        await client.post(estimate_path(estimate), data=approve_form(estimate, 1, deposit=18990))
    ).status_code == 200
    await feed.check()

    await post(
        client,
        f"/v1/orders/{order['id']}/line-items",
        {"lineItems": [pending("Pump", 18500), pending("Lamp", 2400)]},
        200,
    )
    await feed.check()
    pump, lamp = (await get(client, f"/v1/orders/{order['id']}"))["lineItems"][1:]
    first = await post(client, f"/v1/orders/{order['id']}/approval-requests", {"lineUids": [pump["uid"]]})
    await feed.check()
    [text] = [t for t in await texts(client, job["id"]) if t["id"] == first["smsId"]]
    await inbound(client, CUSTOMER_PHONE, code_in(text["body"]))
    await feed.check()
    second = await post(client, f"/v1/orders/{order['id']}/approval-requests", {"lineUids": [lamp["uid"]]})
    await feed.check()
    assert (await client.post(page_path(second["url"]) + "/decline", data={})).status_code == 200
    await feed.check()
    types = [e["type"] for e in feed.seen]
    for wanted in ("estimate.sent", "estimate.viewed", "estimate.approved", "payment.declined",
                   "approval.requested", "approval.approved", "approval.declined"):  # fmt: skip
        assert wanted in types, wanted
    # The order as events render it (each line's kept JSON) is the order as `GET` shows it, approvals included.
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [item("Filter", 2000)]}, 200)
    await feed.check()
    [added] = [
        e for e in feed.seen if e["type"] == "order.line_item_added" and e["data"]["totalMoney"]["amount"] == 31900
    ]
    assert [line["approval"] for line in added["data"]["lineItems"]] == ["none", "approved", "declined", "none"]
