"""SQL of charges (money taken from a customer at once), payments (a charge's part on one order)
and refunds (money given back of one payment)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx
from server.store.changelog import touch

_PAYMENT = (
    "p.n, p.id, p.order_id, p.amount, p.currency, p.status, p.method, p.card_brand, p.card_last4, p.decline_code,"
    " p.payment_link_id, p.source, p.reference, p.uid, p.processor_ref, p.charge_id, p.created_at, o.job_id"
)
_PAYMENTS = "payments p JOIN orders o ON o.id = p.order_id"
_REFUND = (
    "n, id, payment_id, order_id, amount, currency, reason, status, request_key, request_hash, processor_ref,"
    " created_at"
)
_CHARGE = (
    "n, id, job_id, amount, currency, status, method, source, payment_link_id, invoice_id, invoice_request,"
    " card_brand, card_last4, decline_code, processor_ref, reference, uid, receipt_to, receipt_url, actor_kind,"
    " actor_id, created_at, settled_at, estimate_id"
)


# Charges.


def insert_charge(tx: Tx, **row: Any) -> None:
    tx.insert("charges", {**row, "created_at": tx.now})


def get_charge(tx: Tx, charge_id: str) -> Row | None:
    return tx.one(f"SELECT {_CHARGE} FROM charges WHERE id = ?", (charge_id,))


def charge_by_uid(tx: Tx, uid: str) -> Row | None:
    return tx.one(f"SELECT {_CHARGE} FROM charges WHERE uid = ?", (uid,))


def settle_charge(tx: Tx, charge_id: str, **fields: Any) -> None:
    """A charge in flight becomes captured or declined, and so do its parts."""
    assignments = "".join(f", {column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE charges SET settled_at = :now{assignments} WHERE id = :id", {**fields, "now": tx.now, "id": charge_id}
    )
    part_fields = {k: v for k, v in fields.items() if k in _PART_FIELDS}
    assignments = ", ".join(f"{column} = :{column}" for column in part_fields)
    tx.run(f"UPDATE payments SET {assignments} WHERE charge_id = :id", {**part_fields, "id": charge_id})
    for part in parts_of(tx, charge_id):
        touch(tx, "payment", part["id"], part["job_id"])


_PART_FIELDS = frozenset({"status", "card_brand", "card_last4", "decline_code", "processor_ref"})


def note_reference(tx: Tx, charge_id: str, reference: str) -> None:
    tx.run("UPDATE charges SET processor_ref = ? WHERE id = ? AND status = 'pending'", (reference, charge_id))


def charges_in_status(tx: Tx, status: str) -> list[Row]:
    return tx.all(f"SELECT {_CHARGE} FROM charges WHERE status = ? ORDER BY n", (status,))


def charges_for_links(tx: Tx, link_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_CHARGE} FROM charges WHERE payment_link_id IN ({{in}}) ORDER BY n", link_ids)


def pending_for_link(tx: Tx, link_id: str) -> Row | None:
    return tx.one(f"SELECT {_CHARGE} FROM charges WHERE payment_link_id = ? AND status = 'pending'", (link_id,))


def captured_for_job(tx: Tx, job_id: str) -> list[Row]:
    return tx.all(f"SELECT {_CHARGE} FROM charges WHERE job_id = ? AND status = 'captured' ORDER BY n", (job_id,))


def captured_for_orders(tx: Tx, order_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(
        f"SELECT {_CHARGE} FROM charges WHERE status = 'captured' AND id IN"
        " (SELECT charge_id FROM payments WHERE order_id IN ({in})) ORDER BY n",
        order_ids,
    )


# Payments, the parts of charges.


def insert(tx: Tx, job_id: str | None, **row: Any) -> None:
    tx.insert("payments", {**row, "created_at": tx.now})
    touch(tx, "payment", row["id"], job_id)


def touch_payment(tx: Tx, payment_id: str, job_id: str | None) -> None:
    """A refund changed what the payment shows."""
    touch(tx, "payment", payment_id, job_id)


def get(tx: Tx, payment_id: str) -> Row | None:
    return tx.one(f"SELECT {_PAYMENT} FROM {_PAYMENTS} WHERE p.id = ?", (payment_id,))


def parts_of(tx: Tx, charge_id: str) -> list[Row]:
    return tx.all(f"SELECT {_PAYMENT} FROM {_PAYMENTS} WHERE p.charge_id = ? ORDER BY p.n", (charge_id,))


def parts_of_charges(tx: Tx, charge_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_PAYMENT} FROM {_PAYMENTS} WHERE p.charge_id IN ({{in}}) ORDER BY p.n", charge_ids)


def page(tx: Tx, after: int, limit: int, order_id: str | None, job_id: str | None) -> list[Row]:
    """Settled payments (captured or declined); one still in flight is not listed yet."""
    where: list[str] = ["p.status != 'pending'", "p.n > ?"]
    params: list[Any] = [after]
    if order_id is not None:
        where.append("p.order_id = ?")
        params.append(order_id)
    if job_id is not None:
        where.append("o.job_id = ?")
        params.append(job_id)
    return tx.all(
        f"SELECT {_PAYMENT} FROM {_PAYMENTS} WHERE {' AND '.join(where)} ORDER BY p.n LIMIT ?", [*params, limit + 1]
    )


def refunded(tx: Tx, payment_ids: Sequence[str], *, with_pending: bool = False) -> dict[str, int]:
    """What has been given back of each payment (counting refunds still in flight if asked)."""
    found: dict[str, int] = defaultdict(int)
    statuses = "('completed', 'pending')" if with_pending else "('completed')"
    for row in tx.all_in(
        f"SELECT payment_id, amount FROM refunds WHERE status IN {statuses} AND payment_id IN ({{in}})", payment_ids
    ):
        found[row["payment_id"]] += row["amount"]
    return found


def settled_by_ids(tx: Tx, payment_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(
        f"SELECT {_PAYMENT} FROM {_PAYMENTS} WHERE p.status != 'pending' AND p.id IN ({{in}}) ORDER BY p.n",
        payment_ids,
    )


def settled_for_orders(tx: Tx, order_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(
        f"SELECT {_PAYMENT} FROM {_PAYMENTS} WHERE p.status != 'pending' AND p.order_id IN ({{in}}) ORDER BY p.n",
        order_ids,
    )


# Refunds.


def insert_refund(tx: Tx, **row: Any) -> None:
    tx.insert("refunds", {**row, "created_at": tx.now})


def set_refund_status(tx: Tx, refund_id: str, status: str, processor_ref: str | None = None) -> None:
    tx.run(
        "UPDATE refunds SET status = ?, processor_ref = coalesce(?, processor_ref) WHERE id = ?",
        (status, processor_ref, refund_id),
    )


def note_refund_ref(tx: Tx, refund_id: str, processor_ref: str) -> None:
    """The processor's reference for a refund still pending; a refund completed meanwhile (by the
    settling run, or the request that asked for it) is left as it is."""
    tx.run("UPDATE refunds SET processor_ref = ? WHERE id = ? AND status = 'pending'", (processor_ref, refund_id))


def get_refund(tx: Tx, refund_id: str) -> Row | None:
    return tx.one(f"SELECT {_REFUND} FROM refunds WHERE id = ?", (refund_id,))


def refunds_of(tx: Tx, payment_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_REFUND} FROM refunds WHERE payment_id IN ({{in}}) ORDER BY n", payment_ids)


def refunds_page(tx: Tx, after: int, limit: int, payment_id: str | None) -> list[Row]:
    if payment_id is None:
        return tx.all(f"SELECT {_REFUND} FROM refunds WHERE n > ? ORDER BY n LIMIT ?", (after, limit + 1))
    return tx.all(
        f"SELECT {_REFUND} FROM refunds WHERE payment_id = ? AND n > ? ORDER BY n LIMIT ?",
        (payment_id, after, limit + 1),
    )


def refund_by_request_key(tx: Tx, request_key: str) -> Row | None:
    return tx.one(f"SELECT {_REFUND} FROM refunds WHERE request_key = ?", (request_key,))


def forget_request_key(tx: Tx, refund_id: str) -> None:
    """The key has expired: a new request may use it."""
    tx.run("UPDATE refunds SET request_key = NULL WHERE id = ?", (refund_id,))


def refunds_in_status(tx: Tx, status: str) -> list[Row]:
    return tx.all(f"SELECT {_REFUND} FROM refunds WHERE status = ? ORDER BY n", (status,))
