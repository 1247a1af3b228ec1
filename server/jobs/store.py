from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx
from server.store.changelog import touch

_JOB = "n, id, customer_id, technician_id, title, address, status, scheduled_at, version, created_at, updated_at"


def insert(
    tx: Tx,
    job_id: str,
    *,
    customer_id: str,
    technician_id: str | None,
    title: str,
    address: str,
    status: str,
    scheduled_at: str | None,
) -> None:
    tx.run(
        "INSERT INTO jobs (id, customer_id, technician_id, title, address, status, scheduled_at, version,"
        " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
        (job_id, customer_id, technician_id, title, address, status, scheduled_at, tx.now, tx.now),
    )
    touch(tx, "job", job_id, job_id, moved_from=NOBODY if technician_id else None)


NOBODY = ""  # `moved_from` of a job that had no technician before


def update(tx: Tx, job_id: str, moved_from: str | None = None, **fields: Any) -> None:
    """Bump the version and set `fields` (column names). `moved_from`: set when the change
    moves the job between technicians' scopes (reassigned, or cancelled): who had it before."""
    assignments = "".join(f", {column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE jobs SET version = version + 1, updated_at = :now{assignments} WHERE id = :id",
        {**fields, "now": tx.now, "id": job_id},
    )
    touch(tx, "job", job_id, job_id, moved_from)


def get(tx: Tx, job_id: str) -> Row | None:
    return tx.one(f"SELECT {_JOB} FROM jobs WHERE id = ?", (job_id,))


def get_many(tx: Tx, job_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_JOB} FROM jobs WHERE id IN ({{in}}) ORDER BY n", job_ids)


def page(
    tx: Tx, after: int, limit: int, technician_id: str | None, customer_id: str | None, status: str | None
) -> list[Row]:
    where = ["n > ?"]
    params: list[Any] = [after]
    for column, value in (("technician_id", technician_id), ("customer_id", customer_id), ("status", status)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    params.append(limit + 1)
    return tx.all(f"SELECT {_JOB} FROM jobs WHERE {' AND '.join(where)} ORDER BY n LIMIT ?", params)


_NOTE = "n, id, job_id, text, author_kind, author_id, client_at, created_at"


def insert_note(
    tx: Tx,
    note_id: str,
    job_id: str,
    text: str,
    author_kind: str,
    author_id: str | None,
    client_at: str | None,
) -> None:
    tx.run(
        "INSERT INTO job_notes (id, job_id, text, author_kind, author_id, client_at, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (note_id, job_id, text, author_kind, author_id, client_at, tx.now),
    )
    touch(tx, "note", note_id, job_id)


def notes_by_ids(tx: Tx, note_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_NOTE} FROM job_notes WHERE id IN ({{in}}) ORDER BY n", note_ids)


def notes_for_jobs(tx: Tx, job_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_NOTE} FROM job_notes WHERE job_id IN ({{in}}) ORDER BY n", job_ids)
