"""The figures a device shows come from the shared ledger: deposits carried over to the other
orders, pending add-ons and payments replayed as the server will apply them, payments by job
spread oldest order first. Each scenario is checked against the ledger worked by hand."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sync import ledger
from sync import protocol as p
from sync.device import Device
from sync.ledger import OrderMoney
from sync.replica import Replica
from sync.shown import Job
from tests.sync.devices import Template

JOB = "job_1"


def line(name: str, amount: int, kind: str = "service", quantity: int = 1, approval: str = "none") -> dict[str, Any]:
    money = {"amount": amount, "currency": "USD"}
    return {
        "uid": f"uid-{name}",
        "name": name,
        "quantity": quantity,
        "unitPriceMoney": money,
        "kind": kind,
        "totalMoney": {"amount": amount * quantity, "currency": "USD"},
        "addedBy": {"kind": "office", "id": None},
        "approval": approval,
    }


def order(
    order_id: str,
    lines: list[dict[str, Any]],
    *,
    paid: int = 0,
    refunded: int = 0,
    stage: str | None = None,
    created: str = "2026-05-01T09:00:00.000Z",
    state: str = "open",
) -> dict[str, Any]:
    """An order as pull delivers it (the office API's view)."""
    total = sum(ledger.signed_amount(x["kind"], x["totalMoney"]["amount"]) for x in lines)

    def usd(amount: int) -> dict[str, Any]:
        return {"amount": amount, "currency": "USD"}

    return {
        "id": order_id,
        "version": 1,
        "state": state,
        "customerId": "cus_1",
        "jobId": JOB,
        "metadata": {"jobId": JOB, **({"paymentStage": stage} if stage else {})},
        "lineItems": lines,
        "totalMoney": usd(total),
        "paidMoney": usd(paid),
        "refundedMoney": usd(refunded),
        "balanceMoney": usd(total - paid + refunded),
        "createdAt": created,
        "updatedAt": created,
    }


JOB_DATA = {
    "id": JOB,
    "customerId": "cus_1",
    "technicianId": "tech_1",
    "title": "AC not cooling",
    "address": "1 Main",
    "status": "on_site",
    "scheduledAt": None,
    "version": 1,
    "createdAt": "2026-05-01T08:00:00.000Z",
    "updatedAt": "2026-05-01T08:00:00.000Z",
    "payment": {},
    "orders": [],
}


def device_with(directory: Path, *orders: dict[str, Any]) -> Device:
    directory.mkdir()
    replica = Replica(directory / "device.db")
    for key, value in (("server", "http://flint.test"), ("token", "fdt_x"), ("client_id", "c1")):
        replica.put(key, value)
    changes = [p.Change(op="put", entity="job", id=JOB, data=JOB_DATA)]
    changes += [p.Change(op="put", entity="order", id=o["id"], data=o) for o in orders]
    replica.apply(changes, reset=True)
    return Device(replica)


@pytest.fixture
def made(tmp_path: Path) -> Iterator[Callable[..., Device]]:
    """A device holding one job with the given orders, on its own file."""
    devices: list[Device] = []

    def make(*orders: dict[str, Any]) -> Device:
        devices.append(device_with(tmp_path / f"{len(devices)}", *orders))
        return devices[-1]

    yield make
    for device in devices:
        device.replica.close()


def by_ledger(orders: list[OrderMoney]) -> dict[str, Any]:
    """The figures worked with the ledger alone."""
    figures = ledger.figure(orders)
    return {
        "totals": {o.id: figures.of(o.id).total for o in orders},
        "balances": {o.id: figures.of(o.id).balance for o in orders},
        "applied": {o.id: figures.of(o.id).applied for o in orders},
        "job": ledger.due_now(orders),
        "unapplied": figures.unapplied,
    }


def shown(job: Job) -> dict[str, Any]:
    return {
        "totals": {o.id: o.total for o in job.orders},
        "balances": {o.id: o.balance for o in job.orders},
        "applied": {o.id: o.applied for o in job.orders},
        "job": job.balance,
        "unapplied": job.unapplied,
    }


def test_the_contracts_example_a_deposit_carried_to_the_work_order(made: Callable[..., Device]) -> None:
    device = made(
        order("ord_dep", [line("Dispatch deposit", 7500)], paid=7500, stage="dispatch_deposit"),
        order("ord_work", [line("Compressor repair", 120000)], created="2026-05-01T10:00:00.000Z"),
    )
    job = device.job(JOB)
    assert shown(job) == by_ledger(
        [OrderMoney("ord_dep", 7500, paid=7500, deposit=True), OrderMoney("ord_work", 120000)]
    )
    dep, work = job.orders
    assert (work.total, job.balance, dep.balance) == (112500, 112500, 0)
    assert [(x.name, x.kind, x.signed) for x in work.shown_lines] == [
        ("Compressor repair", "service", 120000),
        ("Deposit applied", "deposit_applied", -7500),
    ]


def test_a_deposit_line_from_the_server_is_worked_out_again_not_subtracted_twice(made: Callable[..., Device]) -> None:
    device = made(
        order("ord_dep", [line("Dispatch deposit", 7500)], paid=7500, stage="dispatch_deposit"),
        order(
            "ord_work",
            [line("Compressor repair", 120000), line("Deposit applied", 7500, "deposit_applied")],
            created="2026-05-01T10:00:00.000Z",
        ),
    )
    device.add_on(JOB, "Capacitor", 4500)
    job = device.job(JOB)
    expected = by_ledger([OrderMoney("ord_dep", 7500, paid=7500, deposit=True), OrderMoney("ord_work", 124500)])
    assert shown(job) == expected
    assert job.orders[1].total == 117000
    assert [x.name for x in job.orders[1].shown_lines] == ["Compressor repair", "Capacitor", "Deposit applied"]
    assert job.orders[1].shown_lines[-1].uid == "uid-Deposit applied"


def test_a_deposit_bigger_than_the_work_is_applied_as_add_ons_grow(made: Callable[..., Device]) -> None:
    device = made(
        order("ord_dep", [line("Deposit", 50000)], paid=50000, stage="deposit"),
        order("ord_work", [line("Repair", 30000)], created="2026-05-01T10:00:00.000Z"),
    )
    assert (device.job(JOB).balance, device.job(JOB).unapplied) == (0, 20000)
    with pytest.raises(Exception, match="owes nothing"):
        device.text_to_pay(JOB)
    device.add_on(JOB, "Blower motor", 10000)
    job = device.job(JOB)
    assert shown(job) == by_ledger(
        [OrderMoney("ord_dep", 50000, paid=50000, deposit=True), OrderMoney("ord_work", 40000)]
    )
    assert (job.orders[1].applied, job.unapplied, job.balance) == (40000, 10000, 0)


def test_a_payment_by_job_is_spread_oldest_first_as_the_server_will(made: Callable[..., Device]) -> None:
    # Stored newest first, and two orders made in the same millisecond: creation order is (createdAt, id).
    device = made(
        order("ord_b", [line("Duct cleaning", 8000)], created="2026-05-01T10:00:00.000Z"),
        order("ord_a", [line("Diagnostic", 5000)], created="2026-05-01T10:00:00.000Z"),
        order(
            "ord_dep", [line("Deposit", 3000)], paid=3000, stage="dispatch_deposit", created="2026-05-01T09:00:00.000Z"
        ),
    )
    assert [o.id for o in device.job(JOB).orders] == ["ord_dep", "ord_a", "ord_b"]
    before = [
        OrderMoney("ord_dep", 3000, paid=3000, deposit=True),
        OrderMoney("ord_a", 5000),
        OrderMoney("ord_b", 8000),
    ]
    assert shown(device.job(JOB)) == by_ledger(before)
    assert device.job(JOB).balance == 10000

    device.record_payment(JOB, 6000, "cash")
    parts = dict(ledger.allocate(before, 6000))
    assert parts == {"ord_a": 2000, "ord_b": 4000}
    after = [OrderMoney(o.id, o.base, paid=o.paid + parts.get(o.id, 0), deposit=o.deposit) for o in before]
    job = device.job(JOB)
    assert shown(job) == by_ledger(after)
    assert (job.orders[1].balance, job.orders[2].balance, job.balance) == (0, 4000, 4000)
    assert job.pending == ["cash payment $60.00"]
    with pytest.raises(Exception, match=r"more than job job_1 owes as this device knows it \(\$40\.00\)"):
        device.record_payment(JOB, 4001, "cash")


def test_an_unpaid_deposit_order_counts_once_in_what_the_job_owes(made: Callable[..., Device]) -> None:
    device = made(
        order("ord_dep", [line("Dispatch deposit", 7500)], stage="dispatch_deposit"),
        order("ord_work", [line("Compressor repair", 120000)], created="2026-05-01T10:00:00.000Z"),
    )
    job = device.job(JOB)
    orders = [OrderMoney("ord_dep", 7500, deposit=True), OrderMoney("ord_work", 120000)]
    assert shown(job) == by_ledger(orders)
    assert job.balance == ledger.due_now(orders) == 120000  # paying the deposit applies it to the work
    device.record_payment(JOB, 7500, "cash", order_id="ord_dep")  # cash on the deposit order alone
    job = device.job(JOB)
    assert (job.orders[1].applied, job.orders[1].total, job.balance) == (7500, 112500, 112500)


def test_cancelled_orders_owe_nothing_and_take_no_deposit(made: Callable[..., Device]) -> None:
    device = made(
        order("ord_dep", [line("Deposit", 5000)], paid=5000, stage="deposit"),
        order("ord_gone", [line("Old quote", 9000)], state="cancelled", created="2026-05-01T09:30:00.000Z"),
        order("ord_work", [line("Repair", 20000)], created="2026-05-01T10:00:00.000Z"),
    )
    job = device.job(JOB)
    orders = [
        OrderMoney("ord_dep", 5000, paid=5000, deposit=True),
        OrderMoney("ord_gone", 9000, cancelled=True),
        OrderMoney("ord_work", 20000),
    ]
    assert shown(job) == by_ledger(orders)
    assert (job.orders[1].total, job.orders[2].applied, job.balance) == (0, 5000, 15000)


def test_a_pending_payment_past_what_is_owed_is_not_counted(made: Callable[..., Device]) -> None:
    device = made(order("ord_work", [line("Repair", 20000)]))
    device.record_payment(JOB, 15000, "cash")
    # The office took cash meanwhile: the replica learns of it before the phone syncs.
    paid = order("ord_work", [line("Repair", 20000)], paid=10000)
    device.replica.apply([p.Change(op="put", entity="order", id="ord_work", data=paid)], reset=False)
    job = device.job(JOB)
    assert (job.balance, job.orders[0].paid + job.orders[0].pending_paid) == (10000, 10000)
    assert job.pending == ["cash payment $150.00 (more than is owed now: the server will refuse it)"]


def test_the_orders_in_these_tests_look_like_the_servers(template: Template) -> None:
    replica = Replica(template.path, create=False)
    try:
        real = next(o for o in replica.entities("order") if o["lineItems"])
        real_job = replica.entities("job")[0]
    finally:
        replica.close()
    made_order = order("ord_x", [line("Repair", 100)])
    assert set(made_order) == set(real)
    assert set(made_order["lineItems"][0]) == set(real["lineItems"][0])
    assert set(JOB_DATA) == set(real_job)
    assert json.loads(json.dumps(made_order)) == made_order
