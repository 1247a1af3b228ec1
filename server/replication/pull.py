"""`POST /v1/sync/pull`: the technician's scope, as a snapshot and then as changes.

A null (or too old) cursor starts a snapshot of every job in scope with what hangs from it,
`reset: true`; its pages follow jobs in order. After it, pages follow the change log: each
change in scope becomes a `put` of the entity as it is now; a job that enters the scope comes
whole, one that leaves it goes as `del` for it and everything that hangs from it. A page ends
on a transaction's edge, and the cursor is the last sequence number it covered, so pages never
skip or tear a change. Each page is built with a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.customers import store as customers_store
from server.errors import Forbidden
from server.jobs import notes
from server.jobs import service as jobs
from server.jobs import store as jobs_store
from server.links import service as links
from server.links import store as links_store
from server.orders import service as orders
from server.orders import store as orders_store
from server.payments import service as payments
from server.payments import store as payments_store
from server.replication import store
from server.replication.cursor import Cursor, decode
from server.store import Tx
from server.technicians import store as technicians_store
from sms import outbox
from sms import store as sms_store
from sync import protocol as p

REJECTIONS_SHOWN = 100
ENTITIES_PER_JOB = 8  # a snapshot page takes about `limit / 8` jobs

Key = tuple[str, str]


@dataclass
class Ops:
    """What a page says about each entity, the last word winning, in the order they were last said."""

    ops: dict[Key, str] = field(default_factory=dict)

    def say(self, entity: str, entity_id: str, op: str) -> None:
        self.ops.pop((entity, entity_id), None)
        self.ops[(entity, entity_id)] = op


def pull(
    tx: Tx, request: p.PullRequest, technician_id: str, device_id: str, public_url: str
) -> tuple[p.PullResponse, str | None]:
    """The page, and when the technician last synced (so the caller can decide to record it)."""
    client = store.client(tx, request.client_id)
    if client is not None and client["device_id"] != device_id:
        raise Forbidden("this clientId belongs to another device")
    cursor = decode(request.cursor)
    floor, top = store.change_bounds(tx)
    if cursor is None or (cursor.snapshot_after is None and not floor <= cursor.seq <= top):
        page = _snapshot(tx, technician_id, Cursor(top, 0), request.limit, public_url, reset=True)
    elif cursor.snapshot_after is not None:
        page = _snapshot(tx, technician_id, cursor, request.limit, public_url, reset=False)
    else:
        page = _changes(tx, technician_id, cursor.seq, request.limit, public_url)
    rejections = [
        p.Rejection(mutation_id=r["mutation_id"], name=r["name"], code=r["code"] or "", detail=r["detail"] or "")
        for r in reversed(store.recent_rejections(tx, request.client_id, REJECTIONS_SHOWN))
    ]
    tech = technicians_store.get(tx, technician_id)
    response = p.PullResponse(
        cursor=page.cursor.encode(),
        has_more=page.has_more,
        reset=page.reset,
        last_mutation_id=int(client["last_mutation_id"]) if client else 0,
        changes=page.changes,
        rejections=rejections,
        technician_id=technician_id,
    )
    return response, (tech["last_sync_at"] if tech else None)


@dataclass(frozen=True, slots=True)
class Page:
    changes: list[p.Change]
    cursor: Cursor
    has_more: bool
    reset: bool


def _snapshot(tx: Tx, technician_id: str, cursor: Cursor, limit: int, public_url: str, reset: bool) -> Page:
    take = max(1, limit // ENTITIES_PER_JOB)
    rows = store.scope_jobs_page(tx, technician_id, cursor.snapshot_after or 0, take + 1)
    more = len(rows) > take
    rows = rows[:take]
    ops = Ops()
    _bundle(tx, ops, [r["id"] for r in rows], "put")
    following = Cursor(cursor.seq, rows[-1]["n"]) if more else Cursor(cursor.seq)
    return Page(_materialize(tx, ops, public_url), following, more, reset)


def _changes(tx: Tx, technician_id: str, after: int, limit: int, public_url: str) -> Page:
    rows = store.changes_after(tx, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if more:
        rows += store.rest_of_txn(tx, rows[-1]["txn"], rows[-1]["seq"])
        more = bool(store.changes_after(tx, rows[-1]["seq"], 1))
    if not rows:
        return Page([], Cursor(after), False, False)
    scope = {r["id"]: r["customer_id"] for r in store.scope_jobs(tx, technician_id)}
    customers = set(scope.values())
    ops = Ops()
    entered: list[str] = []
    left: list[str] = []
    for row in rows:
        entity, entity_id, job_id, moved_from = (
            row["entity"],
            row["entity_id"],
            row["job_id"],
            row["moved_from"],
        )
        if entity == "job":
            if entity_id in scope:
                if moved_from is not None and moved_from != technician_id:
                    entered.append(entity_id)
                ops.say("job", entity_id, "put")
            elif moved_from == technician_id:
                left.append(entity_id)
        elif entity == "customer":
            if entity_id in customers:
                ops.say("customer", entity_id, "put")
        elif entity in ("order", "payment", "paymentLink", "sms", "note") and job_id in scope:
            ops.say(entity, entity_id, "put")
            if entity in ("order", "payment"):
                ops.say("job", job_id, "put")  # the job shows its orders' money
    _bundle(tx, ops, left, "del", keep_customers=customers)
    _bundle(tx, ops, entered, "put")
    return Page(_materialize(tx, ops, public_url), Cursor(rows[-1]["seq"]), more, False)


def _bundle(tx: Tx, ops: Ops, job_ids: Sequence[str], op: str, keep_customers: set[str] | None = None) -> None:
    """A job and everything that hangs from it, as puts (it entered) or dels (it left)."""
    if not job_ids:
        return
    job_rows = jobs_store.get_many(tx, job_ids)
    order_ids = [r["id"] for r in orders_store.for_jobs(tx, job_ids)]
    for row in job_rows:
        if op == "put" or row["customer_id"] not in (keep_customers or set()):
            ops.say("customer", row["customer_id"], op)
        ops.say("job", row["id"], op)
    for order_id in order_ids:
        ops.say("order", order_id, op)
    for row in links_store.for_orders(tx, order_ids):
        ops.say("paymentLink", row["id"], op)
    for row in payments_store.settled_for_orders(tx, order_ids):
        ops.say("payment", row["id"], op)
    for row in sms_store.for_jobs(tx, job_ids):
        ops.say("sms", row["id"], op)
    for row in jobs_store.notes_for_jobs(tx, job_ids):
        ops.say("note", row["id"], op)


def _materialize(tx: Tx, ops: Ops, public_url: str) -> list[p.Change]:
    """Each `put` with the entity as the office API shows it: one load per kind of entity."""
    wanted: dict[str, list[str]] = {}
    for (entity, entity_id), op in ops.ops.items():
        if op == "put":
            wanted.setdefault(entity, []).append(entity_id)
    loaders: dict[str, Callable[[list[str]], list[tuple[str, Any]]]] = {
        "customer": lambda ids: [
            (r["id"], customers_store.to_customer(r)) for r in customers_store.get_many(tx, ids).values()
        ],
        "job": lambda ids: [(j.id, j) for j in jobs.views(tx, jobs_store.get_many(tx, ids))],
        "order": lambda ids: [(o.id, o) for o in orders.views(tx, orders_store.get_many(tx, ids))],
        "payment": lambda ids: [(x.id, x) for x in payments.views(tx, payments_store.settled_by_ids(tx, ids))],
        "paymentLink": lambda ids: [(x.id, x) for x in links.views(tx, links_store.get_many(tx, ids), public_url)],
        "sms": lambda ids: [(r["id"], outbox.to_message(r)) for r in sms_store.get_many(tx, ids)],
        "note": lambda ids: [(r["id"], notes.to_note(r)) for r in jobs_store.notes_by_ids(tx, ids)],
    }
    found: dict[Key, dict[str, Any]] = {}
    for entity, ids in wanted.items():
        for entity_id, view in loaders[entity](ids):
            found[(entity, entity_id)] = msgspec.to_builtins(view)
    changes = []
    for (entity, entity_id), op in ops.ops.items():
        if op == "del":
            changes.append(p.Change(op="del", entity=entity, id=entity_id))  # type: ignore[arg-type]
        elif (entity, entity_id) in found:
            changes.append(p.Change(op="put", entity=entity, id=entity_id, data=found[(entity, entity_id)]))  # type: ignore[arg-type]
    return changes
