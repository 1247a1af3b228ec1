"""`flint doctor`: checks a store, also while a server runs on it (contract §2).

It opens the file read-only and reads it in one snapshot (`server/store/audit.py`), so it never
writes and never holds the server's writer up; then it checks, with plain functions over the
rows read:

- SQLite's own integrity check;
- the one ledger (`server/orders/audit.py`): every order's and job's figures worked out again
  from the lines, payments and refunds by the rule (`sync.ledger`) and compared with what the
  store keeps, Flint's own deposit lines, the deposit identities, no client line added to a
  deposit order, nothing negative or past the largest amount;
- refunds never exceed their payment, a charge is the sum of its parts;
- estimates and approvals (`server/estimates/audit.py`): an approval and its deposit both or
  neither, the evidence still hashing to what it recorded;
- rows that point at nothing (payments, refunds, links, orders, texts, approvals);
- card charges, payments and refunds left pending, and texts stuck in `sending`;
- card on file and autopay (`server/plans/audit.py`): each autopay attempt against its charge,
  no cycle charged twice, setups left in flight, retries overdue, plans past due, saved cards.

What it finds it says in words a person can act on. Exit 0 clean, 1 problems found, 2 the file
cannot be opened as a Flint store.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from server.clock import format_time, parse_time, system_clock
from server.estimates import audit as audit_approvals
from server.orders import audit as audit_ledger
from server.plans import audit as autopay_audit
from server.store import audit
from server.store.db import Row, Tx
from sync import ledger

CLEAN, PROBLEMS, NOT_A_STORE = 0, 1, 2
PENDING_AFTER = timedelta(minutes=2)  # a running server settles a card charge or refund within a minute
SENDING_AFTER = timedelta(minutes=5)  # a worker records a send's answer within seconds


COUNTED = {
    "customers": "customers",
    "jobs": "jobs",
    "orders": "orders",
    "charges": "charges",
    "payments": "payments",
    "refunds": "refunds",
    "payment_links": "payment links",
    "sms_messages": "texts",
    "saved_cards": "saved cards",
    "card_links": "card links",
    "autopay_attempts": "autopay attempts",
}


class NotAStore(Exception):
    """The file cannot be opened as a Flint store; the message says why, plainly."""


@dataclass(frozen=True, slots=True)
class Problem:
    where: str  # the row, e.g. "order ord_..."
    what: str  # what is wrong, with the figures
    fix: str = ""  # what a person can do about it


@dataclass
class Report:
    path: str
    integrity: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return CLEAN if self.clean else PROBLEMS

    def render(self) -> str:
        checked = ", ".join(f"{n} {name}" for name, n in self.counts.items())
        out = [f"flint doctor: {self.path}", f"  checked {checked}"]
        out.append("  SQLite integrity check: " + ("ok" if self.integrity == ["ok"] else "FAILED"))
        if self.problems:
            out += ["", f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}:"]
            for problem in self.problems:
                out.append(f"- {problem.where}: {problem.what}")
                if problem.fix:
                    out.append(f"    what to do: {problem.fix}")
        if self.notes:
            out += ["", "notes (not problems):"]
            out += [f"- {note}" for note in self.notes]
        verdict = "clean" if self.clean else f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"
        out += ["", f"verdict: {verdict}"]
        return "\n".join(out)


def examine(path: str | Path, now: datetime | None = None) -> Report:
    """Check the store at `path`; raises `NotAStore` when it is not one."""
    conn = _open(Path(path))
    try:
        tx = Tx(conn, format_time(now or system_clock()), writable=False)
        conn.execute("BEGIN")  # one snapshot for every read below
        try:
            _check_schema(tx)
            return _examine(tx, str(path), parse_time(tx.now))
        finally:
            conn.execute("ROLLBACK")
    except sqlite3.DatabaseError as err:
        raise NotAStore(f"{path} could not be read as a Flint store: {err}") from None
    finally:
        conn.close()


def _open(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise NotAStore(f"{path} does not exist")
    if not path.is_file():
        raise NotAStore(f"{path} is not a file")
    try:
        conn = audit.connect_readonly(path)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as err:
        raise NotAStore(f"{path} is not an SQLite database ({err})") from None
    return conn


def _check_schema(tx: Tx) -> None:
    if audit.MIGRATIONS_TABLE not in audit.tables(tx):
        raise NotAStore(f"this SQLite file has no {audit.MIGRATIONS_TABLE} table: it is not a Flint store")
    applied = audit.migrations_applied(tx)
    if audit.FIRST_MIGRATION not in applied:
        raise NotAStore("this SQLite file was never set up by Flint: it is not a Flint store")
    missing = audit.migrations_missing(applied)
    if missing:
        raise NotAStore(
            f"this Flint store is older than this Flint (it lacks {', '.join(missing)}); "
            "start `flint serve` on it once to bring it up to date, then check it again"
        )


def _examine(tx: Tx, path: str, now: datetime) -> Report:
    report = Report(path)
    report.counts = {label: audit.count(tx, table) for table, label in COUNTED.items()}
    report.integrity = audit.integrity(tx)
    if report.integrity != ["ok"]:
        report.problems += [
            Problem("the file", f"SQLite's integrity check says: {line}", "restore the last backup of the store")
            for line in report.integrity[:20]
        ]
    orders, lines, payments = audit.orders(tx), audit.lines(tx), audit.payments(tx)
    charges, refunds = audit.charges(tx), audit.refunds(tx)
    report.problems += order_rows(orders, lines, payments, refunds)
    report.problems += refunds_within_payments(payments, refunds)
    report.problems += charges_are_their_parts(charges, payments)
    report.problems += [
        Problem(f.where, f.what, f.fix) for f in audit_ledger.check(orders, audit.jobs(tx), lines, payments, refunds)
    ]
    report.problems += [
        Problem(f.where, f.what, f.fix)
        for f in audit_approvals.check(audit.estimates(tx), audit.approvals(tx), charges, payments, lines)
    ]
    for kind, what, sql in audit.DANGLING:
        for row in audit.dangling(tx, sql):
            where = f"{kind} {row['id']}"
            report.problems.append(Problem(where, what.format(target=row["target"]), "restore the rows from a backup"))
    problems, notes = left_pending(charges, payments, refunds, now)
    report.problems += problems
    report.notes += notes
    problems, notes = texts_stuck(audit.texts_sending(tx), now)
    report.problems += problems
    report.notes += notes
    found, said = autopay_audit.check(
        audit.autopay_attempts(tx), audit.autopay_cycles(tx), charges, audit.card_setups(tx), audit.saved_cards(tx), now
    )
    report.problems += [Problem(f.where, f.what, f.fix) for f in found]
    report.notes += said
    waiting = audit.texts_awaiting_callbacks(tx)
    if waiting:
        report.notes.append(f"{waiting} text(s) were taken by Twilio and wait for its status callback")
    return report


# The checks, pure functions over rows.


def _money(amount: int, currency: str) -> str:
    return ledger.display(amount, currency)


def order_rows(
    orders: Sequence[Row], lines: Sequence[Row], payments: Sequence[Row], refunds: Sequence[Row]
) -> list[Problem]:
    """What no rule may break whatever the figures: lines never negative, an order's money in its
    own currency, never more refunded than paid, nothing kept on a cancelled order."""
    problems: list[Problem] = []
    currency_of = {o["id"]: o["currency"] for o in orders}
    for line in lines:
        if line["quantity"] < 1 or line["unit_amount"] < 0:
            currency = currency_of.get(line["order_id"], "USD")
            problems.append(
                Problem(
                    f"order {line['order_id']}",
                    f"line {line['uid']} is {line['quantity']} x {_money(line['unit_amount'], currency)}:"
                    " a line is never negative",
                    "remove the line and add it again as the office API would",
                )
            )
    for row in [*payments, *refunds]:
        expected = currency_of.get(row["order_id"])
        if expected is not None and row["currency"] != expected:
            problems.append(
                Problem(f"order {row['order_id']}", f"{row['id']} is in {row['currency']}, the order in {expected}")
            )
    inputs = audit_ledger.scratch_inputs(orders, lines, payments, refunds)
    for order in orders:
        money, currency, where = inputs[order["id"]], order["currency"], f"order {order['id']}"
        if money.refunded > money.paid:
            problems.append(
                Problem(
                    where,
                    f"more was refunded ({_money(money.refunded, currency)})"
                    f" than paid ({_money(money.paid, currency)})",
                    "compare the refunds with the processor's",
                )
            )
        if money.cancelled and money.held > 0:
            problems.append(
                Problem(where, f"is cancelled but keeps {_money(money.held, currency)}", "refund what it keeps")
            )
    return problems


def refunds_within_payments(payments: Sequence[Row], refunds: Sequence[Row]) -> list[Problem]:
    problems: list[Problem] = []
    by_id = {p["id"]: p for p in payments}
    given: dict[str, int] = defaultdict(int)
    for refund in refunds:
        payment = by_id.get(refund["payment_id"])
        if payment is None or refund["status"] not in ("completed", "pending"):
            continue
        given[payment["id"]] += refund["amount"]
        if payment["status"] != "captured":
            problems.append(
                Problem(
                    f"refund {refund['id']}",
                    f"gives back payment {payment['id']}, which is {payment['status']}, not captured",
                )
            )
    for payment_id, amount in given.items():
        payment = by_id[payment_id]
        if amount > payment["amount"]:
            currency = payment["currency"]
            problems.append(
                Problem(
                    f"payment {payment_id}",
                    f"{_money(amount, currency)} was refunded of {_money(payment['amount'], currency)}",
                    "compare its refunds with the card processor's and cancel the extra one there",
                )
            )
    return problems


def charges_are_their_parts(charges: Sequence[Row], payments: Sequence[Row]) -> list[Problem]:
    problems: list[Problem] = []
    parts: dict[str, list[Row]] = defaultdict(list)
    for payment in payments:
        if payment["charge_id"] is not None:
            parts[payment["charge_id"]].append(payment)
    for charge in charges:
        mine, where, currency = parts.get(charge["id"], []), f"charge {charge['id']}", charge["currency"]
        if not mine and charge["estimate_id"] is not None and charge["status"] != "captured":
            continue  # a deposit reserved ahead of the work order its approval makes: none yet, or declined
        if not mine:
            problems.append(Problem(where, "applies to no order (it has no payments)", "restore its payments"))
            continue
        total = sum(p["amount"] for p in mine)
        if total != charge["amount"]:
            problems.append(
                Problem(
                    where,
                    f"is {_money(charge['amount'], currency)} but its payments add up to {_money(total, currency)}",
                )
            )
        for part in mine:
            if part["status"] != charge["status"]:
                problems.append(
                    Problem(where, f"is {charge['status']} but its payment {part['id']} is {part['status']}")
                )
    return problems


def _age(since: str, now: datetime) -> timedelta:
    try:
        return now - parse_time(since)
    except ValueError:
        return timedelta(0)


def say_duration(span: timedelta) -> str:
    seconds = max(0, int(span.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h {minutes % 60} min" if hours < 48 else f"{hours // 24} days"


def left_pending(
    charges: Sequence[Row], payments: Sequence[Row], refunds: Sequence[Row], now: datetime
) -> tuple[list[Problem], list[str]]:
    problems: list[Problem] = []
    notes: list[str] = []
    pending_charges = {c["id"] for c in charges if c["status"] == "pending"}
    rows = [
        ("card charge", c["id"], c["created_at"]) for c in charges if c["status"] == "pending"
    ] + [
        ("payment", p["id"], p["created_at"])
        for p in payments
        if p["status"] == "pending" and p["charge_id"] not in pending_charges
    ] + [("refund", r["id"], r["created_at"]) for r in refunds if r["status"] == "pending"]  # fmt: skip
    for kind, row_id, created_at in rows:
        age = _age(created_at, now)
        if age >= PENDING_AFTER:
            problems.append(
                Problem(
                    f"{kind} {row_id}",
                    f"has been pending for {say_duration(age)}",
                    "start `flint serve` on this store: it settles what was left in flight with the card processor",
                )
            )
        else:
            notes.append(f"{kind} {row_id} is in flight ({say_duration(age)})")
    return problems, notes


def texts_stuck(rows: Sequence[Row], now: datetime) -> tuple[list[Problem], list[str]]:
    problems: list[Problem] = []
    notes: list[str] = []
    for row in rows:
        age = _age(row["claimed_at"] or row["updated_at"], now)
        if age >= SENDING_AFTER:
            problems.append(
                Problem(
                    f"text {row['id']}",
                    f"has been stuck in `sending` for {say_duration(age)}",
                    "start `flint serve` on this store: it asks Twilio whether the text went, then sends or records it",
                )
            )
        else:
            notes.append(f"text {row['id']} is being sent ({say_duration(age)})")
    return problems, notes
