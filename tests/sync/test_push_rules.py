"""Contract §7 v2: one mutation never blocks the ones after it; what a mutation carries is bounded;
jobs move forward only."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.replication import mutations
from sync import protocol as p
from tests.conftest import OFFICE
from tests.helpers import get
from tests.sync.conftest import Phone, add_line, assigned_job


def status(mutation_id: int, job_id: str, to: str, **extra: Any) -> dict[str, Any]:
    return {"id": mutation_id, "name": "job.setStatus", "args": {"jobId": job_id, "status": to}, **extra}


async def test_a_mutation_the_server_fails_on_is_internal_error_and_the_push_goes_on(
    client: AsyncTestClient[Any], phone: Phone, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    job, order = await assigned_job(client, phone)

    def broken(*_: Any) -> None:
        raise ZeroDivisionError("a bug in the server")

    monkeypatch.setitem(mutations.HANDLERS, p.AddJobNote, broken)
    note = {"id": 2, "name": "job.addNote", "args": {"uid": "n1", "jobId": job["id"], "text": "gate code 4411"}}
    answer = await phone.push(add_line(1, order["id"]), note, add_line(3, order["id"]))
    assert [r["status"] for r in answer["results"]] == ["applied", "rejected", "applied"]
    assert answer["results"][1]["code"] == "internal_error"
    assert answer["lastMutationId"] == 3
    assert "ZeroDivisionError" in caplog.text
    trail = (await get(client, f"/v1/jobs/{job['id']}/trail"))["events"]
    rejected = [e for e in trail if e["type"] == "mutation.rejected"]
    assert [e["data"]["code"] for e in rejected] == ["internal_error"]


async def test_a_mutation_breaking_a_limit_is_rejected_alone(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone)
    long_name = "job.setStatus" + "x" * 400_000
    answer = await phone.push(
        {"id": 1, "name": long_name, "args": {}, "clientAt": "2026-05-01T09:00:00Z"},
        status(2, job["id"], "en_route", clientAt="x" * 400_000),
        status(3, job["id"], "en_route", clientAt="9999-12-31T23:59:59-05:00"),
        add_line(4, order["id"], uid="u" * 65),
        add_line(5, order["id"], name="bad\u0000name"),
        add_line(6, order["id"], amount=1_000_000_000_000),
        add_line(7, order["id"]),
    )
    assert [r["code"] for r in answer["results"][:6]] == ["invalid_args"] * 6
    assert answer["results"][6]["status"] == "applied"
    pulled = await phone.pull()
    assert all(len(r["name"]) <= 64 and len(r["detail"]) <= 200 for r in pulled["rejections"])
    assert len(str(pulled)) < 100_000


async def test_a_malformed_envelope_is_400(client: AsyncTestClient[Any], phone: Phone) -> None:
    await phone.push({"id": 1, "name": 7, "args": {}}, status=400)
    await phone.push({"name": "job.setStatus", "args": {}}, status=400)


async def test_jobs_move_forward_only(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, _ = await assigned_job(client, phone)
    answer = await phone.push(status(1, job["id"], "on_site"), status(2, job["id"], "en_route"))
    assert [r["status"] for r in answer["results"]] == ["applied", "rejected"]
    assert answer["results"][1]["code"] == "invalid_transition"
    office = await client.patch(f"/v1/jobs/{job['id']}", json={"version": 2, "status": "dispatched"}, headers=OFFICE)
    assert office.status_code == 422 and office.json()["code"] == "invalid_transition"
    skipped = await client.patch(f"/v1/jobs/{job['id']}", json={"version": 2, "status": "completed"}, headers=OFFICE)
    assert skipped.status_code == 200
    cancelled = await client.patch(f"/v1/jobs/{job['id']}", json={"version": 3, "status": "cancelled"}, headers=OFFICE)
    assert cancelled.status_code == 200
    back = await client.patch(f"/v1/jobs/{job['id']}", json={"version": 4, "status": "scheduled"}, headers=OFFICE)
    assert back.status_code == 422 and back.json()["code"] == "invalid_transition"


async def test_a_cancelled_jobs_mutations_are_job_cancelled(client: AsyncTestClient[Any], phone: Phone) -> None:
    job, order = await assigned_job(client, phone)
    await client.patch(f"/v1/jobs/{job['id']}", json={"version": 1, "status": "cancelled"}, headers=OFFICE)
    answer = await phone.push(status(1, job["id"], "on_site"), add_line(2, order["id"]))
    assert [r["code"] for r in answer["results"]] == ["job_cancelled", "job_cancelled"]
