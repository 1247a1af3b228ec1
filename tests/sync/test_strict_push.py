"""The server refuses what it is sent that it does not understand (contract §7, v3): a mistyped
mutation argument is rejected `invalid_args` naming it (the check number it carried must never be
silently lost), an envelope field it does not know is 400; devices stay lenient in what they pull."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.testing import AsyncTestClient

from sync import protocol as p
from tests.conftest import table_counts
from tests.helpers import get, item, usd
from tests.sync.conftest import Phone, add_line, assigned_job


async def test_a_mistyped_argument_is_rejected_naming_it(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone, item("Repair", 20000))
    check = {"uid": "chk-1", "orderId": order["id"], "amountMoney": usd(5000), "method": "check"}
    response = await phone.push(
        {"id": 1, "name": "payment.recordOffline", "args": {**check, "referance": "Check 1042"}},
        {"id": 2, "name": "payment.recordOffline", "args": {**check, "reference": "Check 1042"}},
    )
    first, second = response["results"]
    assert (first["status"], first["code"]) == ("rejected", "invalid_args")
    assert "referance" in first["detail"] and first["detail"].startswith("args.referance")
    assert second["status"] == "applied"
    payments = (await get(client, f"/v1/payments?orderId={order['id']}"))["data"]
    assert [(p["amountMoney"], p["method"]) for p in payments] == [(usd(5000), "check")]
    trail = (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]
    recorded = [e for e in trail if e["type"] == "payment.recorded"]
    assert len(recorded) == 1 and "Check 1042" in str(recorded[0]["data"])
    rejected = [e["data"] for e in trail if e["type"] == "mutation.rejected"]
    assert [(r["mutationId"], r["code"]) for r in rejected] == [(1, "invalid_args")]


async def test_an_unknown_field_inside_an_argument_is_rejected(client: AsyncTestClient[Any], phone: Phone) -> None:
    _, order = await assigned_job(client, phone)
    line = add_line(1, order["id"], 4500)
    line["args"]["unitPriceMoney"]["cents"] = 4500
    response = await phone.push(line)
    result = response["results"][0]
    assert (result["status"], result["code"]) == ("rejected", "invalid_args")
    assert "args.unitPriceMoney.cents" in result["detail"]


async def test_an_unknown_envelope_field_is_400(client: AsyncTestClient[Any], phone: Phone, db_path: Any) -> None:
    _, order = await assigned_job(client, phone)
    before = table_counts(db_path)
    mutation = {**add_line(1, order["id"]), "retries": 2}
    refused = await phone.push(mutation, status=400)
    assert refused["code"] == "invalid_request"
    assert "retries" in refused["detail"]
    # The push as a whole: an unknown field beside `mutations` too.
    body = {"clientId": phone.client_id, "schemaVersion": 1, "mutations": [add_line(1, order["id"])], "force": True}
    whole = await client.post("/v1/sync/push", json=body, headers=phone.headers)
    assert whole.status_code == 400 and "force" in whole.json()["errors"][0]["field"]
    pull = {"clientId": phone.client_id, "schemaVersion": 1, "cursor": None, "limt": 10}
    asked = await client.post("/v1/sync/pull", json=pull, headers=phone.headers)
    assert asked.status_code == 400 and asked.json()["errors"][0]["field"] == "limt"
    assert table_counts(db_path) == before  # nothing was applied, not even the client's id
    assert (await phone.push(add_line(1, order["id"])))["lastMutationId"] == 1


def test_a_device_ignores_what_it_does_not_know_in_what_it_pulls() -> None:
    """A newer server may add fields to its answers before any app knows them."""
    answer = {
        "cursor": "c1",
        "hasMore": False,
        "reset": True,
        "lastMutationId": 3,
        "changes": [{"op": "put", "entity": "job", "id": "job_1", "data": {"id": "job_1"}, "etag": "x"}],
        "rejections": [{"mutationId": 2, "name": "n", "code": "c", "detail": "d", "hint": "h"}],
        "serverTime": "2026-05-01T00:00:00Z",
    }
    pulled = msgspec.json.decode(msgspec.json.encode(answer), type=p.PullResponse)
    assert (pulled.cursor, pulled.changes[0].id, pulled.rejections[0].mutation_id) == ("c1", "job_1", 2)
    pushed = {"lastMutationId": 1, "results": [{"id": 1, "status": "applied", "warning": "w"}], "more": 1}
    assert msgspec.json.decode(msgspec.json.encode(pushed), type=p.PushResponse).last_mutation_id == 1
