"""A money change and its trail event commit together or not at all."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.trail import store as trail_store
from tests.conftest import OFFICE
from tests.helpers import cash, get, item, job, link, order, pay, usd


@pytest.fixture
def failing_trail(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """Event types whose append blows up, as a full disk or a bug would."""
    failing: set[str] = set()
    append = trail_store.append

    def maybe_fail(tx: Any, **kwargs: Any) -> int:
        if kwargs["type"] in failing:
            raise OSError("disk full")
        return append(tx, **kwargs)

    monkeypatch.setattr(trail_store, "append", maybe_fail)
    return failing


async def test_no_cash_payment_without_its_event(client: AsyncTestClient[Any], failing_trail: set[str]) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 5000))
    failing_trail.add("payment.recorded")
    response = await client.post(
        "/v1/payments",
        json={"orderId": the_order["id"], "amountMoney": usd(1000), "method": "cash"},
        headers=OFFICE,
    )
    assert response.status_code == 500
    assert (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"] == []
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["paidMoney"] == usd(0)


async def test_no_refund_without_its_event(client: AsyncTestClient[Any], failing_trail: set[str]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    paid = await cash(client, the_order["id"], 5000)
    failing_trail.add("refund.created")
    body = {"paymentId": paid["id"], "amountMoney": usd(1000), "reason": "x"}
    assert (await client.post("/v1/refunds", json=body, headers=OFFICE)).status_code == 500
    assert (await get(client, f"/v1/orders/{the_order['id']}"))["refundedMoney"] == usd(0)
    assert (await get(client, f"/v1/payments/{paid['id']}"))["refundedMoney"] == usd(0)


async def test_no_card_capture_without_its_event(client: AsyncTestClient[Any], failing_trail: set[str]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    made = await link(client, the_order["id"])
    failing_trail.add("payment.captured")
    assert (await pay(client, made)).status_code == 500
    # In doubt, the charge counts as paid until it settles (contract §3 v3): nothing can collect it twice.
    shown = await get(client, f"/v1/orders/{the_order['id']}")
    assert (shown["paidMoney"], shown["balanceMoney"]) == (usd(5000), usd(0))
    assert (await get(client, f"/v1/payment-links/{made['id']}"))["status"] == "active"
    # The card was charged but nothing recorded it: the charge is in doubt. The page says the
    # payment is being confirmed and takes no second charge until it is settled.
    failing_trail.clear()
    again = await pay(client, made)
    assert again.status_code == 202 and "being confirmed" in again.text
    assert (await client.get(f"/pay/{made['url'].rsplit('/', 1)[1]}")).status_code == 202
    assert (await get(client, f"/v1/payments?orderId={the_order['id']}"))["data"] == []


async def test_no_line_item_without_its_event(client: AsyncTestClient[Any], failing_trail: set[str]) -> None:
    the_order = await order(client, None, item("Repair", 5000))
    failing_trail.add("order.line_item_added")
    response = await client.post(
        f"/v1/orders/{the_order['id']}/line-items", json={"lineItems": [item("Filter", 100)]}, headers=OFFICE
    )
    assert response.status_code == 500
    after = await get(client, f"/v1/orders/{the_order['id']}")
    assert (after["version"], after["totalMoney"]) == (1, usd(5000))
