"""SQL of approval requests, approvals (the evidence, written once and never updated) and the
wrong codes each number sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from server.store import Row, Tx

_REQUEST = (
    "n, id, order_id, line_uids, channel, status, content_hash, total_amount, currency, token, code,"
    " to_number, sms_id, expires_at, decline_reason, decided_at, created_at, updated_at"
)
_ALIASED = ", ".join(f"r.{column.strip()}" for column in _REQUEST.split(","))
_APPROVAL = (
    "n, id, estimate_id, approval_request_id, order_id, job_id, channel, option_id, optional_uids, line_uids,"
    " signer_name, at, client_at, ip, user_agent, phone, device_id, content, content_hash, total_amount,"
    " deposit_amount, currency, payment_id, charge_id"
)
_encode = msgspec.json.Encoder().encode
_decode_uids = msgspec.json.Decoder(list[str]).decode


def encode_uids(uids: Sequence[str]) -> str:
    return _encode(list(uids)).decode()


def decode_uids(text: str | None) -> list[str]:
    return _decode_uids(text) if text else []


# Requests.


def insert_request(tx: Tx, **row: Any) -> None:
    tx.insert("approval_requests", {**row, "created_at": tx.now, "updated_at": tx.now})


def set_request(tx: Tx, request_id: str, **fields: Any) -> None:
    assignments = "".join(f", {column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE approval_requests SET updated_at = :now{assignments} WHERE id = :id",
        {**fields, "now": tx.now, "id": request_id},
    )


def get_request(tx: Tx, request_id: str) -> Row | None:
    return tx.one(f"SELECT {_REQUEST} FROM approval_requests WHERE id = ?", (request_id,))


def request_by_token(tx: Tx, token: str) -> Row | None:
    return tx.one(f"SELECT {_REQUEST} FROM approval_requests WHERE token = ?", (token,))


def pending_for_order(tx: Tx, order_id: str) -> list[Row]:
    return tx.all(
        f"SELECT {_REQUEST} FROM approval_requests WHERE order_id = ? AND status = 'pending' ORDER BY n", (order_id,)
    )


def pending_with_code(tx: Tx, phone: str, code: str, now: str) -> Row | None:
    """The open request texted to `phone` whose code is `code`, within its 24 hours."""
    return tx.one(
        f"SELECT {_REQUEST} FROM approval_requests WHERE to_number = ? AND code = ? AND status = 'pending'"
        " AND expires_at > ? ORDER BY n DESC LIMIT 1",
        (phone, code, now),
    )


def codes_in_use(tx: Tx, phone: str, now: str) -> set[str]:
    rows = tx.all(
        "SELECT code FROM approval_requests WHERE to_number = ? AND status = 'pending' AND expires_at > ?",
        (phone, now),
    )
    return {row["code"] for row in rows}


def last_texted_to(tx: Tx, phone: str) -> Row | None:
    """The newest request texted to `phone`: where a reply from it belongs on the trail."""
    return tx.one(f"SELECT {_REQUEST} FROM approval_requests WHERE to_number = ? ORDER BY n DESC LIMIT 1", (phone,))


def requests_page(tx: Tx, after: int, limit: int, order_id: str | None, job_id: str | None) -> list[Row]:
    """A request belongs to the job its order is on now (an order moved takes its requests)."""
    where: list[str] = ["r.n > ?"]
    params: list[Any] = [after]
    if order_id is not None:
        where.append("r.order_id = ?")
        params.append(order_id)
    if job_id is not None:
        where.append("o.job_id = ?")
        params.append(job_id)
    return tx.all(
        f"SELECT {_ALIASED} FROM approval_requests r JOIN orders o ON o.id = r.order_id"
        f" WHERE {' AND '.join(where)} ORDER BY r.n LIMIT ?",
        [*params, limit + 1],
    )


def requests_for_jobs(tx: Tx, job_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(
        f"SELECT {_ALIASED} FROM approval_requests r JOIN orders o ON o.id = r.order_id"
        " WHERE o.job_id IN ({in}) ORDER BY r.n",
        job_ids,
    )


# Approvals: evidence, inserted once.


def insert_approval(tx: Tx, **row: Any) -> None:
    tx.insert("approvals", row)


def approval(tx: Tx, approval_id: str) -> Row | None:
    return tx.one(f"SELECT {_APPROVAL} FROM approvals WHERE id = ?", (approval_id,))


def approvals_of_requests(tx: Tx, request_ids: Sequence[str]) -> dict[str, Row]:
    rows = tx.all_in(f"SELECT {_APPROVAL} FROM approvals WHERE approval_request_id IN ({{in}})", request_ids)
    return {row["approval_request_id"]: row for row in rows}


def approvals_of_estimates(tx: Tx, estimate_ids: Sequence[str]) -> dict[str, Row]:
    rows = tx.all_in(f"SELECT {_APPROVAL} FROM approvals WHERE estimate_id IN ({{in}})", estimate_ids)
    return {row["estimate_id"]: row for row in rows}


# Wrong codes.


def add_miss(tx: Tx, phone: str) -> None:
    tx.run("INSERT INTO approval_code_misses (phone, at) VALUES (?, ?)", (phone, tx.now))


def misses_since(tx: Tx, phone: str, since: str) -> int:
    row = tx.one("SELECT count(*) AS n FROM approval_code_misses WHERE phone = ? AND at > ?", (phone, since))
    return int(row["n"]) if row is not None else 0


def purge_misses(tx: Tx, before: str) -> int:
    return tx.run("DELETE FROM approval_code_misses WHERE at < ?", (before,)).rowcount
