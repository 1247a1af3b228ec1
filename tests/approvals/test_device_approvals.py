"""Change orders from the device (contract §7, §8): an add-on with `needsApproval` waits, through
the push's batch as alone; `approval.request` by job asks once per order; `approval.record` is
taken when the lines' hash is still the one the customer saw, else rejected `approval_stale`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from sync.canonical import lines_hash
from tests.approvals.conftest import CUSTOMER_PHONE, texts
from tests.helpers import customer, get, item, post, usd
from tests.sync.conftest import Phone, add_line, phone_for


@pytest.fixture
async def phone(client: AsyncTestClient[Any]) -> Phone:
    return await phone_for(client)


async def _job(client: AsyncTestClient[Any], phone: Phone) -> tuple[dict[str, Any], dict[str, Any]]:
    who = await customer(client, CUSTOMER_PHONE)
    job = await post(
        client,
        "/v1/jobs",
        {"customerId": who["id"], "title": "AC not cooling", "address": "1 Main", "technicianId": phone.technician_id},
    )
    order = await post(
        client, "/v1/orders", {"lineItems": [item("Diagnostic", 11400)], "metadata": {"jobId": job["id"]}}
    )
    return job, order


def _approve(
    mutation_id: int, order_id: str, lines: list[dict[str, Any]], signer: str = "Maria Alvarez"
) -> dict[str, Any]:
    return {
        "id": mutation_id,
        "name": "approval.record",
        "args": {
            "uid": str(uuid.uuid4()),
            "orderId": order_id,
            "lineUids": [line["uid"] for line in lines],
            "signerName": signer,
            "contentHash": lines_hash(lines),
        },
        "clientAt": "2026-05-01T09:05:00Z",
    }


async def test_pending_add_ons_through_the_batch_and_alone_are_owed_by_nobody(
    client: AsyncTestClient[Any], phone: Phone
) -> None:
    job, order = await _job(client, phone)
    # Three add-ons in one push go through the batch; the second needs approval.
    pushed = await phone.push(
        add_line(1, order["id"], 4500, "Capacitor"),
        add_line(2, order["id"], 18500, "Condensate pump", needsApproval=True),
        add_line(3, order["id"], 2000, "Filter"),
    )
    assert [r["status"] for r in pushed["results"]] == ["applied"] * 3
    by_job = {**add_line(4, order["id"], 24000, "UV lamp", needsApproval=True)}
    by_job["args"] = {**by_job["args"], "jobId": job["id"]}
    del by_job["args"]["orderId"]
    assert (await phone.push(by_job))["results"][0]["status"] == "applied"
    now = await get(client, f"/v1/orders/{order['id']}")
    assert [(line["name"], line["approval"]) for line in now["lineItems"]] == [
        ("Diagnostic", "none"), ("Capacitor", "none"), ("Condensate pump", "pending"), ("Filter", "none"),
        ("UV lamp", "pending"),
    ]  # fmt: skip
    assert now["totalMoney"] == usd(11400 + 4500 + 2000)
    assert (await get(client, f"/v1/jobs/{job['id']}"))["payment"]["balanceMoney"] == usd(17900)
    changes, _ = await phone.pull_all()
    [pulled] = [c["data"] for c in changes if c["entity"] == "order" and c["id"] == order["id"]]
    assert pulled == now  # the device gets each line's approval as the API shows it
    trail = (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]
    assert [e["data"].get("approval") for e in trail if e["type"] == "order.line_item_added"] == [
        None, "pending", None, "pending"
    ]  # fmt: skip


async def test_approval_request_by_job_and_in_person_by_hash(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await _job(client, phone)
    await phone.push(add_line(1, order["id"], 18500, "Condensate pump", needsApproval=True))
    asked = await phone.push(
        {"id": 2, "name": "approval.request", "args": {"uid": str(uuid.uuid4()), "jobId": job["id"]},
         "clientAt": "2026-05-01T09:01:00Z"}
    )  # fmt: skip
    [result] = asked["results"]
    assert result["status"] == "applied"
    [request_id] = result["data"]["approvalRequestIds"]
    [sms_id] = result["data"]["smsIds"]
    assert any(t["id"] == sms_id and t["to"] == CUSTOMER_PHONE for t in await texts(client, job["id"]))

    lines = [
        line for line in (await get(client, f"/v1/orders/{order['id']}"))["lineItems"] if line["approval"] == "pending"
    ]
    shown = [{k: line[k] for k in ("uid", "name", "quantity", "unitPriceMoney")} for line in lines]
    stale = [{**shown[0], "unitPriceMoney": usd(17500)}]  # the customer saw another price
    refused = await phone.push(_approve(3, order["id"], stale))
    assert (refused["results"][0]["status"], refused["results"][0]["code"]) == ("rejected", "approval_stale")
    assert (await get(client, f"/v1/orders/{order['id']}"))["lineItems"][1]["approval"] == "pending"
    assert (await get(client, f"/v1/approval-requests/{request_id}"))["status"] == "pending"

    taken = await phone.push(_approve(4, order["id"], shown))
    assert taken["results"][0]["status"] == "applied", taken
    in_person = await get(client, f"/v1/approval-requests/{taken['results'][0]['data']['approvalRequestId']}")
    assert (in_person["channel"], in_person["status"], in_person["url"]) == ("device", "approved", None)
    approval = in_person["approval"]
    assert (approval["channel"], approval["signerName"], approval["deviceId"]) == (
        "device",
        "Maria Alvarez",
        phone.device_id,
    )
    assert approval["clientAt"] == "2026-05-01T09:05:00Z" and approval["contentHash"] == lines_hash(shown)
    assert (await get(client, f"/v1/approval-requests/{request_id}"))["status"] == "replaced"
    assert (await get(client, f"/v1/jobs/{job['id']}"))["payment"]["balanceMoney"] == usd(29900)

    again = await phone.push(_approve(5, order["id"], shown))
    assert again["results"][0]["code"] == "approval_stale"  # approved already: nothing waits
    nothing = await phone.push(
        {"id": 6, "name": "approval.request", "args": {"uid": str(uuid.uuid4()), "jobId": job["id"]}}
    )
    assert nothing["results"][0]["code"] == "nothing_pending"
    typo = await phone.push(
        {"id": 7, "name": "approval.record", "args": {**_approve(7, order["id"], shown)["args"], "contentHash": "xyz"}}
    )
    assert typo["results"][0]["code"] == "invalid_args"
