from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.customers.types import CardOnFile, CreateCustomer, Customer
from server.store import Row, Tx
from server.store.changelog import touch

_COLUMNS = "n, id, name, phone, email, kind, created_at, updated_at"
_WITH_CARD = (
    "c.n, c.id, c.name, c.phone, c.email, c.kind, c.created_at, c.updated_at, s.brand AS card_brand,"
    " s.last4 AS card_last4, s.exp_month AS card_exp_month, s.exp_year AS card_exp_year, s.created_at AS card_saved_at"
    " FROM customers c LEFT JOIN saved_cards s ON s.customer_id = c.id AND s.status = 'active'"
)
_CARD = (
    "n, id, customer_id, processor, reference, processor_customer, brand, last4, exp_month, exp_year, card_link_id,"
    " status, created_at, ended_at"
)


def to_customer(row: Row) -> Customer:
    keys = row.keys()
    card = None
    if "card_last4" in keys and row["card_last4"] is not None:
        card = CardOnFile(
            brand=row["card_brand"],
            last4=row["card_last4"],
            exp_month=row["card_exp_month"],
            exp_year=row["card_exp_year"],
            saved_at=row["card_saved_at"],
        )
    return Customer(
        id=row["id"],
        name=row["name"],
        phone=row["phone"],
        email=row["email"],
        kind=row["kind"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        card_on_file=card,
    )


def insert(tx: Tx, customer_id: str, data: CreateCustomer) -> None:
    tx.run(
        "INSERT INTO customers (id, name, phone, email, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (customer_id, data.name, data.phone, data.email, data.kind, tx.now, tx.now),
    )
    touch(tx, "customer", customer_id, None)


def get(tx: Tx, customer_id: str) -> Row | None:
    return tx.one(f"SELECT {_COLUMNS} FROM customers WHERE id = ?", (customer_id,))


def get_with_card(tx: Tx, customer_id: str) -> Row | None:
    return tx.one(f"SELECT {_WITH_CARD} WHERE c.id = ?", (customer_id,))


def get_many(tx: Tx, ids: Sequence[str]) -> dict[str, Row]:
    return {r["id"]: r for r in tx.all_in(f"SELECT {_COLUMNS} FROM customers WHERE id IN ({{in}})", ids)}


def page(tx: Tx, after: int, limit: int) -> list[Row]:
    params: list[Any] = [after, limit + 1]
    return tx.all(f"SELECT {_WITH_CARD} WHERE c.n > ? ORDER BY c.n LIMIT ?", params)


def any_exist(tx: Tx) -> bool:
    return tx.one("SELECT 1 FROM customers LIMIT 1") is not None


# The card on file: one active saved card per customer (a unique index says so).


def active_card(tx: Tx, customer_id: str) -> Row | None:
    return tx.one(f"SELECT {_CARD} FROM saved_cards WHERE customer_id = ? AND status = 'active'", (customer_id,))


def card(tx: Tx, card_id: str) -> Row | None:
    return tx.one(f"SELECT {_CARD} FROM saved_cards WHERE id = ?", (card_id,))


def processor_customer(tx: Tx, customer_id: str, processor: str) -> str | None:
    """The processor's customer this customer's cards were saved for (the latest), if any."""
    row = tx.one(
        "SELECT processor_customer FROM saved_cards WHERE customer_id = ? AND processor = ?"
        " AND processor_customer IS NOT NULL ORDER BY n DESC LIMIT 1",
        (customer_id, processor),
    )
    return None if row is None else str(row["processor_customer"])


def end_card(tx: Tx, customer_id: str, status: str) -> bool:
    """The active card is `replaced` or `removed`; False when there was none."""
    ended = tx.run(
        "UPDATE saved_cards SET status = ?, ended_at = ? WHERE customer_id = ? AND status = 'active'",
        (status, tx.now, customer_id),
    )
    if ended.rowcount:
        tx.run("UPDATE customers SET updated_at = ? WHERE id = ?", (tx.now, customer_id))
        touch(tx, "customer", customer_id, None)
    return ended.rowcount > 0


def insert_card(tx: Tx, **row: Any) -> None:
    tx.insert("saved_cards", {**row, "status": "active", "created_at": tx.now})
    tx.run("UPDATE customers SET updated_at = ? WHERE id = ?", (tx.now, row["customer_id"]))
    touch(tx, "customer", row["customer_id"], None)


def cards(tx: Tx) -> list[Row]:
    return tx.all(f"SELECT {_CARD} FROM saved_cards ORDER BY n")
