from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import customer, item, post, technician
from tests.sms.conftest import texting
from tests.sync.devices import Field, Template, make_template

_clients = itertools.count(1)


@dataclass
class Phone:
    """A technician's device as the server sees it: a token and a client id."""

    client: AsyncTestClient[Any]
    token: str
    technician_id: str
    device_id: str
    client_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def push(self, *mutations: dict[str, Any], client_id: str | None = None, status: int = 200) -> Any:
        body = {"clientId": client_id or self.client_id, "schemaVersion": 1, "mutations": list(mutations)}
        response = await self.client.post("/v1/sync/push", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()

    async def pull(self, cursor: str | None = None, limit: int = 200, status: int = 200) -> Any:
        body = {"clientId": self.client_id, "schemaVersion": 1, "cursor": cursor, "limit": limit}
        response = await self.client.post("/v1/sync/pull", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()

    async def pull_all(self, cursor: str | None = None, limit: int = 200) -> tuple[list[dict[str, Any]], str]:
        changes: list[dict[str, Any]] = []
        while True:
            page = await self.pull(cursor, limit)
            changes += page["changes"]
            cursor = page["cursor"]
            if not page["hasMore"]:
                return changes, cursor


async def phone_for(client: AsyncTestClient[Any], name: str = "Sam Ortiz") -> Phone:
    tech = await technician(client, name)
    enrolled = await post(client, f"/v1/technicians/{tech['id']}/devices", {"label": "phone"})
    return Phone(client, enrolled["token"], tech["id"], enrolled["id"], f"client-{next(_clients)}-{uuid.uuid4()}")


@pytest.fixture
async def phone(client: AsyncTestClient[Any]) -> Phone:
    return await phone_for(client)


async def assigned_job(
    client: AsyncTestClient[Any], phone: Phone, *items: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A job for `phone`'s technician with one open order."""
    who = await customer(client)
    job = await post(
        client,
        "/v1/jobs",
        {
            "customerId": who["id"],
            "title": "AC not cooling",
            "address": "1 Main",
            "technicianId": phone.technician_id,
        },
    )
    order = await post(
        client,
        "/v1/orders",
        {"lineItems": list(items) or [item("Diagnostic", 8900)], "metadata": {"jobId": job["id"]}},
    )
    return job, order


def add_line(
    mutation_id: int, order_id: str, amount: int = 4500, name: str = "Capacitor", **extra: Any
) -> dict[str, Any]:
    return {
        "id": mutation_id,
        "name": "order.addLineItem",
        "args": {
            "orderId": order_id,
            "uid": str(uuid.uuid4()),
            "name": name,
            "quantity": 1,
            "unitPriceMoney": {"amount": amount, "currency": "USD"},
            "kind": "addon",
            **extra,
        },
        "clientAt": "2026-05-01T09:00:00Z",
    }


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """One device enrolled against a real server, made once; its server is stopped."""
    return make_template(tmp_path_factory.mktemp("template"))


@dataclass
class Offline:
    """A copy of the enrolled device file, for one test, with no server to reach."""

    db: Path
    field: Field


@pytest.fixture
def offline(template: Template, tmp_path: Path) -> Offline:
    return Offline(template.copy(tmp_path / "device.db"), template.field)


__all__ = ["OFFICE", "Phone", "add_line", "assigned_job", "phone_for", "texting"]
