from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import post, technician

OFFICE_ROUTES = [
    ("GET", "/v1/customers"),
    ("POST", "/v1/customers"),
    ("GET", "/v1/technicians"),
    ("POST", "/v1/jobs"),
    ("GET", "/v1/jobs"),
    ("GET", "/v1/jobs/job_x"),
    ("PATCH", "/v1/jobs/job_x"),
    ("GET", "/v1/jobs/job_x/trail"),
    ("POST", "/v1/orders"),
    ("GET", "/v1/orders"),
    ("POST", "/v1/orders/ord_x/line-items"),
    ("DELETE", "/v1/orders/ord_x/line-items/u"),
    ("PATCH", "/v1/orders/ord_x"),
    ("DELETE", "/v1/devices/dev_x"),
]


async def enrol(client: AsyncTestClient[Any]) -> dict[str, Any]:
    tech = await technician(client)
    return await post(client, f"/v1/technicians/{tech['id']}/devices", {"label": "Sam's phone"})


@pytest.mark.parametrize(("method", "path"), OFFICE_ROUTES)
async def test_the_office_api_needs_the_office_key(client: AsyncTestClient[Any], method: str, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = await client.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (headers, response.text)
        assert response.json()["code"] == "unauthorized"
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_device_token_opens_nothing_of_the_office_api(client: AsyncTestClient[Any]) -> None:
    device = await enrol(client)
    as_device = {"Authorization": f"Bearer {device['token']}"}
    for method, path in OFFICE_ROUTES:
        response = await client.request(method, path, headers=as_device, json={})
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden"
    # Nothing was created by those attempts.
    assert (await client.get("/v1/customers", headers=OFFICE)).json()["data"] == []


async def test_the_token_is_shown_once_and_stored_only_as_a_hash(client: AsyncTestClient[Any], db_path: Path) -> None:
    device = await enrol(client)
    token = device["token"]
    assert device["id"].startswith("dev_")
    assert len(token) >= 40
    listed = (await client.get(f"/v1/technicians/{device['technicianId']}/devices", headers=OFFICE)).json()
    assert [d["id"] for d in listed["data"]] == [device["id"]]
    assert "token" not in listed["data"][0]

    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    for path in db_path.parent.glob(db_path.name + "*"):
        assert token.encode() not in path.read_bytes(), path


async def test_a_revoked_token_is_refused(client: AsyncTestClient[Any]) -> None:
    device = await enrol(client)
    as_device = {"Authorization": f"Bearer {device['token']}"}
    assert (await client.get("/v1/customers", headers=as_device)).status_code == 403

    revoked = await client.delete(f"/v1/devices/{device['id']}", headers=OFFICE)
    assert revoked.status_code == 204
    assert (await client.get("/v1/customers", headers=as_device)).status_code == 401
    again = await client.delete(f"/v1/devices/{device['id']}", headers=OFFICE)
    assert again.status_code == 204
    missing = await client.delete("/v1/devices/dev_nope", headers=OFFICE)
    assert missing.status_code == 404
    listed = (await client.get(f"/v1/technicians/{device['technicianId']}/devices", headers=OFFICE)).json()
    assert listed["data"][0]["revokedAt"] is not None


async def test_health_and_schema_need_no_key(client: AsyncTestClient[Any]) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/v1/orders" in schema["paths"]
    assert "Order" in schema["components"]["schemas"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/customers"), ("GET", "/v1/no-such-thing"), ("PUT", "/v1/orders"), ("DELETE", "/v1/jobs/job_x")],
)
async def test_a_401_says_bearer_whatever_the_path_or_method(
    client: AsyncTestClient[Any], method: str, path: str
) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = await client.request(method, path, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"].startswith("application/problem+json")
    known = await client.request(method, path, headers=OFFICE)
    assert known.status_code != 401


async def test_a_replayed_enrolment_never_shows_the_token_again_and_none_is_stored(
    client: AsyncTestClient[Any], db_path: Path
) -> None:
    tech = await technician(client)
    path = f"/v1/technicians/{tech['id']}/devices"
    first = await post(client, path, {"label": "phone"}, **{"Idempotency-Key": "enrol-1"})
    assert first["token"]
    replay = await client.post(path, json={"label": "phone"}, headers={**OFFICE, "Idempotency-Key": "enrol-1"})
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == {**first, "token": None}
    raw = b"".join(file.read_bytes() for file in db_path.parent.iterdir() if file.name.startswith(db_path.name))
    assert first["token"].encode() not in raw
