from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx
from server.store.changelog import touch

_PAYMENT = (
    "n, id, order_id, amount, currency, status, method, card_brand, card_last4, decline_code,"
    " payment_link_id, source, reference, uid, processor_ref, created_at"
)
_REFUND = "n, id, payment_id, order_id, amount, currency, reason, status, request_key, created_at"


def insert(tx: Tx, job_id: str | None, **row: Any) -> None:
    tx.insert("payments", {**row, "created_at": tx.now})
    touch(tx, "payment", row["id"], job_id)


def touch_payment(tx: Tx, payment_id: str, job_id: str | None) -> None:
    """A refund changed what the payment shows."""
    touch(tx, "payment", payment_id, job_id)


def get(tx: Tx, payment_id: str) -> Row | None:
    return tx.one(f"SELECT {_PAYMENT} FROM payments WHERE id = ?", (payment_id,))


def by_uid(tx: Tx, uid: str) -> Row | None:
    return tx.one(f"SELECT {_PAYMENT} FROM payments WHERE uid = ?", (uid,))


def page(tx: Tx, after: int, limit: int, order_id: str | None) -> list[Row]:
    """Settled payments (captured or declined); one still in flight is not listed yet."""
    if order_id is None:
        return tx.all(
            f"SELECT {_PAYMENT} FROM payments WHERE status != 'pending' AND n > ? ORDER BY n LIMIT ?",
            (after, limit + 1),
        )
    return tx.all(
        f"SELECT {_PAYMENT} FROM payments WHERE order_id = ? AND status != 'pending' AND n > ? ORDER BY n LIMIT ?",
        (order_id, after, limit + 1),
    )


def pending_for_link(tx: Tx, link_id: str) -> Row | None:
    return tx.one(f"SELECT {_PAYMENT} FROM payments WHERE payment_link_id = ? AND status = 'pending'", (link_id,))


def settle(tx: Tx, payment_id: str, job_id: str | None, **fields: Any) -> None:
    """A payment in flight becomes captured or declined."""
    assignments = ", ".join(f"{column} = :{column}" for column in fields)
    tx.run(f"UPDATE payments SET {assignments} WHERE id = :id", {**fields, "id": payment_id})
    touch(tx, "payment", payment_id, job_id)


def refunded(tx: Tx, payment_ids: Sequence[str], *, with_pending: bool = False) -> dict[str, int]:
    """What has been given back of each payment (counting refunds still in flight if asked)."""
    found: dict[str, int] = defaultdict(int)
    statuses = "('completed', 'pending')" if with_pending else "('completed')"
    for row in tx.all_in(
        f"SELECT payment_id, amount FROM refunds WHERE status IN {statuses} AND payment_id IN ({{in}})", payment_ids
    ):
        found[row["payment_id"]] += row["amount"]
    return found


def insert_refund(tx: Tx, **row: Any) -> None:
    tx.insert("refunds", {**row, "created_at": tx.now})


def set_refund_status(tx: Tx, refund_id: str, status: str, processor_ref: str | None = None) -> None:
    tx.run(
        "UPDATE refunds SET status = ?, processor_ref = coalesce(?, processor_ref) WHERE id = ?",
        (status, processor_ref, refund_id),
    )


def get_refund(tx: Tx, refund_id: str) -> Row | None:
    return tx.one(f"SELECT {_REFUND} FROM refunds WHERE id = ?", (refund_id,))


def refunds_page(tx: Tx, after: int, limit: int, payment_id: str | None) -> list[Row]:
    if payment_id is None:
        return tx.all(f"SELECT {_REFUND} FROM refunds WHERE n > ? ORDER BY n LIMIT ?", (after, limit + 1))
    return tx.all(
        f"SELECT {_REFUND} FROM refunds WHERE payment_id = ? AND n > ? ORDER BY n LIMIT ?",
        (payment_id, after, limit + 1),
    )


def refund_by_request_key(tx: Tx, request_key: str) -> Row | None:
    return tx.one(f"SELECT {_REFUND} FROM refunds WHERE request_key = ?", (request_key,))


def refunds_in_status(tx: Tx, status: str) -> list[Row]:
    return tx.all(f"SELECT {_REFUND} FROM refunds WHERE status = ? ORDER BY n", (status,))


def in_flight(tx: Tx) -> list[Row]:
    return tx.all(f"SELECT {_PAYMENT} FROM payments WHERE status = 'pending' ORDER BY n")


def settled_by_ids(tx: Tx, payment_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(
        f"SELECT {_PAYMENT} FROM payments WHERE status != 'pending' AND id IN ({{in}}) ORDER BY n", payment_ids
    )


def settled_for_orders(tx: Tx, order_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(
        f"SELECT {_PAYMENT} FROM payments WHERE status != 'pending' AND order_id IN ({{in}}) ORDER BY n", order_ids
    )
