from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import msgspec

from server.clock import normalize_time
from server.customers import store as customers_store
from server.errors import FieldError, InvalidRequest, NotFound, RuleViolation, VersionConflict
from server.ids import new_id
from server.jobs import rules, store
from server.jobs.types import CreateJob, Job, JobOrder, PaymentSummary, UpdateJob
from server.money import DEFAULT_CURRENCY, Money
from server.orders import ledger
from server.orders import store as orders_store
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.technicians import store as technicians_store
from server.trail import service as trail
from server.trail.types import Trail
from server.wire import Actor

_WIRE_NAMES = {"title": "title", "address": "address", "scheduled_at": "scheduledAt"}


def _time(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    try:
        return normalize_time(value)
    except ValueError as exc:
        raise InvalidRequest(f"{field}: {exc}", [FieldError(field, str(exc))]) from None


def _check_technician(tx: Tx, technician_id: str | None) -> None:
    if technician_id is not None and technicians_store.get(tx, technician_id) is None:
        raise RuleViolation("unknown_technician", f"no technician {technician_id}")


def views(tx: Tx, rows: Sequence[Row]) -> list[Job]:
    """Jobs as the API shows them, each with the money the one ledger keeps for it."""
    ids = [r["id"] for r in rows]
    money = ledger.jobs_money(tx, ids)
    orders_of: dict[str, list[Row]] = {}
    for order in orders_store.for_jobs(tx, ids):
        orders_of.setdefault(order["job_id"], []).append(order)
    jobs = []
    for row in rows:
        found = money.get(row["id"])
        currency = found.currency if found else DEFAULT_CURRENCY
        jobs.append(
            Job(
                id=row["id"],
                customer_id=row["customer_id"],
                technician_id=row["technician_id"],
                title=row["title"],
                address=row["address"],
                status=row["status"],
                scheduled_at=row["scheduled_at"],
                version=row["version"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                payment=PaymentSummary(
                    total_money=Money(found.total if found else 0, currency),
                    paid_money=Money(found.paid if found else 0, currency),
                    refunded_money=Money(found.refunded if found else 0, currency),
                    balance_money=Money(found.balance if found else 0, currency),
                    deposit_unapplied_money=Money(found.unapplied if found else 0, currency),
                ),
                orders=[
                    JobOrder(
                        id=order["id"],
                        payment_stage=orders_store.decode_metadata(order["metadata"]).get("paymentStage"),
                        total_money=Money(ledger.order_now(order).total, currency),
                        balance_money=Money(ledger.order_now(order).balance, currency),
                        state=order["state"],
                    )
                    for order in orders_of.get(row["id"], [])
                ],
            )
        )
    return jobs


def load(tx: Tx, job_id: str) -> Row:
    row = store.get(tx, job_id)
    if row is None:
        raise NotFound(f"no job {job_id}")
    return row


def get(tx: Tx, job_id: str) -> Job:
    return views(tx, [load(tx, job_id)])[0]


def list_page(
    tx: Tx,
    after: int,
    limit: int,
    technician_id: str | None = None,
    customer_id: str | None = None,
    status: str | None = None,
) -> Page[Job]:
    rows = store.page(tx, after, limit, technician_id, customer_id, status)
    return paginate(rows, limit, partial(views, tx))


def create(tx: Tx, actor: Actor, data: CreateJob) -> Job:
    if customers_store.get(tx, data.customer_id) is None:
        raise RuleViolation("unknown_customer", f"no customer {data.customer_id}")
    _check_technician(tx, data.technician_id)
    scheduled_at = _time(data.scheduled_at, "scheduledAt")
    job_id = new_id("job")
    store.insert(
        tx,
        job_id,
        customer_id=data.customer_id,
        technician_id=data.technician_id,
        title=data.title,
        address=data.address,
        status="scheduled",
        scheduled_at=scheduled_at,
    )
    trail.record(
        tx,
        "job.created",
        actor,
        {"title": data.title, "customerId": data.customer_id, "scheduledAt": scheduled_at},
        job_id=job_id,
    )
    if data.technician_id is not None:
        trail.record(
            tx,
            "job.assigned",
            actor,
            {"technicianId": data.technician_id, "previousTechnicianId": None},
            job_id=job_id,
        )
    return get(tx, job_id)


def update(tx: Tx, actor: Actor, job_id: str, data: UpdateJob) -> Job:
    row = load(tx, job_id)
    if data.version != row["version"]:
        raise VersionConflict(
            f"job {job_id} is at version {row['version']}, not {data.version}", current_version=row["version"]
        )
    changes: dict[str, Any] = {}
    if data.technician_id is not msgspec.UNSET and data.technician_id != row["technician_id"]:
        _check_technician(tx, data.technician_id)
        changes["technician_id"] = data.technician_id
    if data.status is not None and data.status != row["status"]:
        rules.check_status_change(job_id, row["status"], data.status)
        changes["status"] = data.status
    if data.title is not None and data.title != row["title"]:
        changes["title"] = data.title
    if data.address is not None and data.address != row["address"]:
        changes["address"] = data.address
    if data.scheduled_at is not msgspec.UNSET:
        scheduled_at = _time(data.scheduled_at, "scheduledAt")
        if scheduled_at != row["scheduled_at"]:
            changes["scheduled_at"] = scheduled_at
    if not changes:
        return get(tx, job_id)

    moves = "technician_id" in changes or changes.get("status") == "cancelled"
    moved_from = (row["technician_id"] or store.NOBODY) if moves else None
    store.update(tx, job_id, moved_from=moved_from, **changes)
    if "technician_id" in changes:
        trail.record(
            tx,
            "job.assigned",
            actor,
            {"technicianId": changes["technician_id"], "previousTechnicianId": row["technician_id"]},
            job_id=job_id,
        )
    if "status" in changes:
        record_status(tx, actor, job_id, row["status"], changes["status"])
    details = {_WIRE_NAMES[k]: v for k, v in changes.items() if k in _WIRE_NAMES}
    if details:
        trail.record(tx, "job.updated", actor, details, job_id=job_id)
    return get(tx, job_id)


def set_status(tx: Tx, actor: Actor, row: Row, status: str, client_at: str | None = None) -> None:
    """A technician's status change (no version: the device's word is the latest)."""
    if status == row["status"]:
        return
    rules.check_status_change(row["id"], row["status"], status)
    store.update(tx, row["id"], status=status)
    record_status(tx, actor, row["id"], row["status"], status, client_at)


def record_status(tx: Tx, actor: Actor, job_id: str, old: str, new: str, client_at: str | None = None) -> None:
    trail.record(tx, "job.status_changed", actor, {"from": old, "to": new}, job_id=job_id, client_at=client_at)


def job_trail(tx: Tx, job_id: str) -> Trail:
    load(tx, job_id)
    return trail.for_job(tx, job_id)
