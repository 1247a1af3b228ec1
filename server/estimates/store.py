"""SQL of estimates and of the approvals with a deposit in progress (`estimate_attempts`: what
the approval needs, kept beside the charge reserved for the deposit)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from server.estimates.rules import Option
from server.store import Row, Tx

_ESTIMATE = (
    "n, id, number, job_id, title, state, version, currency, options, deposit_percentage, deposit_amount, terms,"
    " expires_at, content, content_hash, token, last_texted_to, sent_at, viewed_at, decline_reason, decided_at,"
    " created_at, updated_at"
)
_ATTEMPT = (
    "charge_id, estimate_id, option_id, optional_uids, signer_name, ip, user_agent, total_amount, deposit_amount,"
    " created_at"
)
_encode = msgspec.json.Encoder().encode
_decode_options = msgspec.json.Decoder(list[Option]).decode
_decode_uids = msgspec.json.Decoder(list[str]).decode


def encode_options(options: Sequence[Option]) -> str:
    return _encode(list(options)).decode()


def decode_options(text: str) -> list[Option]:
    return _decode_options(text)


def encode_uids(uids: Sequence[str]) -> str:
    return _encode(list(uids)).decode()


def decode_uids(text: str) -> list[str]:
    return _decode_uids(text)


def next_number(tx: Tx) -> int:
    """The next estimate number, taken in the transaction that inserts it: the one writer
    serialises them, and one rolled back gives its number back (no gaps)."""
    row = tx.one("SELECT coalesce(max(number), 0) + 1 AS next FROM estimates")
    assert row is not None
    return int(row["next"])


def insert(tx: Tx, **row: Any) -> None:
    tx.insert("estimates", {**row, "created_at": tx.now, "updated_at": tx.now})


def update(tx: Tx, estimate_id: str, *, version: bool = False, **fields: Any) -> None:
    """Set `fields` (column names); `version`: the content changed, a new version."""
    assignments = "".join(f", {column} = :{column}" for column in fields)
    bump = ", version = version + 1" if version else ""
    tx.run(
        f"UPDATE estimates SET updated_at = :now{bump}{assignments} WHERE id = :id",
        {**fields, "now": tx.now, "id": estimate_id},
    )


def get(tx: Tx, estimate_id: str) -> Row | None:
    return tx.one(f"SELECT {_ESTIMATE} FROM estimates WHERE id = ?", (estimate_id,))


def by_token(tx: Tx, token: str) -> Row | None:
    return tx.one(f"SELECT {_ESTIMATE} FROM estimates WHERE token = ?", (token,))


def page(tx: Tx, after: int, limit: int, job_id: str | None) -> list[Row]:
    if job_id is None:
        return tx.all(f"SELECT {_ESTIMATE} FROM estimates WHERE n > ? ORDER BY n LIMIT ?", (after, limit + 1))
    return tx.all(
        f"SELECT {_ESTIMATE} FROM estimates WHERE job_id = ? AND n > ? ORDER BY n LIMIT ?", (job_id, after, limit + 1)
    )


def for_jobs(tx: Tx, job_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_ESTIMATE} FROM estimates WHERE job_id IN ({{in}}) ORDER BY n", job_ids)


def first_open(tx: Tx) -> Row | None:
    return tx.one(f"SELECT {_ESTIMATE} FROM estimates WHERE state = 'open' ORDER BY n LIMIT 1")


def open_past(tx: Tx, now: str) -> list[Row]:
    """Open estimates whose expiry has passed, not yet marked expired."""
    return tx.all(f"SELECT {_ESTIMATE} FROM estimates WHERE state = 'open' AND expires_at <= ? ORDER BY n", (now,))


# Approvals with a deposit in progress: what the approval needs, reserved with the charge.


def insert_attempt(tx: Tx, **row: Any) -> None:
    tx.insert("estimate_attempts", {**row, "created_at": tx.now})


def attempt(tx: Tx, charge_id: str) -> Row | None:
    return tx.one(f"SELECT {_ATTEMPT} FROM estimate_attempts WHERE charge_id = ?", (charge_id,))


def charge_in_flight(tx: Tx, estimate_id: str) -> Row | None:
    """A deposit charge of the estimate the processor has not settled yet."""
    return tx.one(
        "SELECT id, amount, currency FROM charges WHERE estimate_id = ? AND status = 'pending'", (estimate_id,)
    )


def captured_charge(tx: Tx, estimate_id: str) -> Row | None:
    return tx.one(
        "SELECT id, amount, currency, card_brand, card_last4, created_at FROM charges"
        " WHERE estimate_id = ? AND status = 'captured'",
        (estimate_id,),
    )
