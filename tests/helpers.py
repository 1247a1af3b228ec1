"""Small builders over the office API, so each test says only what it is about."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE


def usd(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD"}


def item(name: str, amount: int, quantity: int = 1, kind: str = "service", **extra: Any) -> dict[str, Any]:
    return {"name": name, "quantity": quantity, "unitPriceMoney": usd(amount), "kind": kind, **extra}


async def post(client: AsyncTestClient[Any], path: str, body: Any, status: int = 201, **headers: str) -> Any:
    response = await client.post(path, json=body, headers={**OFFICE, **headers})
    assert response.status_code == status, response.text
    return response.json()


async def customer(client: AsyncTestClient[Any], phone: str = "+15555550101") -> dict[str, Any]:
    return await post(client, "/v1/customers", {"name": "Maria Alvarez", "phone": phone, "kind": "residential"})


async def technician(client: AsyncTestClient[Any], name: str = "Sam Ortiz") -> dict[str, Any]:
    return await post(client, "/v1/technicians", {"name": name})


async def job(client: AsyncTestClient[Any], **fields: Any) -> dict[str, Any]:
    if "customerId" not in fields:
        fields["customerId"] = (await customer(client))["id"]
    body = {"title": "AC not cooling", "address": "412 Birch Lane", **fields}
    return await post(client, "/v1/jobs", body)


async def order(client: AsyncTestClient[Any], job_id: str | None, *items: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"lineItems": list(items) or [item("Dispatch deposit", 7500)]}
    if job_id is not None:
        body["metadata"] = {"jobId": job_id}
    return await post(client, "/v1/orders", body)


GOOD_CARD = {
    "cardNumber": "4242 4242 4242 4242",
    "expMonth": "12",
    "expYear": "2034",
    "cvc": "123",
    "postalCode": "94110",
}


async def link(client: AsyncTestClient[Any], order_id: str, amount: int | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Dispatch deposit", "orderId": order_id, **fields}
    if amount is not None:
        body["amountMoney"] = usd(amount)
    return await post(client, "/v1/payment-links", body)


def pay_path(link: dict[str, Any]) -> str:
    return "/pay/" + link["url"].rsplit("/pay/", 1)[1]


async def pay(client: AsyncTestClient[Any], link: dict[str, Any], **card: str) -> Any:
    return await client.post(pay_path(link), data={**GOOD_CARD, **card})


async def cash(client: AsyncTestClient[Any], order_id: str, amount: int, status: int = 201) -> Any:
    return await post(
        client, "/v1/payments", {"orderId": order_id, "amountMoney": usd(amount), "method": "cash"}, status
    )


async def get(client: AsyncTestClient[Any], path: str) -> Any:
    response = await client.get(path, headers=OFFICE)
    assert response.status_code == 200, response.text
    return response.json()
