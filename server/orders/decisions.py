"""The customer's answer on an order's lines that wait for approval (contract §8): approved lines
count from now (the one ledger works the job out again in the same transaction), declined ones
stay as a record and count in nothing. Each line's kept JSON (`shown`) is written again with it."""

from __future__ import annotations

from collections.abc import Sequence

from server.errors import RuleViolation
from server.orders import ledger, rules, service, store
from server.orders.lines import line_of, shown
from server.store import Row, Tx


def pending_lines(tx: Tx, row: Row, uids: Sequence[str] | None = None) -> list[Row]:
    """The order's lines that wait for the customer (`uids`: exactly these, each of which must)."""
    lines = store.lines_of(tx, [row["id"]])[row["id"]]
    if uids is None:
        return [line for line in lines if line["approval"] == "pending"]
    by_uid = {line["uid"]: line for line in lines}
    found = []
    for uid in uids:
        line = by_uid.get(uid)
        if line is None:
            raise RuleViolation("unknown_line", f"order {row['id']} has no line item {uid}")
        rules.check_pending(line["approval"], uid)
        found.append(line)
    return found


def decide(tx: Tx, row: Row, uids: Sequence[str], decision: str) -> int:
    """The customer's answer on pending lines of the order in `row`: `approved` lines count from
    now (the one ledger works the job out again), `declined` ones stay as a record and count in
    nothing. Returns how much the order's base grew."""
    order_id, currency = row["id"], row["currency"]
    lines = pending_lines(tx, row, uids)
    now = [{**{k: line[k] for k in line.keys()}, "approval": decision} for line in lines]  # noqa: SIM118
    change = rules.base_of(map(line_of, now))
    if decision == "approved":
        rules.check_open(row["state"], order_id)
        service.check_base(row, row["base"] + change)
        service.check_job_total(tx, row, base=row["base"] + change)
    store.set_approval(tx, order_id, [(line["uid"], decision, shown(line, currency)) for line in now])
    store.update_order(tx, order_id, row["job_id"])
    ledger.lines_changed(tx, row, change)
    ledger.refigure(tx, row["job_id"], row)
    return change
