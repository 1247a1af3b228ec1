from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

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
        "INSERT INTO sync_mutations (client_id, mutation_id, seq, name, status, code, detail, data, applied_at)"
        " VALUES (:client_id, :mutation_id, :seq, :name, :status, :code, :detail, :data, :applied_at)",
        rows,
    )


def rejections_after(tx: Tx, client_id: str, seq: int, limit: int) -> list[Row]:
    """The client's rejected mutations whose place in the change log is after `seq`."""
    return tx.all(
        "SELECT mutation_id, name, code, detail FROM sync_mutations WHERE client_id = ? AND status = 'rejected'"
        " AND seq > ? ORDER BY seq LIMIT ?",
        (client_id, seq, limit),
    )


_SCOPE = "technician_id = ? AND status != 'cancelled'"


def scope_jobs(tx: Tx, technician_id: str) -> list[Row]:
    """The technician's jobs: assigned to them and not cancelled."""
    return tx.all(f"SELECT n, id, customer_id FROM jobs WHERE {_SCOPE} ORDER BY n", (technician_id,))


def scope_jobs_from(tx: Tx, technician_id: str, from_n: int, limit: int) -> list[Row]:
    return tx.all(
        f"SELECT n, id, customer_id FROM jobs WHERE {_SCOPE} AND n >= ? ORDER BY n LIMIT ?",
        (technician_id, from_n, limit),
    )
