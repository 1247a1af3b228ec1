"""Add-ons in bulk, for a device's push: each line is checked as `service.apply_line_items` checks
it, one at a time and in order, against the order as the earlier lines of the batch left it (in
memory), and a line that breaks a rule is refused alone with nothing written; then the batch is
written together, an order at a time: its lines and their trail events in one statement each,
its version moved by the count, and the one ledger worked out once per job.

What the store holds afterwards is what one `apply_line_items` per line would have left, but
for the `Deposit applied` line of a job whose deposit the batch moved: it is worked out once, so
the trail says where it ended, not each step on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from server.errors import RuleViolation
from server.orders import ledger, rules, store
from server.orders.lines import line_of
from server.orders.service import line_event, new_lines
from server.orders.types import LineItemIn
from server.store import Row, Tx
from server.trail import service as trail
from server.wire import Actor
from sync import ledger as rule
from sync.limits import MAX_AMOUNT


@dataclass
class _Order:
    row: Row
    base: int
    total: int  # the running total the trail events say (as `apply_line_items` says it)
    lines: list[dict[str, Any]] = field(default_factory=list)
    uids: set[str] = field(default_factory=set)
    events: list[trail.NewEvent] = field(default_factory=list)


class LineBatch:
    def __init__(self, tx: Tx, actor: Actor) -> None:
        self.tx = tx
        self.actor = actor
        self.orders: dict[str, _Order] = {}
        self.seen: dict[str, Any] = {}  # what the batch's caller read once for it (scope checks), until it is written

    def __bool__(self) -> bool:
        return bool(self.orders)

    def add(self, row: Row, item: LineItemIn, client_at: str | None = None) -> None:
        """Check one line for the order in `row` and hold it; raises the rule it breaks."""
        order_id, tx = row["id"], self.tx
        held = self.orders.get(order_id)
        if held is None:
            held = _Order(row, row["base"], row["total"])
        rules.check_open(row["state"], order_id)
        rules.check_deposit_order_closed_to_lines(bool(row["deposit"]), order_id)
        currency = row["currency"]
        rules.check_currency(currency, [item.unit_price_money.currency])
        [line] = new_lines([item], self.actor, currency)
        change = line_of(line).counted
        rules.check_new_base(held.base + change, row["paid"], row["pending"], row["refunded"], bool(row["deposit"]))
        self._check_job_total(row, held.base + change)
        if line["uid"] in held.uids or store.line(tx, order_id, line["uid"]) is not None:
            raise RuleViolation("duplicate_uid", "the order already has a line item with one of these uids")
        held.base += change
        held.total += change
        held.lines.append(line)
        held.uids.add(line["uid"])
        held.events.append(
            trail.NewEvent(
                "order.line_item_added",
                self.actor,
                line_event(order_id, line, currency, held.total),
                job_id=row["job_id"],
                order_id=order_id,
                client_at=client_at,
            )
        )
        self.orders[order_id] = held

    def _check_job_total(self, row: Row, base: int) -> None:
        """As `service.check_job_total`, counting what the batch holds for the job's other orders."""
        job_id = row["job_id"]
        if job_id is None:
            return
        rows = ledger.rows_of(self.tx, job_id)
        bases = {r["id"]: self.orders[r["id"]].base if r["id"] in self.orders else r["base"] for r in rows}
        bases[row["id"]] = base
        if sum(max(0, b) for b in bases.values()) <= MAX_AMOUNT:
            return
        monies = [ledger.money_of(r, base=bases[r["id"]]) for r in rows]
        rules.check_size(rule.figure(monies).total, "the job's total")

    def flush(self) -> None:
        """Write what is held, and work each job out once."""
        tx = self.tx
        jobs: dict[str, tuple[str | None, Row]] = {}
        for order_id, held in self.orders.items():
            row = held.row
            store.insert_lines(tx, order_id, held.lines)
            store.update_order(tx, order_id, row["job_id"], versions=len(held.lines))
            ledger.lines_changed(tx, row, held.base - row["base"])
            trail.record_many(tx, held.events)
            jobs.setdefault(row["job_id"] or order_id, (row["job_id"], row))
        self.orders.clear()
        self.seen.clear()
        for job_id, row in jobs.values():
            ledger.refigure(tx, job_id, row)
