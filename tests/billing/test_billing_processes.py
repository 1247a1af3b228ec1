"""Billing against a real `flint serve`: six billing runs at once bill each period once, and a
server killed (SIGKILL) in the middle of a long catch-up, then started again, has billed every
period once, with nothing half made."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from server.plans import rules
from tests.helpers import item
from tests.process import ServerProcess
from tests.sms.conftest import wait_for

KEY = "billing-key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {KEY}"}
# The scheduler's own runs (one at start-up, then hourly) stay out of the way of the runs under test.
ENV = {"FLINT_API_KEY": KEY, "FLINT_BILLING_INTERVAL": "3600", "FLINT_SMS_RETRY_BASE": "0.05"}


def today() -> date:
    return datetime.now(UTC).date()


def due_starts(start: date, interval: str) -> list[str]:
    """Every period start on or before today."""
    found, n = [], 0
    while (begins := rules.period_start(start, interval, n)) <= today():
        found.append(begins.isoformat())
        n += 1
    return found


def make_plan(api: httpx.Client, customer_id: str, interval: str, start: date, billing: str = "invoice") -> str:
    made = api.post(
        "/v1/service-plans",
        json={
            "customerId": customer_id,
            "name": f"{interval.capitalize()} maintenance",
            "lineItems": [item("Maintenance visit", 12500)],
            "interval": interval,
            "startDate": start.isoformat(),
            "billing": billing,
            "backfill": True,  # every period since the start, as if the plan had been made then
        },
    )
    assert made.status_code == 201, made.text
    plan_id: str = made.json()["id"]
    return plan_id


def a_customer(api: httpx.Client, phone: str) -> str:
    made = api.post(
        "/v1/customers", json={"name": "Oakridge Property Management", "phone": phone, "kind": "commercial"}
    )
    customer_id: str = made.json()["id"]
    return customer_id


def cycle_starts(api: httpx.Client, plan_id: str) -> list[str]:
    starts: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = api.get(f"/v1/service-plans/{plan_id}/cycles", params=params).json()
        starts += [c["periodStart"] for c in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            return starts


def store_counts(db: Path) -> dict[str, int]:
    """What billing made, read from the file itself (the server may be dead)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "cycles": one("SELECT count(*) FROM service_plan_cycles"),
            "distinct periods": one("SELECT count(DISTINCT plan_id || period_start) FROM service_plan_cycles"),
            "plan orders": one(
                "SELECT count(*) FROM orders WHERE json_extract(metadata, '$.servicePlanId') IS NOT NULL"
            ),
            "jobs": one("SELECT count(*) FROM jobs"),
            "invoices": one("SELECT count(*) FROM invoices WHERE status = 'published'"),
            "cycle events": one("SELECT count(*) FROM trail_events WHERE type = 'plan.cycle_billed'"),
        }
    finally:
        conn.close()


def texts_by_plan(db: Path) -> dict[str, int]:
    """Texts that told a plan's customer about its cycles, by plan."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT plan_id, count(DISTINCT sms_id) FROM service_plan_cycles WHERE sms_id IS NOT NULL GROUP BY plan_id"
        ).fetchall()
        sent = conn.execute("SELECT count(*) FROM sms_messages").fetchone()[0]
    finally:
        conn.close()
    found = {plan_id: count for plan_id, count in rows}
    assert sent == sum(found.values())  # and no text beside them
    return found


async def test_six_billing_runs_at_once_bill_each_period_once(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "flint.db", ENV) as server, httpx.Client(base_url=server.url, headers=OFFICE) as api:
        who = a_customer(api, "+15555550160")
        plans = {
            make_plan(api, who, "week", today() - timedelta(weeks=25)): "week",
            make_plan(api, who, "month", date(today().year - 1, 1, 31)): "month",
            make_plan(api, who, "quarter", today() - timedelta(days=700), billing="text_to_pay"): "quarter",
        }
        starts = {
            plan_id: date.fromisoformat(api.get(f"/v1/service-plans/{plan_id}").json()["startDate"])
            for plan_id in plans
        }
        expected = {plan_id: due_starts(starts[plan_id], interval) for plan_id, interval in plans.items()}

        clients = [httpx.AsyncClient(base_url=server.url, headers=OFFICE, timeout=120) for _ in range(6)]
        try:
            go = asyncio.Event()

            async def run(client: httpx.AsyncClient) -> int:
                await go.wait()
                response = await client.post("/v1/billing/run", json={})
                assert response.status_code == 200, response.text
                created: int = response.json()["cyclesCreated"]
                return created

            tasks = [asyncio.create_task(run(c)) for c in clients]
            await asyncio.sleep(0.05)
            go.set()
            created = await asyncio.gather(*tasks)
        finally:
            await asyncio.gather(*(c.aclose() for c in clients))

        total = sum(len(found) for found in expected.values())
        assert sum(created) == total, created
        assert sum(1 for c in created if c) > 1  # the runs really did share the work
        for plan_id, found in expected.items():
            assert cycle_starts(api, plan_id) == found
        counts = store_counts(server.db_path)
        assert counts["cycles"] == counts["distinct periods"] == counts["plan orders"] == counts["jobs"] == total
        assert counts["cycle events"] == total
        # One text per plan for all its periods, whichever run billed the last of them.
        assert texts_by_plan(server.db_path) == dict.fromkeys(plans, 1)
        again = api.post("/v1/billing/run", json={})
        assert again.json() == {"cyclesCreated": 0}


def test_a_server_killed_mid_run_bills_every_period_once_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "flint.db"
    server = ServerProcess(db, ENV).start()
    try:
        api = httpx.Client(base_url=server.url, headers=OFFICE, timeout=30)
        plan_id = make_plan(api, a_customer(api, "+15555550161"), "week", today() - timedelta(weeks=150))
        expected = due_starts(today() - timedelta(weeks=150), "week")
        assert len(expected) == 151

        answered: list[object] = []

        def long_run() -> None:
            try:
                answered.append(httpx.post(f"{server.url}/v1/billing/run", json={}, headers=OFFICE, timeout=120))
            except httpx.TransportError as exc:
                answered.append(exc)

        runner = threading.Thread(target=long_run)
        runner.start()
        wait_for(lambda: store_counts(db)["cycles"] >= 15, timeout=60, what="the run to be under way")
        server.kill()
        runner.join(timeout=30)
        assert len(answered) == 1 and isinstance(answered[0], httpx.TransportError)  # it never answered

        # Whatever the kill interrupted left nothing behind: every order, job, invoice and text
        # made by billing belongs to a cycle, and the cycles are the first periods, in order.
        done = store_counts(db)
        assert 15 <= done["cycles"] < len(expected), done
        assert set(done.values()) == {done["cycles"]}, done
        assert texts_by_plan(db) == {}  # the catch-up's one text comes with its last period

        server = ServerProcess(db, ENV, port=server.port).start()
        api.close()
        api = httpx.Client(base_url=server.url, headers=OFFICE, timeout=120)
        created = api.post("/v1/billing/run", json={}).json()["cyclesCreated"]
        assert created <= len(expected) - done["cycles"]  # the start-up run may have billed some of it
        wait_for(lambda: store_counts(db)["cycles"] == len(expected), timeout=60, what="every period billed")
        assert cycle_starts(api, plan_id) == expected
        after = store_counts(db)
        assert set(after.values()) == {len(expected)}, after
        assert texts_by_plan(db) == {plan_id: 1}
        assert api.post("/v1/billing/run", json={}).json() == {"cyclesCreated": 0}
        api.close()
    finally:
        server.stop()
