from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx
from server.store.changelog import touch

_LINK = (
    "l.n, l.id, l.token, l.job_id AS target_job_id, l.order_id, l.name, l.fixed, l.amount, l.currency, l.status,"
    " l.metadata, l.expires_at, l.last_texted_to, l.created_at, l.updated_at, coalesce(l.job_id, o.job_id) AS job_id"
)
_FROM = "payment_links l LEFT JOIN orders o ON o.id = l.order_id"


def insert(tx: Tx, scope_job: str | None, **row: Any) -> None:
    """`scope_job`: the job the link belongs to (its own, or its order's)."""
    tx.insert("payment_links", {**row, "status": "active", "created_at": tx.now, "updated_at": tx.now})
    touch(tx, "paymentLink", row["id"], scope_job)


def get(tx: Tx, link_id: str) -> Row | None:
    return tx.one(f"SELECT {_LINK} FROM {_FROM} WHERE l.id = ?", (link_id,))


def by_token(tx: Tx, token: str) -> Row | None:
    return tx.one(f"SELECT {_LINK} FROM {_FROM} WHERE l.token = ?", (token,))


def active_balance_link(tx: Tx, job_id: str | None, order_id: str | None) -> Row | None:
    if job_id is not None:
        return tx.one(
            f"SELECT {_LINK} FROM {_FROM} WHERE l.job_id = ? AND l.fixed = 0 AND l.status = 'active'", (job_id,)
        )
    return tx.one(
        f"SELECT {_LINK} FROM {_FROM} WHERE l.order_id = ? AND l.fixed = 0 AND l.status = 'active'", (order_id,)
    )


def page(tx: Tx, after: int, limit: int, order_id: str | None, job_id: str | None) -> list[Row]:
    where: list[str] = ["l.n > ?"]
    params: list[Any] = [after]
    if order_id is not None:
        where.append("l.order_id = ?")
        params.append(order_id)
    if job_id is not None:
        where.append("coalesce(l.job_id, o.job_id) = ?")
        params.append(job_id)
    return tx.all(f"SELECT {_LINK} FROM {_FROM} WHERE {' AND '.join(where)} ORDER BY l.n LIMIT ?", [*params, limit + 1])


def set_status(tx: Tx, link: Row, status: str) -> None:
    tx.run("UPDATE payment_links SET status = ?, updated_at = ? WHERE id = ?", (status, tx.now, link["id"]))
    touch(tx, "paymentLink", link["id"], link["job_id"])


def texted(tx: Tx, link: Row, to: str) -> None:
    """Where the link was last texted: its receipt goes there."""
    tx.run("UPDATE payment_links SET last_texted_to = ?, updated_at = ? WHERE id = ?", (to, tx.now, link["id"]))
    touch(tx, "paymentLink", link["id"], link["job_id"])


def get_many(tx: Tx, link_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_LINK} FROM {_FROM} WHERE l.id IN ({{in}}) ORDER BY l.n", link_ids)


def for_orders(tx: Tx, order_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_LINK} FROM {_FROM} WHERE l.order_id IN ({{in}}) ORDER BY l.n", order_ids)


def for_jobs(tx: Tx, job_ids: Sequence[str]) -> list[Row]:
    """Links for a job as a whole (not those of its orders)."""
    return tx.all_in(f"SELECT {_LINK} FROM {_FROM} WHERE l.job_id IN ({{in}}) ORDER BY l.n", job_ids)
