"""The board's own reads: which jobs it shows, in what order, and the technicians beside them.
Each job's money, customer and last event come from the domains that keep them."""

from __future__ import annotations

from typing import Any

from server.store import Row, Tx

# What `server.jobs.service.views` reads of a job row.
_JOB = "n, id, customer_id, technician_id, title, address, status, scheduled_at, version, created_at, updated_at"
UNASSIGNED = ""  # the technician filter that asks for jobs nobody has


# The board's order: by when a job is due (unscheduled last), then by when it was made. A page
# starts after the key of the last row of the one before (`rules.BoardKey`): keyset paging, so a
# page costs the same wherever it is, and a job made meanwhile never shifts one.
_ORDER = "scheduled_at IS NULL, coalesce(scheduled_at, ''), n"
_KEY = "scheduled_at IS NULL AS unscheduled, coalesce(scheduled_at, '') AS due"


def board_jobs(
    tx: Tx,
    technician_id: str | None = None,
    status: str | None = None,
    after: tuple[int, str, int] | None = None,
    limit: int | None = None,
) -> list[Row]:
    """The board's jobs in its order, past `after` (unscheduled, due, n), at most `limit`."""
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
    if after is not None:
        where.append(f"({_ORDER}) > (?, ?, ?)")
        params.extend(after)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    if limit is not None:
        params.append(limit)
    page = "" if limit is None else " LIMIT ?"
    return tx.all(f"SELECT {_JOB}, {_KEY} FROM jobs{clause} ORDER BY {_ORDER}{page}", params)


def jobs_by_ids(tx: Tx, job_ids: list[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_JOB}, {_KEY} FROM jobs WHERE id IN ({{in}}) ORDER BY {_ORDER}", job_ids)


def technicians(tx: Tx) -> list[Row]:
    return tx.all("SELECT id, name, phone, last_sync_at FROM technicians ORDER BY name COLLATE NOCASE, n")


def open_jobs_by_technician(tx: Tx) -> dict[str, int]:
    """How many jobs each technician has that are neither completed nor cancelled."""
    rows = tx.all(
        "SELECT technician_id, count(*) AS jobs FROM jobs"
        " WHERE technician_id IS NOT NULL AND status NOT IN ('completed', 'cancelled') GROUP BY technician_id"
    )
    return {row["technician_id"]: row["jobs"] for row in rows}
