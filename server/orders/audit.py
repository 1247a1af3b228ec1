"""The one ledger checked from scratch, for `flint doctor` (pure functions over rows read whole).

For every job (and every order on no job) the rule is worked out again from the lines, payments
and refunds themselves, and compared with what was kept: each order's inputs and figures, Flint's
own `Deposit applied` and `Deposit refunded` lines, and the job's figures. Then the identities
the rule promises are checked on the kept rows: the deposit applied plus what is unapplied is
what the job's deposit orders hold; no client line joined a deposit order after it was made;
nothing owes less than nothing; nothing passes the largest amount.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import msgspec

from server.store import Row
from sync import ledger


@dataclass(frozen=True, slots=True)
class Finding:
    where: str
    what: str
    fix: str = ""


REFIGURE = "start `flint serve` and change any order of the job (or run `flint doctor` after restoring a backup)"


def _money(amount: int, currency: str) -> str:
    return ledger.display(amount, currency)


def _stage(metadata: str) -> str | None:
    try:
        return msgspec.json.decode(metadata, type=dict[str, str]).get("paymentStage")
    except msgspec.DecodeError:
        return None


def scratch_inputs(
    orders: Sequence[Row], lines: Iterable[Row], payments: Iterable[Row], refunds: Iterable[Row]
) -> dict[str, ledger.OrderMoney]:
    """Each order as the rule takes it, from its lines, payments and refunds."""
    base: dict[str, int] = defaultdict(int)
    paid: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    refunded: dict[str, int] = defaultdict(int)
    for line in lines:
        base[line["order_id"]] += ledger.base_of(
            [(line["kind"], line["quantity"], line["unit_amount"], line["approval"])]
        )
    for payment in payments:
        if payment["status"] == "captured":
            paid[payment["order_id"]] += payment["amount"]
        elif payment["status"] == "pending":
            pending[payment["order_id"]] += payment["amount"]
    for refund in refunds:
        if refund["status"] == "completed":
            refunded[refund["order_id"]] += refund["amount"]
    return {
        o["id"]: ledger.OrderMoney(
            id=o["id"],
            base=base[o["id"]],
            paid=paid[o["id"]],
            refunded=refunded[o["id"]],
            pending=pending[o["id"]],
            deposit=ledger.is_deposit_stage(_stage(o["metadata"])),
            cancelled=o["state"] == "cancelled",
        )
        for o in orders
    }


def check(
    orders: Sequence[Row], jobs: Sequence[Row], lines: Sequence[Row], payments: Sequence[Row], refunds: Sequence[Row]
) -> list[Finding]:
    found: list[Finding] = []
    inputs = scratch_inputs(orders, lines, payments, refunds)
    system: dict[tuple[str, str], int] = defaultdict(int)
    for line in lines:
        if line["kind"] in ledger.SYSTEM_KINDS:
            system[(line["order_id"], line["kind"])] += ledger.line_amount(line["quantity"], line["unit_amount"])
    groups: dict[str, list[Row]] = defaultdict(list)
    for order in orders:
        groups[order["job_id"] or f"order:{order['id']}"].append(order)
    kept_jobs = {j["id"]: j for j in jobs}
    for key, own in groups.items():
        figures = ledger.figure([inputs[o["id"]] for o in own])
        for order in own:
            found += _order(order, inputs[order["id"]], figures.of(order["id"]), system)
        if not key.startswith("order:"):
            found += _job(key, kept_jobs.get(key), figures, own)
    found += _added_to_deposit_orders(orders, lines, inputs)
    return found


def _order(
    order: Row, scratch: ledger.OrderMoney, want: ledger.OrderFigures, system: dict[tuple[str, str], int]
) -> list[Finding]:
    found: list[Finding] = []
    where, currency = (
        f"order {order['id']}" + (f" (job {order['job_id']})" if order["job_id"] else ""),
        order["currency"],
    )
    kept = (order["base"], order["paid"], order["pending"], order["refunded"], bool(order["deposit"]))
    if kept != (scratch.base, scratch.paid, scratch.pending, scratch.refunded, scratch.deposit):
        found.append(
            Finding(
                where,
                f"keeps base {_money(order['base'], currency)}, paid {_money(order['paid'], currency)}, in flight"
                f" {_money(order['pending'], currency)}, refunded {_money(order['refunded'], currency)}, but its lines"
                f" and payments say {_money(scratch.base, currency)}, {_money(scratch.paid, currency)},"
                f" {_money(scratch.pending, currency)}, {_money(scratch.refunded, currency)}",
                REFIGURE,
            )
        )
    for kind, name, amount in (
        (ledger.DEPOSIT_APPLIED, "deposit applied", want.applied),
        (ledger.DEPOSIT_REFUNDED, "deposit refunded", want.refunded_deposit),
    ):
        have = system.get((order["id"], kind), 0)
        if have != amount:
            found.append(
                Finding(
                    where,
                    f"shows {_money(have, currency)} of {name}, but the job's money says {_money(amount, currency)}",
                    REFIGURE,
                )
            )
    shown = (order["applied"], order["refunded_deposit"], order["total"], order["balance"])
    if not scratch.cancelled and shown != (want.applied, want.refunded_deposit, want.total, want.balance):
        found.append(
            Finding(
                where,
                f"keeps total {_money(order['total'], currency)} and balance {_money(order['balance'], currency)},"
                f" but the rule says {_money(want.total, currency)} and {_money(want.balance, currency)}",
                REFIGURE,
            )
        )
    if scratch.held > max(0, scratch.base) and not scratch.deposit:
        found.append(
            Finding(
                where,
                f"holds {_money(scratch.held, currency)} for {_money(scratch.base, currency)} of work",
                f"refund {_money(scratch.held - max(0, scratch.base), currency)} or add the line item that is missing",
            )
        )
    if want.balance < 0 or want.total < 0 or scratch.base < 0:
        found.append(Finding(where, "owes less than nothing", "remove a discount line or refund the difference"))
    if max(scratch.base, scratch.paid) > ledger.MAX_AMOUNT:
        found.append(Finding(where, "a figure is past the largest amount Flint holds"))
    return found


def _job(job_id: str, kept: Row | None, want: ledger.JobFigures, own: Sequence[Row]) -> list[Finding]:
    where = f"job {job_id}"
    if kept is None:
        return []
    currency = kept["currency"]
    found: list[Finding] = []
    currencies = sorted({o["currency"] for o in own if o["state"] != "cancelled"})
    if len(currencies) > 1:
        found.append(Finding(where, f"has orders in {' and '.join(currencies)}: one currency a job"))
    shown = (kept["total"], kept["paid"], kept["refunded"], kept["balance"], kept["unapplied"])
    if shown != (want.total, want.paid, want.refunded, want.balance, want.unapplied):
        found.append(
            Finding(
                where,
                f"keeps total {_money(kept['total'], currency)}, balance {_money(kept['balance'], currency)},"
                f" unapplied deposit {_money(kept['unapplied'], currency)}; its orders say"
                f" {_money(want.total, currency)}, {_money(want.balance, currency)},"
                f" {_money(want.unapplied, currency)}",
                REFIGURE,
            )
        )
    applied = sum(o["applied"] for o in own if o["state"] != "cancelled")
    held = sum(o["paid"] + o["pending"] - o["refunded"] for o in own if o["deposit"] and o["state"] != "cancelled")
    if applied + kept["unapplied"] != max(0, held):
        found.append(
            Finding(
                where,
                f"applies {_money(applied, currency)} of deposit and leaves {_money(kept['unapplied'], currency)}"
                f" unapplied, but its deposit orders hold {_money(held, currency)}",
                REFIGURE,
            )
        )
    if want.total > ledger.MAX_AMOUNT:
        found.append(Finding(where, "its total is past the largest amount Flint holds"))
    return found


def _added_to_deposit_orders(
    orders: Sequence[Row], lines: Sequence[Row], inputs: dict[str, ledger.OrderMoney]
) -> list[Finding]:
    """A deposit order asks part of the work early: a line added to it later is work nobody is
    asked to pay for."""
    made = {o["id"]: o["created_at"] for o in orders if inputs[o["id"]].deposit}
    return [
        Finding(
            f"order {line['order_id']}",
            f"is a deposit order, but line {line['uid']} was added to it after it was made: nobody is asked to pay"
            " for it",
            "remove the line and add it to the job's work order",
        )
        for line in lines
        if line["order_id"] in made
        and line["kind"] not in ledger.SYSTEM_KINDS
        and line["created_at"] > made[line["order_id"]]
    ]
