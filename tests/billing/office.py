"""Builders over the office API for billing tests, and the invoice page as a customer uses it."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import GOOD_CARD, customer, item, job, order, post

AP_PHONE = "+15555550142"


def page_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def work_order(client: AsyncTestClient[Any], amount: int = 150000, **fields: Any) -> dict[str, Any]:
    """An order of one line on a job for a commercial customer."""
    the_job = await job(client, title="Boiler service, Unit 4B", **fields)
    return await order(client, the_job["id"], item("Boiler service (commercial)", amount))


async def invoice(
    client: AsyncTestClient[Any],
    order_id: str,
    *requests: dict[str, Any],
    phone: str | None = AP_PHONE,
    status: int = 201,
    **fields: Any,
) -> Any:
    recipient: dict[str, Any] = {"name": "Oakridge Property Management"}
    if phone is not None:
        recipient["phone"] = phone
    body: dict[str, Any] = {"orderId": order_id, "recipient": recipient, **fields}
    if requests:
        body["paymentRequests"] = list(requests)
    return await post(client, "/v1/invoices", body, status)


def deposit(due: str, amount: int | None = None, percentage: float | None = None) -> dict[str, Any]:
    asked: dict[str, Any] = {"type": "deposit", "dueDate": due}
    if amount is not None:
        asked["amountMoney"] = {"amount": amount, "currency": "USD"}
    if percentage is not None:
        asked["percentage"] = percentage
    return asked


def balance(due: str) -> dict[str, Any]:
    return {"type": "balance", "dueDate": due}


async def publish(client: AsyncTestClient[Any], invoice_id: str, status: int = 200) -> Any:
    return await post(client, f"/v1/invoices/{invoice_id}/publish", None, status)


async def published(client: AsyncTestClient[Any], order_id: str, *requests: dict[str, Any], **fields: Any) -> Any:
    made = await invoice(client, order_id, *requests, **fields)
    return await publish(client, made["id"])


def page_path(made: dict[str, Any]) -> str:
    return "/invoices/" + made["publicUrl"].rsplit("/invoices/", 1)[1]


def shown_form(html: str) -> dict[str, str]:
    """The hidden fields of the page's card form: which request it pays, and how much."""
    return dict(re.findall(r'<input type="hidden" name="(request|expectedAmount)" value="([^"]*)">', html))


async def pay_invoice(client: AsyncTestClient[Any], made: dict[str, Any], **card: str) -> Any:
    """Open the page and pay what its form shows, as a customer would."""
    page = await client.get(page_path(made))
    assert page.status_code == 200, page.text
    return await client.post(page_path(made), data={**GOOD_CARD, **shown_form(page.text), **card})


async def texts(client: AsyncTestClient[Any], **where: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/sms", params={**where, "limit": 200}, headers=OFFICE)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


async def trail_types(client: AsyncTestClient[Any], job_id: str) -> list[str]:
    response = await client.get(f"/v1/jobs/{job_id}/trail", headers=OFFICE)
    return [e["type"] for e in response.json()["events"]]


async def a_customer(client: AsyncTestClient[Any], phone: str = "+15555550177") -> dict[str, Any]:
    return await customer(client, phone)


async def plan(client: AsyncTestClient[Any], customer_id: str, status: int = 201, **fields: Any) -> Any:
    body = {
        "customerId": customer_id,
        "name": "Monthly rooftop maintenance",
        "lineItems": [item("Rooftop unit service", 9900)],
        "interval": "month",
        "startDate": "2026-05-01",
        "billing": "invoice",
        **fields,
    }
    return await post(client, "/v1/service-plans", body, status)


async def run_billing(client: AsyncTestClient[Any], as_of: str | None = None) -> int:
    body = {"asOf": as_of} if as_of else {}
    made: int = (await post(client, "/v1/billing/run", body, 200))["cyclesCreated"]
    return made


async def remind(client: AsyncTestClient[Any]) -> int:
    sent: int = (await post(client, "/v1/billing/reminders", None, 200))["remindersSent"]
    return sent


async def cycles(client: AsyncTestClient[Any], plan_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/service-plans/{plan_id}/cycles", params={"limit": 200}, headers=OFFICE)
    assert response.status_code == 200, response.text
    return list(response.json()["data"])
