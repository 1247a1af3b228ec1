from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from server.store import Database, Tx
from server.web.idempotency import parse_key, run_once
from tests.conftest import OFFICE, FakeClock, table_counts
from tests.helpers import item, job, order

CUSTOMER = {"name": "Maria Alvarez", "phone": "+15555550101", "kind": "residential"}


async def test_a_replay_returns_the_identical_response_and_creates_nothing(
    client: AsyncTestClient[Any], db_path: Path
) -> None:
    headers = {**OFFICE, "Idempotency-Key": "create-maria"}
    first = await client.post("/v1/customers", json=CUSTOMER, headers=headers)
    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    after_first = table_counts(db_path)

    # Same JSON, other spacing and key order: the same request.
    again = await client.post(
        "/v1/customers",
        content=b'{ "kind": "residential", "phone": "+15555550101",  "name": "Maria Alvarez" }',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert table_counts(db_path) == after_first
    listed = (await client.get("/v1/customers", headers=OFFICE)).json()["data"]
    assert len(listed) == 1


async def test_an_order_with_its_trail_is_made_once(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    body = {"lineItems": [item("Dispatch deposit", 7500)], "metadata": {"jobId": the_job["id"]}}
    headers = {**OFFICE, "Idempotency-Key": "deposit-order"}
    responses = [await client.post("/v1/orders", json=body, headers=headers) for _ in range(3)]
    assert {r.content for r in responses} == {responses[0].content}
    orders = (await client.get(f"/v1/orders?jobId={the_job['id']}", headers=OFFICE)).json()["data"]
    assert len(orders) == 1
    trail = (await client.get(f"/v1/jobs/{the_job['id']}/trail", headers=OFFICE)).json()["events"]
    assert [e["type"] for e in trail].count("order.created") == 1


async def test_the_same_key_with_another_body_is_refused(client: AsyncTestClient[Any]) -> None:
    headers = {**OFFICE, "Idempotency-Key": "k1"}
    await client.post("/v1/customers", json=CUSTOMER, headers=headers)
    other = await client.post("/v1/customers", json={**CUSTOMER, "name": "Someone Else"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    elsewhere = await client.post("/v1/technicians", json={"name": "Sam"}, headers=headers)
    assert elsewhere.status_code == 422
    assert len((await client.get("/v1/customers", headers=OFFICE)).json()["data"]) == 1


async def test_a_rule_violation_is_replayed_too(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("a", 100))
    await client.patch(f"/v1/orders/{the_order['id']}", json={"version": 1, "state": "completed"}, headers=OFFICE)
    headers = {**OFFICE, "Idempotency-Key": "late-add"}
    body = {"lineItems": [item("b", 50)]}
    first = await client.post(f"/v1/orders/{the_order['id']}/line-items", json=body, headers=headers)
    again = await client.post(f"/v1/orders/{the_order['id']}/line-items", json=body, headers=headers)
    assert first.status_code == again.status_code == 422
    assert first.content == again.content
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("application/problem+json")


async def test_keys_are_scoped_to_the_caller(tmp_path: Path) -> None:
    db = Database(tmp_path / "scoped.db")
    await db.open()
    try:
        made: list[str] = []

        def unit(tx: Tx) -> tuple[int, bytes, bytes]:
            made.append(tx.now)
            body = str(len(made)).encode()
            return 201, body, body

        office = parse_key("same", scope="office", method="POST", path="/v1/x", body=b"{}")
        device = parse_key("same", scope="device:dev_1", method="POST", path="/v1/x", body=b"{}")
        assert office is not None and device is not None
        first = await db.write(lambda tx: run_once(tx, office, unit))
        other = await db.write(lambda tx: run_once(tx, device, unit))
        replay = await db.write(lambda tx: run_once(tx, office, unit))
        assert (first.body, other.body, replay.body) == (b"1", b"2", b"1")
        assert (first.replayed, other.replayed, replay.replayed) == (False, False, True)
    finally:
        await db.close()


async def test_concurrent_requests_with_one_key_create_one_thing(client: AsyncTestClient[Any]) -> None:
    headers = {**OFFICE, "Idempotency-Key": "racing"}
    responses = await asyncio.gather(*(client.post("/v1/customers", json=CUSTOMER, headers=headers) for _ in range(10)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 9
    assert len((await client.get("/v1/customers", headers=OFFICE)).json()["data"]) == 1


async def test_a_key_lives_seven_days(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    headers = {**OFFICE, "Idempotency-Key": "weekly"}
    first = await client.post("/v1/customers", json=CUSTOMER, headers=headers)
    clock.advance(days=6, hours=23)
    replay = await client.post("/v1/customers", json=CUSTOMER, headers=headers)
    assert replay.content == first.content
    clock.advance(hours=2)
    fresh = await client.post("/v1/customers", json=CUSTOMER, headers=headers)
    assert fresh.status_code == 201
    assert fresh.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in fresh.headers


async def test_a_malformed_request_does_not_use_up_its_key(client: AsyncTestClient[Any]) -> None:
    headers = {**OFFICE, "Idempotency-Key": "fix-and-retry"}
    bad = await client.post("/v1/customers", json={**CUSTOMER, "phone": "nope"}, headers=headers)
    assert bad.status_code == 400
    good = await client.post("/v1/customers", json=CUSTOMER, headers=headers)
    assert good.status_code == 201


async def test_the_key_must_be_1_to_255_characters(client: AsyncTestClient[Any]) -> None:
    for key in ("", "k" * 256):
        response = await client.post("/v1/customers", json=CUSTOMER, headers={**OFFICE, "Idempotency-Key": key})
        assert response.status_code == 400, key
        assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert (await client.get("/v1/customers", headers=OFFICE)).json()["data"] == []
