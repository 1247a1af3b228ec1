from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE, table_counts
from tests.helpers import cash, get, item, usd
from tests.sync.conftest import Phone, add_line, assigned_job, phone_for


async def test_a_replayed_push_applies_nothing_twice(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone)
    mutations = [
        add_line(1, order["id"], 4500),
        {
            "id": 2,
            "name": "job.setStatus",
            "args": {"jobId": job["id"], "status": "on_site"},
            "clientAt": "2026-05-01T09:05:00Z",
        },
        {
            "id": 3,
            "name": "payment.recordOffline",
            "args": {
                "uid": str(uuid.uuid4()),
                "orderId": order["id"],
                "amountMoney": usd(2000),
                "method": "cash",
            },
        },
    ]
    first = await phone.push(*mutations)
    assert first["lastMutationId"] == 3
    assert [r["status"] for r in first["results"]] == ["applied"] * 3
    again = await phone.push(*mutations)
    assert again == first

    after = await get(client, f"/v1/orders/{order['id']}")
    assert (after["totalMoney"], after["paidMoney"], after["version"]) == (usd(13400), usd(2000), 2)
    trail = (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]
    types = [e["type"] for e in trail]
    assert types.count("order.line_item_added") == 1 and types.count("payment.recorded") == 1
    added = next(e for e in trail if e["type"] == "order.line_item_added")
    assert added["actor"] == {"kind": "device", "id": phone.device_id}
    assert added["clientAt"] == "2026-05-01T09:00:00Z"
    assert (await get(client, f"/v1/jobs/{job['id']}"))["status"] == "on_site"


async def test_part_of_a_push_replayed_with_new_mutations(client: AsyncTestClient[Any], phone: Phone) -> None:
    _, order = await assigned_job(client, phone)
    first = await phone.push(add_line(1, order["id"]), add_line(2, order["id"]))
    more = await phone.push(add_line(1, order["id"]), add_line(2, order["id"]), add_line(3, order["id"], 100))
    assert [r["id"] for r in more["results"]] == [1, 2, 3]
    assert more["results"][:2] == first["results"]
    assert len((await get(client, f"/v1/orders/{order['id']}"))["lineItems"]) == 4


async def test_a_gap_is_refused_and_nothing_from_it_on_applied(client: AsyncTestClient[Any], phone: Phone) -> None:
    _, order = await assigned_job(client, phone)
    gap = await phone.push(add_line(2, order["id"]), status=409)
    assert (gap["code"], gap["lastMutationId"]) == ("mutation_gap", 0)
    partial = await phone.push(
        add_line(1, order["id"]),
        add_line(2, order["id"]),
        add_line(4, order["id"]),
        add_line(5, order["id"]),
        status=409,
    )
    assert partial["lastMutationId"] == 2
    assert len((await get(client, f"/v1/orders/{order['id']}"))["lineItems"]) == 3


async def test_a_rejected_mutation_does_not_block_the_ones_after(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone)
    response = await phone.push(
        {
            "id": 1,
            "name": "payment.recordOffline",
            "args": {"uid": "p1", "orderId": order["id"], "amountMoney": usd(999999), "method": "cash"},
        },
        {"id": 2, "name": "order.addLineItem", "args": {"orderId": order["id"]}},
        {"id": 3, "name": "time.travel", "args": {}},
        add_line(4, order["id"], 500),
    )
    assert response["lastMutationId"] == 4
    codes = [(r["status"], r.get("code")) for r in response["results"]]
    assert codes == [
        ("rejected", "amount_exceeds_balance"),
        ("rejected", "invalid_args"),
        ("rejected", "unknown_mutation"),
        ("applied", None),
    ]
    assert all(r["detail"] for r in response["results"][:3])
    assert (await get(client, f"/v1/orders/{order['id']}"))["totalMoney"] == usd(9400)
    trail = (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]
    rejected = [e for e in trail if e["type"] == "mutation.rejected"]
    assert [(e["data"]["mutationId"], e["data"]["code"]) for e in rejected] == [
        (1, "amount_exceeds_balance"),
        (2, "invalid_args"),
    ]
    pulled = await phone.pull()
    assert [(r["mutationId"], r["code"]) for r in pulled["rejections"]] == [
        (1, "amount_exceeds_balance"),
        (2, "invalid_args"),
        (3, "unknown_mutation"),
    ]
    assert pulled["lastMutationId"] == 4


async def test_scope_another_technicians_job_is_not_assigned(client: AsyncTestClient[Any], phone: Phone) -> None:
    other = await phone_for(client, "Priya Nair")
    job, order = await assigned_job(client, other)
    response = await phone.push(
        add_line(1, order["id"]),
        {"id": 2, "name": "job.setStatus", "args": {"jobId": job["id"], "status": "en_route"}},
        {"id": 3, "name": "job.setStatus", "args": {"jobId": "job_nope", "status": "en_route"}},
    )
    assert [r.get("code") for r in response["results"]] == ["not_assigned", "not_assigned", "not_found"]
    assert (await get(client, f"/v1/orders/{order['id']}"))["version"] == 1


async def test_text_to_pay_for_money_already_paid_is_nothing_due(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone, item("Repair", 5000))
    await cash(client, order["id"], 5000)  # the office took it while the phone was offline
    response = await phone.push({"id": 1, "name": "textToPay.request", "args": {"uid": "t1", "orderId": order["id"]}})
    assert response["results"][0]["code"] == "nothing_due"
    texts = (await get(client, f"/v1/sms?jobId={job['id']}"))["data"]
    assert [t for t in texts if t.get("paymentLinkId")] == []  # only the cash's receipt
    assert (await get(client, f"/v1/payment-links?orderId={order['id']}"))["data"] == []


async def test_text_to_pay_takes_the_balance_when_applied(client: AsyncTestClient[Any], phone: Phone) -> None:
    _, order = await assigned_job(client, phone, item("Repair", 5000))
    await cash(client, order["id"], 1500)
    response = await phone.push(
        add_line(1, order["id"], 2000),
        {"id": 2, "name": "textToPay.request", "args": {"uid": "t1", "orderId": order["id"]}},
    )
    data = response["results"][1]["data"]
    link = await get(client, f"/v1/payment-links/{data['paymentLinkId']}")
    assert link["amountMoney"] == usd(5500)
    message = await get(client, f"/v1/sms/{data['smsId']}")
    assert "$55.00" in message["body"] and link["url"] in message["body"]
    no_phone = await phone.push(
        {
            "id": 3,
            "name": "textToPay.request",
            "args": {"uid": "t2", "orderId": order["id"], "amountMoney": usd(99999)},
        }
    )
    assert no_phone["results"][0]["code"] == "amount_exceeds_balance"


async def test_a_client_id_cannot_be_borrowed(client: AsyncTestClient[Any], phone: Phone) -> None:
    _, order = await assigned_job(client, phone)
    await phone.push(add_line(1, order["id"]))
    thief = await phone_for(client, "Someone Else")
    borrowed = await thief.push(add_line(2, order["id"]), client_id=phone.client_id, status=403)
    assert borrowed["code"] == "forbidden"
    thief.client_id = phone.client_id
    assert (await thief.pull(status=403))["code"] == "forbidden"


async def test_the_protocol_guards(client: AsyncTestClient[Any], phone: Phone, db_path: Path) -> None:
    _, order = await assigned_job(client, phone)
    before = table_counts(db_path)
    body = {"clientId": phone.client_id, "schemaVersion": 2, "mutations": []}
    old = await client.post("/v1/sync/push", json=body, headers=phone.headers)
    assert (old.status_code, old.json()["code"]) == (426, "update_required")
    pull_old = await client.post("/v1/sync/pull", json={**body, "cursor": None}, headers=phone.headers)
    assert pull_old.status_code == 426
    many = [add_line(i, order["id"]) for i in range(1, 502)]
    too_many = await client.post(
        "/v1/sync/push", json={**body, "schemaVersion": 1, "mutations": many}, headers=phone.headers
    )
    assert (too_many.status_code, too_many.json()["code"]) == (413, "too_large")
    for bad in (
        [{"name": "job.setStatus"}],
        [{"id": "1", "name": "x"}],
        "nope",
        [add_line(2, order["id"]), add_line(1, order["id"])],
    ):
        response = await client.post(
            "/v1/sync/push", json={**body, "schemaVersion": 1, "mutations": bad}, headers=phone.headers
        )
        assert response.status_code == 400, bad
    assert table_counts(db_path) == before
    office = await client.post("/v1/sync/push", json={**body, "schemaVersion": 1}, headers=OFFICE)
    assert office.status_code == 403
    nobody = await client.post(
        "/v1/sync/pull", json={**body, "schemaVersion": 1}, headers={"Authorization": "Bearer nope"}
    )
    assert nobody.status_code == 401


async def test_a_revoked_device_cannot_sync(client: AsyncTestClient[Any], phone: Phone) -> None:
    await phone.pull()
    assert (await client.delete(f"/v1/devices/{phone.device_id}", headers=OFFICE)).status_code == 204
    assert (await phone.pull(status=401))["code"] == "unauthorized"


async def test_push_and_pull_record_last_sync(client: AsyncTestClient[Any], phone: Phone) -> None:
    assert (await get(client, f"/v1/technicians/{phone.technician_id}"))["lastSyncAt"] is None
    await phone.pull()
    assert (await get(client, f"/v1/technicians/{phone.technician_id}"))["lastSyncAt"] is not None


async def test_collection_names_exactly_one_target(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone, item("Repair", 5000))
    money = {"amountMoney": usd(1000), "method": "cash"}
    response = await phone.push(
        {"id": 1, "name": "payment.recordOffline", "args": {"uid": "p1", "jobId": job["id"], **money}},
        {"id": 2, "name": "payment.recordOffline", "args": {"uid": "p2", **money}},
        {
            "id": 3,
            "name": "payment.recordOffline",
            "args": {"uid": "p3", "jobId": job["id"], "orderId": order["id"], **money},
        },
        {"id": 4, "name": "textToPay.request", "args": {"uid": "t1", "jobId": job["id"]}},
        {"id": 5, "name": "textToPay.request", "args": {"uid": "t2"}},
        {"id": 6, "name": "payment.recordOffline", "args": {"uid": "p4", "orderId": order["id"], **money}},
    )
    codes = [(r["status"], r.get("code")) for r in response["results"]]
    neither = ("rejected", "invalid_args")
    assert codes == [("applied", None), neither, neither, ("applied", None), neither, ("applied", None)]
    assert (await get(client, f"/v1/orders/{order['id']}"))["paidMoney"] == usd(2000)


async def test_a_device_cannot_add_a_deposit_applied_line(client: AsyncTestClient[Any], phone: Phone) -> None:
    _, order = await assigned_job(client, phone)
    response = await phone.push(add_line(1, order["id"], 500, kind="deposit_applied"))
    assert response["results"][0]["code"] == "system_line"
    assert len((await get(client, f"/v1/orders/{order['id']}"))["lineItems"]) == 1
