"""`POST /v1/sync/pull`: the technician's scope, as a snapshot and then as changes.

A null (or too old) cursor starts a snapshot of every job in scope with what hangs from it,
`reset: true`; its pages follow jobs in order, `limit` entities a page. After it, pages follow the change log: each
change in scope becomes a `put` of the entity as it is now; a job that enters the scope comes
whole, one that leaves it goes as `del` for it and everything that hangs from it. A page ends
on a transaction's edge, and the cursor is the last sequence number it covered, so pages never
skip or tear a change; it holds `limit` changes unless one transaction alone holds more.
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
from server.messages import service as outbox
from server.messages import store as sms_store
from server.orders import service as orders
from server.orders import store as orders_store
from server.payments import service as payments
from server.payments import store as payments_store
from server.replication import store
from server.replication.cursor import Cursor, Snapshot, decode
from server.store import Row, Tx, changelog
from server.technicians import store as technicians_store
from sync import protocol as p

REJECTIONS_SHOWN = 1000

Key = tuple[str, str]


@dataclass
class Ops:
    """What a page says about each entity, the last word winning, in the order they were last said."""

    ops: dict[Key, str] = field(default_factory=dict)

    def say(self, entity: str, entity_id: str, op: str) -> None:
        self.ops.pop((entity, entity_id), None)
        self.ops[(entity, entity_id)] = op

    def merged(self, later: Ops) -> Ops:
        both = Ops(dict(self.ops))
        for (entity, entity_id), op in later.ops.items():
            both.say(entity, entity_id, op)
        return both


def pull(
    tx: Tx, request: p.PullRequest, technician_id: str, device_id: str, public_url: str
) -> tuple[p.PullResponse, str | None]:
    """The page, and when the technician last synced (so the caller can decide to record it)."""
    client = store.client(tx, request.client_id)
    if client is not None and client["device_id"] != device_id:
        raise Forbidden("this clientId belongs to another device")
    cursor = decode(request.cursor)
    floor, top = changelog.bounds(tx)
    if cursor is None or (cursor.snapshot is None and not floor <= cursor.seq <= top):
        page = _snapshot(tx, technician_id, Cursor(top, Snapshot(0)), request.limit, public_url, reset=True)
    elif cursor.snapshot is not None:
        page = _snapshot(tx, technician_id, cursor, request.limit, public_url, reset=False)
    else:
        page = _changes(tx, technician_id, cursor.seq, request.limit, public_url)
    # A rejection is listed until the device has pulled past its place in the change log once.
    seen = cursor.seq if cursor is not None else 0
    rejections = [
        p.Rejection(mutation_id=r["mutation_id"], name=r["name"], code=r["code"] or "", detail=r["detail"] or "")
        for r in store.rejections_after(tx, request.client_id, seen, REJECTIONS_SHOWN)
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
    """Up to `limit` entities of the scope, job by job, each job's bundle in a fixed order (kind,
    then row number); a bundle that does not fit is finished on the next page, after the last
    entity sent. Every job brings at least itself and its customer, so `limit // 2 + 1` jobs
    always fill a page."""
    assert cursor.snapshot is not None
    at = cursor.snapshot
    fetch = limit // 2 + 1
    rows = store.scope_jobs_from(tx, technician_id, at.job_n, fetch)
    bundles = _bundles(tx, rows)
    ops = Ops()
    taken = 0
    following: Snapshot | None = None
    for index, row in enumerate(rows):
        bundle = bundles[row["id"]]
        after = at.after if index == 0 and row["n"] == at.job_n else None
        rest = bundle if after is None else [entry for entry in bundle if (entry.rank, entry.n) > after]
        if taken + len(rest) > limit:
            fits = rest[: limit - taken]
            for entry in fits:
                ops.say(entry.entity, entry.id, "put")
            following = Snapshot(row["n"], (fits[-1].rank, fits[-1].n))
            break
        for entry in rest:
            ops.say(entry.entity, entry.id, "put")
        taken += len(rest)
        if taken == limit:
            if index + 1 < len(rows):
                following = Snapshot(rows[index + 1]["n"])
            elif len(rows) == fetch:  # the page filled on the last job fetched: there may be more
                following = Snapshot(row["n"] + 1)
            break
    return Page(_materialize(tx, ops, public_url), Cursor(cursor.seq, following), following is not None, reset)


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """One entity of a job's bundle, in the order a snapshot sends them."""

    rank: int
    n: int
    entity: str
    id: str


RANKS = {"customer": 0, "job": 1, "order": 2, "paymentLink": 3, "payment": 4, "sms": 5, "note": 6}


def _bundles(tx: Tx, job_rows: Sequence[Row]) -> dict[str, list[Entry]]:
    """Each job and what hangs from it, in the order a snapshot sends them (one query a kind)."""
    job_ids = [r["id"] for r in job_rows]
    found: dict[str, list[Entry]] = {
        r["id"]: [Entry(0, 0, "customer", r["customer_id"]), Entry(1, 0, "job", r["id"])] for r in job_rows
    }

    def add(job_id: str, entity: str, row: Row) -> None:
        found[job_id].append(Entry(RANKS[entity], row["n"], entity, row["id"]))

    order_rows = orders_store.for_jobs(tx, job_ids)
    job_of_order = {r["id"]: r["job_id"] for r in order_rows}
    order_ids = list(job_of_order)
    for row in order_rows:
        add(row["job_id"], "order", row)
    for row in links_store.for_orders(tx, order_ids):
        add(job_of_order[row["order_id"]], "paymentLink", row)
    for row in links_store.for_jobs(tx, job_ids):
        add(row["job_id"], "paymentLink", row)
    for row in payments_store.settled_for_orders(tx, order_ids):
        add(job_of_order[row["order_id"]], "payment", row)
    for row in sms_store.for_jobs(tx, job_ids):
        add(row["job_id"], "sms", row)
    for row in jobs_store.notes_for_jobs(tx, job_ids):
        add(row["job_id"], "note", row)
    return {job_id: sorted(entries) for job_id, entries in found.items()}


def _changes(tx: Tx, technician_id: str, after: int, limit: int, public_url: str) -> Page:
    """The log from `after`, whole transactions at a time, up to `limit` changes: a page passes
    `limit` only when one transaction alone does."""
    rows = changelog.after(tx, after, limit + 1)
    if len(rows) > limit:
        rows += changelog.rest_of_txn(tx, rows[-1]["txn"], rows[-1]["seq"])
    if not rows:
        return Page([], Cursor(after), False, False)
    scope = {r["id"]: r["customer_id"] for r in store.scope_jobs(tx, technician_id)}
    ops = Ops()
    last = after
    for txn_rows in _by_transaction(rows):
        said = _transaction(tx, technician_id, scope, txn_rows)
        both = ops.merged(said)
        if ops.ops and len(both.ops) > limit:
            break
        ops = both
        last = txn_rows[-1]["seq"]
    more = bool(changelog.after(tx, last, 1))
    return Page(_materialize(tx, ops, public_url), Cursor(last), more, False)


def _by_transaction(rows: Sequence[Row]) -> list[list[Row]]:
    groups: list[list[Row]] = []
    for row in rows:
        if groups and groups[-1][-1]["txn"] == row["txn"]:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _transaction(tx: Tx, technician_id: str, scope: dict[str, str], rows: Sequence[Row]) -> Ops:
    """What one transaction's changes say to this technician."""
    customers = set(scope.values())
    ops = Ops()
    entered: list[str] = []
    left: list[str] = []
    moved_in: list[str] = []
    moved_out: list[str] = []
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
        elif entity == "order" and moved_from is not None and moved_from != job_id:
            # The order moved between jobs: it goes whole to the scope it entered, and leaves
            # the one it left with what hangs from it.
            if job_id in scope:
                moved_in.append(entity_id)
                ops.say("job", job_id, "put")
            elif moved_from in scope:
                moved_out.append(entity_id)
            if moved_from in scope:
                ops.say("job", moved_from, "put")
        elif entity in ("order", "payment", "paymentLink", "sms", "note") and job_id in scope:
            ops.say(entity, entity_id, "put")
            if entity in ("order", "payment"):
                ops.say("job", job_id, "put")  # the job shows its orders' money
    _order_bundle(tx, ops, moved_out, "del")
    _order_bundle(tx, ops, moved_in, "put")
    _bundle(tx, ops, left, "del", keep_customers=customers)
    _bundle(tx, ops, entered, "put")
    return ops


def _bundle(tx: Tx, ops: Ops, job_ids: Sequence[str], op: str, keep_customers: set[str] | None = None) -> None:
    """A job and everything that hangs from it, as puts (it entered) or dels (it left)."""
    if not job_ids:
        return
    job_rows = jobs_store.get_many(tx, job_ids)
    for row in job_rows:
        if op == "put" or row["customer_id"] not in (keep_customers or set()):
            ops.say("customer", row["customer_id"], op)
        ops.say("job", row["id"], op)
    _order_bundle(tx, ops, [r["id"] for r in orders_store.for_jobs(tx, job_ids)], op)
    for row in links_store.for_jobs(tx, job_ids):
        ops.say("paymentLink", row["id"], op)
    for row in sms_store.for_jobs(tx, job_ids):
        ops.say("sms", row["id"], op)
    for row in jobs_store.notes_for_jobs(tx, job_ids):
        ops.say("note", row["id"], op)


def _order_bundle(tx: Tx, ops: Ops, order_ids: Sequence[str], op: str) -> None:
    """Orders and what hangs from them (links, payments, texts), as puts or dels."""
    if not order_ids:
        return
    for order_id in order_ids:
        ops.say("order", order_id, op)
    for row in links_store.for_orders(tx, order_ids):
        ops.say("paymentLink", row["id"], op)
    for row in payments_store.settled_for_orders(tx, order_ids):
        ops.say("payment", row["id"], op)
    for row in sms_store.for_orders(tx, order_ids):
        ops.say("sms", row["id"], op)


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
