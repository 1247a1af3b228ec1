"""Approval and deposit are one act (contract §8): a real `flint serve` is SIGKILLed while the
processor holds the deposit's charge; whatever the processor says when it is asked afterwards,
the store has the approval and the capture both, or neither, and `flint doctor` calls it clean."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.estimates.conftest import THREE_OPTIONS, approve_form
from tests.server.test_processor_faults import Shop, eventually, in_background


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    running = Shop(tmp_path, FLINT_PROCESSOR_TIMEOUT="60").start()
    try:
        yield running
    finally:
        running.api.close()
        running.server.stop()


def _estimate(shop: Shop) -> dict[str, Any]:
    who = shop.api.post("/v1/customers", json={"name": "Maria", "phone": "+15555550123", "kind": "residential"})
    job = shop.api.post("/v1/jobs", json={"customerId": who.json()["id"], "title": "Water heater", "address": "88 Oak"})
    body = {"jobId": job.json()["id"], "title": "Water heater", "options": THREE_OPTIONS, "deposit": {"percentage": 10}}
    made = shop.api.post("/v1/estimates", json=body).json()
    sent = shop.api.post(f"/v1/estimates/{made['id']}/send")
    assert sent.status_code == 200, sent.text
    return dict(sent.json())


def _both_or_neither(db: Path, estimate_id: str) -> tuple[int, int]:
    """(approvals, captured deposit charges) of the estimate in the store, read directly."""
    conn = sqlite3.connect(db)
    try:
        approvals = conn.execute("SELECT count(*) FROM approvals WHERE estimate_id = ?", (estimate_id,)).fetchone()[0]
        captured = conn.execute(
            "SELECT count(*) FROM charges WHERE estimate_id = ? AND status = 'captured'", (estimate_id,)
        ).fetchone()[0]
        orders = conn.execute("SELECT count(*) FROM orders WHERE metadata LIKE ?", (f'%"{estimate_id}"%',)).fetchone()[
            0
        ]
    finally:
        conn.close()
    assert approvals == captured == orders, (approvals, captured, orders)
    return approvals, captured


def _page(shop: Shop, estimate: dict[str, Any]) -> str:
    return shop.server.url + "/estimates/" + estimate["url"].rsplit("/estimates/", 1)[1]


def test_killed_while_the_processor_holds_the_deposit_then_both_are_recorded(shop: Shop) -> None:
    estimate = _estimate(shop)
    shop.processor.add_fault("charge", "slow", seconds=60)
    form = approve_form(estimate, 1, 1, deposit=20840)  # 10% of $2,084.00
    in_background(lambda: httpx.post(_page(shop, estimate), data=form, timeout=90))
    eventually(lambda: shop.processor.charges() == 1, "the processor to take the charge")
    shop.server.kill()
    assert _both_or_neither(shop.db, estimate["id"]) == (0, 0)  # reserved only: neither yet
    conn = sqlite3.connect(shop.db)
    [(signed_at,)] = conn.execute("SELECT created_at FROM estimate_attempts").fetchall()
    conn.close()

    shop.restart()  # asks the processor what became of the charge, and settles it with its approval
    eventually(lambda: shop.get(f"/v1/estimates/{estimate['id']}")["state"] == "approved", "the approval")
    assert _both_or_neither(shop.db, estimate["id"]) == (1, 1)
    approval = shop.get(f"/v1/estimates/{estimate['id']}")["approval"]
    assert approval["depositMoney"]["amount"] == 20840 and approval["signerName"] == "Maria Alvarez"
    assert approval["at"] == signed_at  # when the customer signed, not when the scheduler settled it
    payment = shop.get(f"/v1/payments/{approval['paymentId']}")
    assert (payment["orderId"], payment["status"], payment["amountMoney"]["amount"]) == (
        approval["orderId"], "captured", 20840
    )  # fmt: skip
    assert shop.processor.charges() == 1
    assert httpx.post(_page(shop, estimate), data=form).status_code == 409  # approved once
    assert shop.processor.charges() == 1
    shop.healthy()


def test_killed_before_the_processor_saw_the_deposit_then_neither_is(shop: Shop) -> None:
    shop.env["FLINT_PROCESSOR_TIMEOUT"] = "1"
    shop.server.stop()
    shop.restart()
    estimate = _estimate(shop)
    shop.processor.add_fault("charge", "down")
    form = approve_form(estimate, 0, deposit=14500)
    assert httpx.post(_page(shop, estimate), data=form).status_code == 202  # in doubt: being confirmed
    assert httpx.get(_page(shop, estimate)).status_code == 202
    shop.server.kill()
    assert _both_or_neither(shop.db, estimate["id"]) == (0, 0)
    shop.restart()
    eventually(lambda: httpx.get(_page(shop, estimate)).status_code == 200, "the charge released")
    assert _both_or_neither(shop.db, estimate["id"]) == (0, 0)
    assert shop.get(f"/v1/estimates/{estimate['id']}")["state"] == "open"
    assert shop.processor.charges() == 0
    shop.healthy()
    assert httpx.post(_page(shop, estimate), data=form).status_code == 200  # the customer approves again
    assert _both_or_neither(shop.db, estimate["id"]) == (1, 1)
    shop.healthy()
