from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from server.store import Row, Tx

_ENDPOINT = "id, url, events, description, status, disabled_reason, failing_since, created_at, updated_at"
_DELIVERY = (
    "n, id, endpoint_id, event_id, type, job_id, status, attempts, next_attempt_at, sending_since,"
    " last_attempt_at, last_status_code, last_error, delivered_at, created_at"
)

_encode = msgspec.json.Encoder().encode
_decode_names = msgspec.json.Decoder(list[str]).decode


def encode_names(names: Sequence[str]) -> str:
    return _encode(list(names)).decode()


def decode_names(text: str) -> list[str]:
    return _decode_names(text)


# Endpoints and their secrets.


def insert_endpoint(tx: Tx, endpoint_id: str, url: str, events: Sequence[str], description: str | None) -> None:
    tx.insert(
        "webhook_endpoints",
        {
            "id": endpoint_id,
            "url": url,
            "events": encode_names(events),
            "description": description,
            "status": "enabled",
            "created_at": tx.now,
            "updated_at": tx.now,
        },
    )


def get_endpoint(tx: Tx, endpoint_id: str) -> Row | None:
    return tx.one(f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE id = ?", (endpoint_id,))


def endpoints(tx: Tx) -> list[Row]:
    return tx.all(f"SELECT {_ENDPOINT} FROM webhook_endpoints ORDER BY n")


def enabled_endpoints(tx: Tx) -> list[Row]:
    return tx.all(f"SELECT {_ENDPOINT} FROM webhook_endpoints WHERE status = 'enabled' ORDER BY n")


def count_endpoints(tx: Tx) -> int:
    row = tx.one("SELECT count(*) AS n FROM webhook_endpoints")
    return int(row["n"]) if row else 0


def endpoints_page(tx: Tx, after: int, limit: int) -> list[Row]:
    return tx.all(f"SELECT n, {_ENDPOINT} FROM webhook_endpoints WHERE n > ? ORDER BY n LIMIT ?", (after, limit + 1))


def update_endpoint(tx: Tx, endpoint_id: str, **fields: Any) -> None:
    if "events" in fields:
        fields["events"] = encode_names(fields["events"])
    fields["updated_at"] = tx.now
    assignments = ", ".join(f"{name} = ?" for name in fields)
    tx.run(f"UPDATE webhook_endpoints SET {assignments} WHERE id = ?", [*fields.values(), endpoint_id])


def delete_endpoint(tx: Tx, endpoint_id: str) -> None:
    tx.run("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", (endpoint_id,))
    tx.run("DELETE FROM webhook_secrets WHERE endpoint_id = ?", (endpoint_id,))
    tx.run("DELETE FROM webhook_endpoints WHERE id = ?", (endpoint_id,))


def insert_secret(tx: Tx, endpoint_id: str, secret: str) -> None:
    tx.run(
        "INSERT INTO webhook_secrets (endpoint_id, secret, created_at) VALUES (?, ?, ?)", (endpoint_id, secret, tx.now)
    )


def expire_current_secrets(tx: Tx, endpoint_id: str, at: str) -> None:
    """The secrets signing with no end date stop at `at`; one already ending keeps its time."""
    tx.run("UPDATE webhook_secrets SET expires_at = ? WHERE endpoint_id = ? AND expires_at IS NULL", (at, endpoint_id))


def live_secrets(tx: Tx, endpoint_id: str) -> list[str]:
    """Newest first: the current secret, then any rotated out less than a day ago."""
    rows = tx.all(
        "SELECT secret FROM webhook_secrets WHERE endpoint_id = ? AND (expires_at IS NULL OR expires_at > ?)"
        " ORDER BY n DESC",
        (endpoint_id, tx.now),
    )
    return [row["secret"] for row in rows]


def purge_expired_secrets(tx: Tx) -> int:
    return tx.run("DELETE FROM webhook_secrets WHERE expires_at IS NOT NULL AND expires_at <= ?", (tx.now,)).rowcount


# Deliveries.


def insert_deliveries(tx: Tx, rows: Sequence[tuple[str, str, str, str, str | None]]) -> None:
    """Rows of (id, endpoint_id, event_id, type, job_id): pending, due now."""
    tx.many(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, type, job_id, status, next_attempt_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
        [(*row, tx.now, tx.now) for row in rows],
    )


def get_delivery(tx: Tx, delivery_id: str) -> Row | None:
    return tx.one(f"SELECT {_DELIVERY} FROM webhook_deliveries WHERE id = ?", (delivery_id,))


def due(tx: Tx, now: str, per_endpoint: int) -> list[Row]:
    """What may be sent now, up to `per_endpoint` for each endpoint, oldest first: pending, due,
    not being sent, and no earlier delivery of the same job to the same endpoint still pending
    (a job's events reach each endpoint in the order they happened)."""
    return tx.all(
        f"""
        SELECT {_DELIVERY} FROM (
            SELECT d.*, row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.n) AS place
            FROM webhook_deliveries d
            WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND d.sending_since IS NULL
              AND NOT EXISTS (
                SELECT 1 FROM webhook_deliveries e
                WHERE e.endpoint_id = d.endpoint_id AND e.job_id = d.job_id AND e.status = 'pending' AND e.n < d.n
              )
        ) WHERE place <= ? ORDER BY n
        """,
        (now, per_endpoint),
    )


def next_due_at(tx: Tx, now: str) -> str | None:
    """The next retry time still ahead. What is due already and not sent waits for a lane's
    attempt, or for an earlier event of its job, to end: each of those wakes the worker itself."""
    row = tx.one(
        "SELECT min(next_attempt_at) AS at FROM webhook_deliveries"
        " WHERE status = 'pending' AND sending_since IS NULL AND next_attempt_at > ?",
        (now,),
    )
    return None if row is None else row["at"]


def update_delivery(tx: Tx, delivery_id: str, **fields: Any) -> None:
    assignments = ", ".join(f"{name} = ?" for name in fields)
    tx.run(f"UPDATE webhook_deliveries SET {assignments} WHERE id = ?", [*fields.values(), delivery_id])


def fail_pending(tx: Tx, endpoint_id: str, error: str) -> int:
    """An endpoint disabled: what it was still owed fails (a manual retry sends one again)."""
    return tx.run(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, last_error = ?"
        " WHERE endpoint_id = ? AND status = 'pending' AND sending_since IS NULL",
        (error, endpoint_id),
    ).rowcount


def interrupted(tx: Tx) -> list[Row]:
    """Claimed for sending with no outcome recorded: what a dead process left behind."""
    return tx.all(f"SELECT {_DELIVERY} FROM webhook_deliveries WHERE sending_since IS NOT NULL ORDER BY n")


def deliveries_page(tx: Tx, endpoint_id: str, before: int, limit: int, status: str | None) -> list[Row]:
    """Newest first: position `before` (0: from the newest) and older."""
    where = ["endpoint_id = ?"]
    params: list[Any] = [endpoint_id]
    if before:
        where.append("n < ?")
        params.append(before)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    return tx.all(
        f"SELECT {_DELIVERY} FROM webhook_deliveries WHERE {' AND '.join(where)} ORDER BY n DESC LIMIT ?",
        [*params, limit + 1],
    )


def purge_before(tx: Tx, before: str) -> int:
    """Deliveries made before `before`, with their events (made in the same transaction), which
    the feed no longer keeps; their retries ended long before (about 3 days)."""
    return tx.run("DELETE FROM webhook_deliveries WHERE created_at < ?", (before,)).rowcount
