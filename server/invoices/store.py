"""SQL of invoices, their payment requests and the reminders sent for them. What a request has
been paid is read from the charges taken through it, as the payments domain wrote them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx

_INVOICE = (
    "i.n, i.id, i.number, i.order_id, i.status, i.token, i.recipient_name, i.recipient_phone, i.recipient_email,"
    " i.po_number, i.last_texted_to, i.published_at, i.paid_at, i.cancelled_at, i.created_at, i.updated_at,"
    " o.job_id, o.customer_id, o.state AS order_state, o.currency"
)
_FROM = "invoices i JOIN orders o ON o.id = i.order_id"
_REQUEST = "n, invoice_id, uid, type, amount, percentage, due_date"
_CHARGE = "id, amount, currency, status, invoice_id, invoice_request, card_brand, card_last4, created_at, settled_at"


def next_number(tx: Tx) -> int:
    """The next invoice number. Taken inside the write transaction that inserts the invoice: the
    one writer serialises them, and a transaction rolled back gives its number back."""
    row = tx.one("SELECT coalesce(max(number), 0) + 1 AS next FROM invoices")
    assert row is not None
    return int(row["next"])


def insert(tx: Tx, **row: Any) -> None:
    tx.insert("invoices", {**row, "status": "draft", "created_at": tx.now, "updated_at": tx.now})


def insert_requests(tx: Tx, invoice_id: str, requests: Sequence[dict[str, Any]]) -> None:
    tx.many(
        "INSERT INTO invoice_requests (invoice_id, uid, type, amount, percentage, due_date)"
        " VALUES (:invoice_id, :uid, :type, :amount, :percentage, :due_date)",
        [{**r, "invoice_id": invoice_id} for r in requests],
    )


def update(tx: Tx, invoice_id: str, **fields: Any) -> None:
    assignments = "".join(f", {column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE invoices SET updated_at = :now{assignments} WHERE id = :id",
        {**fields, "now": tx.now, "id": invoice_id},
    )


def get(tx: Tx, invoice_id: str) -> Row | None:
    return tx.one(f"SELECT {_INVOICE} FROM {_FROM} WHERE i.id = ?", (invoice_id,))


def by_token(tx: Tx, token: str) -> Row | None:
    return tx.one(f"SELECT {_INVOICE} FROM {_FROM} WHERE i.token = ?", (token,))


def open_for_order(tx: Tx, order_id: str) -> Row | None:
    return tx.one(f"SELECT {_INVOICE} FROM {_FROM} WHERE i.order_id = ? AND i.status != 'cancelled'", (order_id,))


def for_orders(tx: Tx, order_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_INVOICE} FROM {_FROM} WHERE i.order_id IN ({{in}}) ORDER BY i.n", order_ids)


def page(tx: Tx, after: int, limit: int, order_id: str | None, job_id: str | None) -> list[Row]:
    where: list[str] = ["i.n > ?"]
    params: list[Any] = [after]
    if order_id is not None:
        where.append("i.order_id = ?")
        params.append(order_id)
    if job_id is not None:
        where.append("o.job_id = ?")
        params.append(job_id)
    return tx.all(
        f"SELECT {_INVOICE} FROM {_FROM} WHERE {' AND '.join(where)} ORDER BY i.n LIMIT ?", [*params, limit + 1]
    )


def open_invoices(tx: Tx) -> list[Row]:
    """Published invoices not yet seen paid: what the reminder run looks at."""
    return tx.all(f"SELECT {_INVOICE} FROM {_FROM} WHERE i.status = 'published' AND i.paid_at IS NULL ORDER BY i.n")


def requests_of(tx: Tx, invoice_ids: Sequence[str]) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = defaultdict(list)
    for row in tx.all_in(
        f"SELECT {_REQUEST} FROM invoice_requests WHERE invoice_id IN ({{in}}) ORDER BY n", invoice_ids
    ):
        found[row["invoice_id"]].append(row)
    return found


def charges_of(tx: Tx, invoice_ids: Sequence[str]) -> dict[str, list[Row]]:
    """Card charges taken through each invoice (captured, in flight or declined), oldest first."""
    found: dict[str, list[Row]] = defaultdict(list)
    for row in tx.all_in(f"SELECT {_CHARGE} FROM charges WHERE invoice_id IN ({{in}}) ORDER BY n", invoice_ids):
        found[row["invoice_id"]].append(row)
    return found


def refunded_of_charges(tx: Tx, charge_ids: Sequence[str]) -> dict[str, int]:
    """Completed refunds of each charge's parts."""
    found: dict[str, int] = defaultdict(int)
    for row in tx.all_in(
        "SELECT p.charge_id, r.amount FROM refunds r JOIN payments p ON p.id = r.payment_id"
        " WHERE r.status = 'completed' AND p.charge_id IN ({in})",
        charge_ids,
    ):
        found[row["charge_id"]] += row["amount"]
    return found


def reminded(tx: Tx, invoice_id: str, request_uid: str, kind: str) -> bool:
    row = tx.one(
        "SELECT 1 FROM invoice_reminders WHERE invoice_id = ? AND request_uid = ? AND kind = ?",
        (invoice_id, request_uid, kind),
    )
    return row is not None


def insert_reminder(tx: Tx, invoice_id: str, request_uid: str, kind: str, sms_id: str) -> None:
    tx.run(
        "INSERT INTO invoice_reminders (invoice_id, request_uid, kind, sms_id, sent_at) VALUES (?, ?, ?, ?, ?)",
        (invoice_id, request_uid, kind, sms_id, tx.now),
    )


def reminders_of(tx: Tx, invoice_id: str) -> list[Row]:
    return tx.all(
        "SELECT invoice_id, request_uid, kind, sms_id, sent_at FROM invoice_reminders WHERE invoice_id = ?"
        " ORDER BY sent_at",
        (invoice_id,),
    )
