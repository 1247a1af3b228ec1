"""Autopay on the sandbox processor against a real `flint serve`: six billing runs at once charge
a cycle once; a server killed (SIGKILL) while the processor charges the saved card, then
started again, settles that charge from what the processor says and never charges it twice."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from server.payments.sandbox import SandboxProcessor, file_beside
from tests.helpers import GOOD_CARD, item
from tests.process import ServerProcess, doctor

KEY = "autopay-office-key-0123456789abcdefgh"
OFFICE = {"Authorization": f"Bearer {KEY}"}
ENV = {"FLINT_API_KEY": KEY, "FLINT_BILLING_INTERVAL": "3600", "FLINT_SETTLE_EVERY": "0.5"}


def eventually(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def autopay_plan(api: httpx.Client) -> dict[str, Any]:
    who = api.post("/v1/customers", json={"name": "Ana Ruiz", "phone": "+15555550166", "kind": "residential"}).json()
    link = api.post(f"/v1/customers/{who['id']}/card-links", json={}).json()
    assert httpx.post(link["url"], data=GOOD_CARD).status_code == 200
    made = api.post(
        "/v1/service-plans",
        json={
            "customerId": who["id"],
            "name": "Monthly drain service",
            "lineItems": [item("Drain service", 6500)],
            "interval": "month",
            "startDate": datetime.now(UTC).date().isoformat(),
            "billing": "autopay",
        },
    )
    assert made.status_code == 201, made.text
    plan: dict[str, Any] = made.json()
    return plan


def payment_of(api: httpx.Client, plan_id: str) -> dict[str, Any] | None:
    cycles = api.get(f"/v1/service-plans/{plan_id}/cycles").json()["data"]
    found: dict[str, Any] | None = cycles[0].get("payment") if cycles else None
    return found


def test_six_billing_runs_at_once_charge_a_cycle_once(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "flint.db", ENV) as server, httpx.Client(base_url=server.url, headers=OFFICE) as api:
        made = autopay_plan(api)
        created: list[int] = []

        def run() -> None:
            created.append(api.post("/v1/billing/run", json={}, timeout=60).json()["cyclesCreated"])

        threads = [threading.Thread(target=run) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(created) == 1
        assert payment_of(api, made["id"]) == {"status": "paid", "attempts": 1, "nextAttemptAt": None}
        assert SandboxProcessor(file_beside(str(server.db_path))).charges() == 1
    assert doctor(server.db_path).returncode == 0


def test_killed_while_the_saved_card_is_charged_and_restarted_charges_once(tmp_path: Path) -> None:
    db = tmp_path / "flint.db"
    env = {**ENV, "FLINT_PROCESSOR_TIMEOUT": "60"}
    processor = SandboxProcessor(file_beside(str(db)))
    server = ServerProcess(db, env).start()
    api = httpx.Client(base_url=server.url, headers=OFFICE, timeout=90)
    try:
        made = autopay_plan(api)
        processor.add_fault("charge", "slow", seconds=60)  # it charges, then takes a minute to answer
        threading.Thread(target=lambda: _quietly(api), daemon=True).start()
        eventually(lambda: processor.charges() == 1, "the processor to take the charge")
        server.kill()
        server = ServerProcess(db, env, port=server.port).start()
        settled = lambda: (payment_of(api, made["id"]) or {}).get("status") == "paid"  # noqa: E731
        eventually(settled, "the charge settled", timeout=60)
        assert payment_of(api, made["id"]) == {"status": "paid", "attempts": 1, "nextAttemptAt": None}
        assert api.post("/v1/billing/run", json={}).json()["cyclesCreated"] == 0
        assert processor.charges() == 1
    finally:
        api.close()
        server.stop()
    checked = doctor(db)
    assert checked.returncode == 0, checked.stdout


def _quietly(api: httpx.Client) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
        api.post("/v1/billing/run", json={})


def test_a_card_saved_with_no_answer_is_confirmed_by_the_scheduler(tmp_path: Path) -> None:
    db = tmp_path / "flint.db"
    processor = SandboxProcessor(file_beside(str(db)))
    env = {**ENV, "FLINT_SETTLE_EVERY": "5"}  # long enough to see the setup in doubt first
    with ServerProcess(db, env) as server, httpx.Client(base_url=server.url, headers=OFFICE) as api:
        who = api.post("/v1/customers", json={"name": "Ana Ruiz", "phone": "+15555550166", "kind": "residential"})
        customer = who.json()
        link = api.post(f"/v1/customers/{customer['id']}/card-links", json={}).json()
        processor.add_fault("setup", "lost")  # the processor saves the card; its answer never comes back
        first = httpx.post(link["url"], data=GOOD_CARD)
        assert first.status_code == 202 and "being confirmed" in first.text
        assert httpx.post(link["url"], data=GOOD_CARD).status_code == 202  # nothing is saved twice meanwhile
        eventually(
            lambda: api.get(f"/v1/customers/{customer['id']}").json()["cardOnFile"] is not None, "the setup settled"
        )
        assert api.get(f"/v1/card-links/{link['id']}").json()["status"] == "used"
        page = httpx.get(link["url"])
        assert page.status_code == 200 and "4242 is saved" in page.text
    assert doctor(db).returncode == 0


def test_a_charge_the_processor_never_saw_is_made_again_without_a_decline_text(tmp_path: Path) -> None:
    db = tmp_path / "flint.db"
    processor = SandboxProcessor(file_beside(str(db)))
    env = {**ENV, "FLINT_PROCESSOR_TIMEOUT": "1"}  # in doubt for 2 s, then known never made
    with ServerProcess(db, env) as server, httpx.Client(base_url=server.url, headers=OFFICE, timeout=30) as api:
        made = autopay_plan(api)
        processor.add_fault("charge", "down")  # no connection: the processor saw nothing
        assert api.post("/v1/billing/run", json={}).json()["cyclesCreated"] == 1
        in_doubt = payment_of(api, made["id"])
        assert in_doubt is not None and in_doubt["status"] is None  # charged or not: not known yet
        eventually(
            lambda: (
                [p["declineCode"] for p in api.get("/v1/payments", params={"jobId": _job(api, made)}).json()["data"]]
                == ["not_completed"]
            ),
            "the charge released",
        )
        assert (payment_of(api, made["id"]) or {})["attempts"] == 0  # no charge was made
        api.post("/v1/billing/run", json={})
        assert payment_of(api, made["id"]) == {"status": "paid", "attempts": 1, "nextAttemptAt": None}
        texts = api.get("/v1/sms", params={"jobId": _job(api, made)}).json()["data"]
        assert not any("declined" in t["body"] or "/cards/" in t["body"] for t in texts)
        assert processor.charges() == 1


def _job(api: httpx.Client, made: dict[str, Any]) -> str:
    job_id: str = api.get(f"/v1/service-plans/{made['id']}/cycles").json()["data"][0]["jobId"]
    return job_id
