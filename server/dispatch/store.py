"""The board's own reads: which jobs it shows, in what order, and the technicians beside them.
Each job's money, customer and last event come from the domains that keep them."""

from __future__ import annotations

from typing import Any

from server.store import Row, Tx

# What `server.jobs.service.views` reads of a job row.
_JOB = "n, id, customer_id, technician_id, title, address, status, scheduled_at, version, created_at, updated_at"
UNASSIGNED = ""  # the technician filter that asks for jobs nobody has


def board_jobs(tx: Tx, technician_id: str | None = None, status: str | None = None) -> list[Row]:
    """Jobs by when they are due (unscheduled last), then by when they were made."""
    where: list[str] = []
    params: list[Any] = []
    if technician_id == UNASSIGNED:
        where.append("technician_id IS NULL")
    elif technician_id is not None:
        where.append("technician_id = ?")
        params.append(technician_id)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    return tx.all(f"SELECT {_JOB} FROM jobs{clause} ORDER BY scheduled_at IS NULL, scheduled_at, n", params)


def technicians(tx: Tx) -> list[Row]:
    return tx.all("SELECT id, name, phone, last_sync_at FROM technicians ORDER BY name COLLATE NOCASE, n")


def open_jobs_by_technician(tx: Tx) -> dict[str, int]:
    """How many jobs each technician has that are neither completed nor cancelled."""
    rows = tx.all(
        "SELECT technician_id, count(*) AS jobs FROM jobs"
        " WHERE technician_id IS NOT NULL AND status NOT IN ('completed', 'cancelled') GROUP BY technician_id"
    )
    return {row["technician_id"]: row["jobs"] for row in rows}
