from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx
from server.store.changelog import touch

_LINK = (
    "l.n, l.id, l.token, l.order_id, l.name, l.amount, l.currency, l.status, l.metadata, l.expires_at,"
    " l.payment_id, l.created_at, l.updated_at, o.job_id"
)
_FROM = "payment_links l JOIN orders o ON o.id = l.order_id"


def insert(tx: Tx, job_id: str | None, **row: Any) -> None:
    tx.insert("payment_links", {**row, "status": "active", "created_at": tx.now, "updated_at": tx.now})
    touch(tx, "paymentLink", row["id"], job_id)


def get(tx: Tx, link_id: str) -> Row | None:
    return tx.one(f"SELECT {_LINK} FROM {_FROM} WHERE l.id = ?", (link_id,))


def by_token(tx: Tx, token: str) -> Row | None:
    return tx.one(f"SELECT {_LINK} FROM {_FROM} WHERE l.token = ?", (token,))


def page(tx: Tx, after: int, limit: int, order_id: str | None) -> list[Row]:
    if order_id is None:
        return tx.all(f"SELECT {_LINK} FROM {_FROM} WHERE l.n > ? ORDER BY l.n LIMIT ?", (after, limit + 1))
    return tx.all(
        f"SELECT {_LINK} FROM {_FROM} WHERE l.order_id = ? AND l.n > ? ORDER BY l.n LIMIT ?",
        (order_id, after, limit + 1),
    )


def set_status(tx: Tx, link: Row, status: str, payment_id: str | None = None) -> None:
    tx.run(
        "UPDATE payment_links SET status = ?, payment_id = coalesce(?, payment_id), updated_at = ? WHERE id = ?",
        (status, payment_id, tx.now, link["id"]),
    )
    touch(tx, "paymentLink", link["id"], link["job_id"])


def get_many(tx: Tx, link_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_LINK} FROM {_FROM} WHERE l.id IN ({{in}}) ORDER BY l.n", link_ids)


def for_orders(tx: Tx, order_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_LINK} FROM {_FROM} WHERE l.order_id IN ({{in}}) ORDER BY l.n", order_ids)
