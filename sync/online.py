"""Enrolling and syncing: the only things the device does over the network.

A sync pushes the outbox in batches, then pulls until up to date; anything that fails raises
`SyncError` and leaves the outbox as it was. Enrolling takes the whole scope from the server
before it changes anything, so an enrolment that fails leaves the device as it was.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path

import httpx

from sync import checks
from sync import protocol as p
from sync.checks import BadInput
from sync.client import Refused, SyncClient, SyncError, Unreachable
from sync.replica import Outgoing, Replica
from sync.shown import shown_jobs


@dataclass(frozen=True, slots=True)
class SyncReport:
    pushed: int
    applied: int
    rejected: list[Outgoing]
    changes: int
    pending: int


class Blocked(SyncError):
    """The push stopped at a mutation that can no longer be read; the rest was pushed and pulled."""

    def __init__(self, report: SyncReport, stuck: Outgoing) -> None:
        super().__init__(
            f"mutation {stuck.id} ({stuck.name}) in the outbox can no longer be read ({stuck.problem});"
            f" `flint device outbox drop {stuck.id}` takes it back, then sync again"
        )
        self.report = report
        self.stuck = stuck


class EnrolFailed(Exception):
    """The server did not take the enrolment; the device is as it was. `bad_input`: the token."""

    def __init__(self, reason: str, bad_input: bool) -> None:
        super().__init__(f"enrolling failed: {reason}. Nothing on this device changed.")
        self.bad_input = bad_input


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole scope as the server shows it to a new client with this token."""

    server: str
    token: str
    client_id: str
    technician_id: str | None
    pages: list[p.PullResponse]


@dataclass(frozen=True, slots=True)
class Enrolment:
    server: str
    technician_id: str | None
    jobs: int
    changes: int
    carried: int  # pending mutations kept, numbered again from 1
    dropped: int  # pending mutations dropped by --discard-pending
    cleared: int  # the old client's rejected mutations
    sync: SyncReport | None = None  # the carried mutations' first sync
    sync_error: str | None = None


# Syncing.


def client_for(replica: Replica, transport: httpx.BaseTransport | None = None) -> SyncClient:
    return SyncClient(replica.require("server"), replica.require("token"), transport=transport)


def sync(replica: Replica, transport: httpx.BaseTransport | None = None) -> SyncReport:
    """Push everything pending (in batches), then pull until up to date."""
    client_id = replica.require("client_id")
    client = client_for(replica, transport)
    try:
        pushed, applied, rejected, stuck = _push(replica, client, client_id)
        changes, late = _pull(replica, client, client_id)
    finally:
        client.close()
    report = SyncReport(pushed, applied, rejected + late, changes, len(replica.pending()))
    if stuck is not None:
        raise Blocked(report, stuck)
    return report


def _push(replica: Replica, client: SyncClient, client_id: str) -> tuple[int, int, list[Outgoing], Outgoing | None]:
    """Up to the first mutation that cannot be read, which is returned."""
    pushed = applied = 0
    rejected: list[Outgoing] = []
    last_first: int | None = None
    while True:
        pending = replica.pending()
        batch = list(takewhile(lambda o: o.mutation is not None, pending))[: p.MAX_PUSH]
        if not batch:
            return pushed, applied, rejected, pending[0] if pending else None
        if batch[0].id == last_first:
            raise SyncError(f"the server did not answer for mutation {last_first}; sync again")
        last_first = batch[0].id
        sent_before = replica.get("sent_through")
        with replica.transaction():
            replica.mark_sent(batch[-1].id)
        try:
            response = client.push(client_id, [o.mutation for o in batch if o.mutation is not None])
        except SyncError as exc:
            if _nothing_applied(exc):  # the batch may still be taken back
                with replica.transaction():
                    replica.put("sent_through", sent_before)
            if isinstance(exc, Refused) and exc.code == "mutation_gap":
                raise SyncError(
                    "the server has lost mutations this device already sent; ask the office to check"
                ) from exc
            raise
        with replica.transaction():
            for result in response.results:
                if (settled := replica.settle(result)) is not None:
                    rejected.append(settled)
        pushed += len(batch)
        applied += sum(r.status == "applied" for r in response.results)
        if response.last_mutation_id < batch[-1].id:
            raise SyncError("the server stopped part way through the outbox; sync again")


def _nothing_applied(exc: SyncError) -> bool:
    """The push never reached the server, or the server refused it whole (all but a gap, which
    applies what comes before it)."""
    if isinstance(exc, Unreachable):
        return not exc.connected
    return isinstance(exc, Refused) and exc.status != 409


def _damaged(replica: Replica) -> bool:
    r = replica
    shown = shown_jobs(
        r.raw_entities("job"), r.raw_entities("customer"), r.raw_entities("order"), r.raw_entities("note"), []
    )
    return shown.skipped > 0


def _pull(replica: Replica, client: SyncClient, client_id: str) -> tuple[int, list[Outgoing]]:
    """Until up to date. Entities the device can no longer read are mended by a whole snapshot."""
    changes = 0
    late: list[Outgoing] = []
    cursor = None if _damaged(replica) else replica.get("cursor")
    while True:
        page = client.pull(client_id, cursor)
        with replica.transaction():
            replica.apply(page.changes, page.reset)
            replica.put("cursor", page.cursor)
            if page.technician_id is not None:
                replica.put("technician_id", page.technician_id)
            late += replica.settle_up_to(page.last_mutation_id, {r.mutation_id: r for r in page.rejections})
        changes += len(page.changes)
        cursor = page.cursor
        if not page.has_more:
            return changes, late


# Enrolling.


def take_snapshot(server: str, token: str, transport: httpx.BaseTransport | None = None) -> Snapshot:
    """Pull the whole scope as a new client, changing nothing here. A new client id: its
    mutation ids count from 1 (the server makes the client at its first push)."""
    client_id = str(uuid.uuid4())
    client = SyncClient(server, token, transport=transport)
    pages: list[p.PullResponse] = []
    cursor: str | None = None
    try:
        while not pages or pages[-1].has_more:
            pages.append(client.pull(client_id, cursor))
            cursor = pages[-1].cursor
    except Refused as exc:
        bad_token = exc.status in (401, 403)
        reason = "the server did not accept this token" if bad_token else str(exc)
        raise EnrolFailed(f"{reason} ({exc.status} {exc.code})" if bad_token else reason, bad_token) from exc
    except SyncError as exc:
        raise EnrolFailed(str(exc), bad_input=False) from exc
    finally:
        client.close()
    return Snapshot(server, token, client_id, pages[-1].technician_id, pages)


def _may_leave(replica: Replica, server: str, discard: bool) -> None:
    """Pending mutations go to a new client only for the same technician on the same server."""
    waiting = len(replica.pending())
    if not waiting or discard:
        return
    old = replica.get("server")
    if old is None or not checks.same_server(old, server):
        raise BadInput(
            f"{waiting} change(s) wait in the outbox for {old or 'another server'}; sync them first,"
            " or enrol with --discard-pending to drop them"
        )


def _same_technician(replica: Replica, snapshot: Snapshot, discard: bool) -> None:
    waiting = len(replica.pending())
    if not waiting or discard:
        return
    known = replica.get("technician_id")
    if known is None or snapshot.technician_id is None:
        raise BadInput(
            f"{waiting} change(s) wait in the outbox and this device cannot tell whether the new token is the"
            " same technician's; sync them first, or enrol with --discard-pending to drop them"
        )
    if known != snapshot.technician_id:
        raise BadInput(
            f"{waiting} change(s) wait in the outbox for another technician; sync them first,"
            " or enrol with --discard-pending to drop them"
        )


def enroll(
    replica: Replica,
    server: str,
    token: str,
    discard_pending: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> Enrolment:
    server, token = checks.server_url(server), checks.token(token)
    _may_leave(replica, server, discard_pending)
    return adopt(replica, take_snapshot(server, token, transport), discard_pending, transport)


def enroll_file(
    path: Path, server: str, token: str, discard_pending: bool = False, transport: httpx.BaseTransport | None = None
) -> Enrolment:
    """`flint device enroll`: a device file that does not exist is made only once the server
    has taken the token."""
    if path.exists():
        replica = Replica(path)
        try:
            return enroll(replica, server, token, discard_pending, transport)
        finally:
            replica.close()
    snapshot = take_snapshot(checks.server_url(server), checks.token(token), transport)
    replica = Replica(path)
    try:
        return adopt(replica, snapshot, discard_pending, transport)
    finally:
        replica.close()


def adopt(
    replica: Replica, snapshot: Snapshot, discard_pending: bool = False, transport: httpx.BaseTransport | None = None
) -> Enrolment:
    """Switch to the new client in one transaction, then sync what was carried over."""
    _may_leave(replica, snapshot.server, discard_pending)
    _same_technician(replica, snapshot, discard_pending)
    cleared = len(replica.outbox(["rejected"]))
    with replica.transaction():
        for key, value in (
            ("server", snapshot.server),
            ("token", snapshot.token),
            ("client_id", snapshot.client_id),
            ("technician_id", snapshot.technician_id),
            ("cursor", snapshot.pages[-1].cursor),
        ):
            replica.put(key, value)
        for page in snapshot.pages:
            replica.apply(page.changes, page.reset)
        carried, dropped = replica.restart_numbering(keep_pending=not discard_pending)
    changes = sum(len(page.changes) for page in snapshot.pages)
    report: SyncReport | None = None
    error: str | None = None
    if carried:
        try:
            report = sync(replica, transport)
        except SyncError as exc:
            error = str(exc)
    jobs = len(replica.entities("job"))
    return Enrolment(snapshot.server, snapshot.technician_id, jobs, changes, carried, dropped, cleared, report, error)
