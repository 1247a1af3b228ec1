from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.customers.types import CreateCustomer, Customer
from server.store import Row, Tx
from server.store.changelog import touch

_COLUMNS = "n, id, name, phone, email, kind, created_at, updated_at"


def to_customer(row: Row) -> Customer:
    return Customer(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        kind=row["kind"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def insert(tx: Tx, customer_id: str, data: CreateCustomer) -> None:
    tx.run(
        "INSERT INTO customers (id, name, phone, email, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (customer_id, data.name, data.phone, data.email, data.kind, tx.now, tx.now),
    )
    touch(tx, "customer", customer_id, None)


def get(tx: Tx, customer_id: str) -> Row | None:
    return tx.one(f"SELECT {_COLUMNS} FROM customers WHERE id = ?", (customer_id,))


def get_many(tx: Tx, ids: Sequence[str]) -> dict[str, Row]:
    return {r["id"]: r for r in tx.all_in(f"SELECT {_COLUMNS} FROM customers WHERE id IN ({{in}})", ids)}


def page(tx: Tx, after: int, limit: int) -> list[Row]:
    params: list[Any] = [after, limit + 1]
    return tx.all(f"SELECT {_COLUMNS} FROM customers WHERE n > ? ORDER BY n LIMIT ?", params)


def any_exist(tx: Tx) -> bool:
    return tx.one("SELECT 1 FROM customers LIMIT 1") is not None
