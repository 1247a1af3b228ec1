from __future__ import annotations

from server.store import Row, Tx

_TECH = "n, id, name, phone, last_sync_at, created_at, updated_at"
_DEVICE = "n, id, technician_id, label, created_at, revoked_at"


def insert(tx: Tx, technician_id: str, name: str, phone: str | None) -> None:
    tx.run(
        "INSERT INTO technicians (id, name, phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        (technician_id, name, phone, tx.now, tx.now),
    )


def get(tx: Tx, technician_id: str) -> Row | None:
    return tx.one(f"SELECT {_TECH} FROM technicians WHERE id = ?", (technician_id,))


def page(tx: Tx, after: int, limit: int) -> list[Row]:
    return tx.all(f"SELECT {_TECH} FROM technicians WHERE n > ? ORDER BY n LIMIT ?", (after, limit + 1))


def mark_synced(tx: Tx, technician_id: str) -> None:
    tx.run("UPDATE technicians SET last_sync_at = ? WHERE id = ?", (tx.now, technician_id))


def insert_device(tx: Tx, device_id: str, technician_id: str, label: str | None, token_hash: str) -> None:
    tx.run(
        "INSERT INTO devices (id, technician_id, label, token_hash, created_at) VALUES (?, ?, ?, ?, ?)",
        (device_id, technician_id, label, token_hash, tx.now),
    )


def get_device(tx: Tx, device_id: str) -> Row | None:
    return tx.one(f"SELECT {_DEVICE} FROM devices WHERE id = ?", (device_id,))


def devices_of(tx: Tx, technician_id: str, after: int, limit: int) -> list[Row]:
    return tx.all(
        f"SELECT {_DEVICE} FROM devices WHERE technician_id = ? AND n > ? ORDER BY n LIMIT ?",
        (technician_id, after, limit + 1),
    )


def revoke_device(tx: Tx, device_id: str) -> None:
    tx.run("UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (tx.now, device_id))


def active_device_by_token(tx: Tx, token_hash: str) -> Row | None:
    return tx.one("SELECT id, technician_id FROM devices WHERE token_hash = ? AND revoked_at IS NULL", (token_hash,))
