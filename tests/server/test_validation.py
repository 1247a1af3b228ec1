"""Every malformed body is a 400 problem with field errors, and stores nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE, table_counts
from tests.helpers import item, job, order, technician, usd

GOOD_ITEM = item("Deposit", 7500)

MALFORMED: list[tuple[str, str, Any, str]] = [
    # (method, path template, body, field named in the error)
    ("POST", "/v1/customers", b"", "body"),
    ("POST", "/v1/customers", b"{", "body"),
    ("POST", "/v1/customers", b"[]", "body"),
    ("POST", "/v1/customers", b"null", "body"),
    ("POST", "/v1/customers", b"\xff\xfe", "body"),
    ("POST", "/v1/customers", {"phone": "+15555550101", "kind": "residential"}, "name"),
    ("POST", "/v1/customers", {"name": "A", "phone": "555-0101", "kind": "residential"}, "phone"),
    ("POST", "/v1/customers", {"name": "A", "phone": "+15555550101", "kind": "vip"}, "kind"),
    ("POST", "/v1/customers", {"name": "", "phone": "+15555550101", "kind": "residential"}, "name"),
    (
        "POST",
        "/v1/customers",
        {"name": "A", "phone": "+15555550101", "kind": "residential", "email": "x"},
        "email",
    ),
    ("POST", "/v1/technicians", {"name": 7}, "name"),
    ("POST", "/v1/jobs", {"customerId": "{customer}", "title": "x"}, "address"),
    (
        "POST",
        "/v1/jobs",
        {"customerId": "{customer}", "title": "x", "address": "y", "scheduledAt": "tomorrow"},
        "scheduledAt",
    ),
    (
        "POST",
        "/v1/jobs",
        {"customerId": "{customer}", "title": "x", "address": "y", "scheduledAt": "2026-05-01T10:00:00"},
        "scheduledAt",
    ),
    ("PATCH", "/v1/jobs/{job}", {"status": "en_route"}, "version"),
    ("PATCH", "/v1/jobs/{job}", {"version": "1"}, "version"),
    ("PATCH", "/v1/jobs/{job}", {"version": 1, "status": "flying"}, "status"),
    ("POST", "/v1/orders", {"lineItems": "x"}, "lineItems"),
    ("POST", "/v1/orders", {"lineItems": [{"name": "a", "quantity": 1}]}, "lineItems[0].unitPriceMoney"),
    ("POST", "/v1/orders", {"lineItems": [{**GOOD_ITEM, "quantity": 0}]}, "lineItems[0].quantity"),
    ("POST", "/v1/orders", {"lineItems": [{**GOOD_ITEM, "quantity": 10001}]}, "lineItems[0].quantity"),
    ("POST", "/v1/orders", {"lineItems": [{**GOOD_ITEM, "quantity": "1"}]}, "lineItems[0].quantity"),
    ("POST", "/v1/orders", {"lineItems": [{**GOOD_ITEM, "quantity": 1.5}]}, "lineItems[0].quantity"),
    (
        "POST",
        "/v1/orders",
        {"lineItems": [{**GOOD_ITEM, "unitPriceMoney": {"amount": -1, "currency": "USD"}}]},
        "lineItems[0].unitPriceMoney.amount",
    ),
    (
        "POST",
        "/v1/orders",
        {"lineItems": [{**GOOD_ITEM, "unitPriceMoney": {"amount": 75.5, "currency": "USD"}}]},
        "lineItems[0].unitPriceMoney.amount",
    ),
    (
        "POST",
        "/v1/orders",
        {"lineItems": [{**GOOD_ITEM, "unitPriceMoney": {"amount": 10**30, "currency": "USD"}}]},
        "lineItems[0].unitPriceMoney.amount",
    ),
    (
        "POST",
        "/v1/orders",
        {"lineItems": [{**GOOD_ITEM, "unitPriceMoney": {"amount": 1, "currency": "usd"}}]},
        "lineItems[0].unitPriceMoney.currency",
    ),
    ("POST", "/v1/orders", {"lineItems": [{**GOOD_ITEM, "kind": "tip"}]}, "lineItems[0].kind"),
    ("POST", "/v1/orders", {"lineItems": [GOOD_ITEM], "metadata": {"jobId": 5}}, "metadata"),
    (
        "POST",
        "/v1/orders",
        {"lineItems": [{**GOOD_ITEM, "uid": "a"}, {**GOOD_ITEM, "uid": "a"}]},
        "lineItems",
    ),
    ("POST", "/v1/orders/{order}/line-items", {"lineItems": []}, "lineItems"),
    ("POST", "/v1/orders/{order}/line-items", {}, "lineItems"),
    ("PATCH", "/v1/orders/{order}", {"version": 1, "state": "paid"}, "state"),
    ("POST", "/v1/technicians/{technician}/devices", {"label": ["x"]}, "label"),
]


@pytest.fixture
async def targets(client: AsyncTestClient[Any]) -> dict[str, str]:
    the_job = await job(client)
    the_order = await order(client, the_job["id"])
    return {
        "customer": the_job["customerId"],
        "job": the_job["id"],
        "order": the_order["id"],
        "technician": (await technician(client))["id"],
    }


def fill(value: Any, targets: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**targets)
    if isinstance(value, dict):
        return {k: fill(v, targets) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, targets) for v in value]
    return value


@pytest.mark.parametrize(("method", "path", "body", "field"), MALFORMED)
async def test_malformed_bodies_are_400_and_store_nothing(
    client: AsyncTestClient[Any],
    db_path: Path,
    targets: dict[str, str],
    method: str,
    path: str,
    body: Any,
    field: str,
) -> None:
    before = table_counts(db_path)
    kwargs: dict[str, Any] = {"content": body} if isinstance(body, bytes) else {"json": fill(body, targets)}
    headers = {**OFFICE, "Content-Type": "application/json", "Idempotency-Key": f"k-{path}-{field}"}
    response = await client.request(method, path.format(**targets), headers=headers, **kwargs)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == "invalid_request"
    assert problem["status"] == 400
    assert {"type", "title", "detail"} <= problem.keys()
    assert field in [e["field"] for e in problem["errors"]], problem
    assert table_counts(db_path) == before


async def test_unknown_fields_are_refused_by_name(client: AsyncTestClient[Any], db_path: Path) -> None:
    """Contract v2: a typo (`line_items`) must never make an empty order."""
    before = table_counts(db_path)
    for body, field in (
        ({"line_items": [GOOD_ITEM]}, "line_items"),
        ({"lineItems": [{**GOOD_ITEM, "color": "red"}]}, "lineItems[0].color"),
        ({"lineItems": [GOOD_ITEM], "surprise": True}, "surprise"),
        ({"lineItems": [{**GOOD_ITEM, "unitPriceMoney": {**usd(1), "cents": 1}}]}, "lineItems[0].unitPriceMoney.cents"),
    ):
        response = await client.post("/v1/orders", json=body, headers=OFFICE)
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == [{"field": field, "message": "is not a field of this request"}]
    assert table_counts(db_path) == before


async def test_a_value_outside_a_closed_set_names_the_set(client: AsyncTestClient[Any], db_path: Path) -> None:
    before = table_counts(db_path)
    for path, body, field, message in (
        ("/v1/customers", {"name": "A", "phone": "+15555550101", "kind": "vip"}, "kind", "must be one of: "),
        (
            "/v1/orders",
            {"lineItems": [{**GOOD_ITEM, "kind": "labour"}]},
            "lineItems[0].kind",
            "must be one of: service, addon, travel",
        ),
        (
            "/v1/orders",
            {"lineItems": [{**GOOD_ITEM, "unitPriceMoney": {"amount": 1, "currency": "XXX"}}]},
            "lineItems[0].unitPriceMoney.currency",
            "must be an active ISO 4217 currency code such as USD",
        ),
        (
            "/v1/service-plans",
            {
                "customerId": "cus_x",
                "name": "Plan",
                "lineItems": [GOOD_ITEM],
                "interval": "fortnight",
                "startDate": "2026-01-31",
                "billing": "invoice",
            },
            "interval",
            "must be one of: week, month, quarter, year",
        ),
    ):
        response = await client.post(path, json=body, headers=OFFICE)
        assert response.status_code == 400, response.text
        [error] = response.json()["errors"]
        assert error["field"] == field
        assert error["message"].startswith(message), error
        assert response.json()["detail"] == f"{field}: {error['message']}"
    assert table_counts(db_path) == before


async def test_bad_query_parameters_are_400(client: AsyncTestClient[Any]) -> None:
    for query in ("limit=0", "limit=201", "limit=abc", "cursor=%%%", "cursor=bm90LWEtY3Vyc29y"):
        response = await client.get(f"/v1/orders?{query}", headers=OFFICE)
        assert response.status_code == 400, (query, response.text)
        assert response.json()["code"] == "invalid_request"


async def test_an_oversized_body_is_413(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/v1/customers", content=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}', headers=OFFICE
    )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


async def test_unknown_routes_are_problem_404(client: AsyncTestClient[Any]) -> None:
    response = await client.get("/v1/nothing-here", headers=OFFICE)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
