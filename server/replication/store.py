from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from server.clock import format_time, parse_time
from server.store import Row, Tx


def client(tx: Tx, client_id: str) -> Row | None:
    return tx.one(
        "SELECT client_id, device_id, technician_id, last_mutation_id FROM sync_clients WHERE client_id = ?",
        (client_id,),
    )


def create_client(tx: Tx, client_id: str, device_id: str, technician_id: str) -> None:
    tx.run(
        "INSERT INTO sync_clients (client_id, device_id, technician_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        (client_id, device_id, technician_id, tx.now, tx.now),
    )


def set_last_mutation(tx: Tx, client_id: str, last: int) -> None:
    tx.run(
        "UPDATE sync_clients SET last_mutation_id = ?, updated_at = ? WHERE client_id = ?",
        (last, tx.now, client_id),
    )


def results(tx: Tx, client_id: str, mutation_ids: Sequence[int]) -> dict[int, Row]:
    rows = tx.all_in(
        "SELECT mutation_id, name, status, code, detail, data FROM sync_mutations"
        " WHERE client_id = ? AND mutation_id IN ({in})",
        mutation_ids,
        client_id,
    )
    return {row["mutation_id"]: row for row in rows}


def save_results(tx: Tx, rows: Iterable[dict[str, Any]]) -> None:
    tx.many(
        "INSERT INTO sync_mutations (client_id, mutation_id, name, status, code, detail, data, applied_at)"
        " VALUES (:client_id, :mutation_id, :name, :status, :code, :detail, :data, :applied_at)",
        rows,
    )


def recent_rejections(tx: Tx, client_id: str, limit: int) -> list[Row]:
    return tx.all(
        "SELECT mutation_id, name, code, detail FROM sync_mutations WHERE client_id = ? AND status = 'rejected'"
        " ORDER BY mutation_id DESC LIMIT ?",
        (client_id, limit),
    )


_CHANGE = "seq, entity, entity_id, job_id, moved_from, txn"


def changes_after(tx: Tx, seq: int, limit: int) -> list[Row]:
    return tx.all(f"SELECT {_CHANGE} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))


def rest_of_txn(tx: Tx, txn: int, after_seq: int) -> list[Row]:
    return tx.all(f"SELECT {_CHANGE} FROM changes WHERE txn = ? AND seq > ? ORDER BY seq", (txn, after_seq))


def change_bounds(tx: Tx) -> tuple[int, int]:
    """(oldest kept seq - 1, newest seq): a cursor below the first is too old to resume from."""
    row = tx.one("SELECT coalesce(min(seq), 1) - 1 AS floor, coalesce(max(seq), 0) AS top FROM changes")
    assert row is not None
    return int(row["floor"]), int(row["top"])


CHANGES_KEPT = timedelta(days=90)


def purge_old_changes(tx: Tx) -> int:
    """A device whose cursor is older than what is kept gets a fresh snapshot (`reset`)."""
    before = format_time(parse_time(tx.now) - CHANGES_KEPT)
    return tx.run("DELETE FROM changes WHERE at < ?", (before,)).rowcount


_SCOPE = "technician_id = ? AND status != 'cancelled'"


def scope_jobs(tx: Tx, technician_id: str) -> list[Row]:
    """The technician's jobs: assigned to them and not cancelled."""
    return tx.all(f"SELECT n, id, customer_id FROM jobs WHERE {_SCOPE} ORDER BY n", (technician_id,))


def scope_jobs_page(tx: Tx, technician_id: str, after_n: int, limit: int) -> list[Row]:
    return tx.all(
        f"SELECT n, id, customer_id FROM jobs WHERE {_SCOPE} AND n > ? ORDER BY n LIMIT ?",
        (technician_id, after_n, limit),
    )
