"""SQL of card links and of the setups (tries to save a card) made through their pages."""

from __future__ import annotations

from typing import Any

from server.store import Row, Tx

_LINK = "n, id, token, customer_id, plan_id, job_id, expires_at, used_at, last_texted_to, created_at"
_SETUP = "n, id, card_link_id, customer_id, status, processor_ref, decline_code, saved_card_id, created_at, settled_at"


def insert_link(tx: Tx, **row: Any) -> None:
    tx.insert("card_links", {**row, "created_at": tx.now})


def link(tx: Tx, link_id: str) -> Row | None:
    return tx.one(f"SELECT {_LINK} FROM card_links WHERE id = ?", (link_id,))


def link_by_token(tx: Tx, token: str) -> Row | None:
    return tx.one(f"SELECT {_LINK} FROM card_links WHERE token = ?", (token,))


def texted(tx: Tx, link_id: str, to: str) -> None:
    tx.run("UPDATE card_links SET last_texted_to = ? WHERE id = ?", (to, link_id))


def used(tx: Tx, link_id: str) -> None:
    tx.run("UPDATE card_links SET used_at = ? WHERE id = ? AND used_at IS NULL", (tx.now, link_id))


def insert_setup(tx: Tx, **row: Any) -> None:
    tx.insert("card_setups", {**row, "status": "pending", "created_at": tx.now})


def setup(tx: Tx, setup_id: str) -> Row | None:
    return tx.one(f"SELECT {_SETUP} FROM card_setups WHERE id = ?", (setup_id,))


def pending_setup_of(tx: Tx, link_id: str) -> Row | None:
    return tx.one(f"SELECT {_SETUP} FROM card_setups WHERE card_link_id = ? AND status = 'pending'", (link_id,))


def saved_setup_of(tx: Tx, link_id: str) -> Row | None:
    return tx.one(f"SELECT {_SETUP} FROM card_setups WHERE card_link_id = ? AND status = 'saved'", (link_id,))


def note_reference(tx: Tx, setup_id: str, reference: str) -> None:
    tx.run("UPDATE card_setups SET processor_ref = ? WHERE id = ?", (reference, setup_id))


def settle_setup(tx: Tx, setup_id: str, **fields: Any) -> None:
    assignments = "".join(f", {column} = :{column}" for column in fields)
    params = {**fields, "now": tx.now, "id": setup_id}
    tx.run(f"UPDATE card_setups SET settled_at = :now{assignments} WHERE id = :id", params)


def setups_in_status(tx: Tx, status: str) -> list[Row]:
    return tx.all(f"SELECT {_SETUP} FROM card_setups WHERE status = ? ORDER BY n", (status,))
