"""The technician's device: what each `flint device` command does, networked or not."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from sync import protocol as p
from sync.client import Refused, SyncClient, SyncError
from sync.limits import Currency
from sync.replica import Outgoing, Replica
from sync.shown import Job, shown_jobs


class DeviceError(Exception):
    """Something the technician asked for that cannot be done (said plainly, exit non-zero)."""


def now() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class SyncReport:
    pushed: int
    applied: int
    rejected: list[Outgoing]
    changes: int
    pending: int


class Device:
    def __init__(self, replica: Replica, transport: httpx.BaseTransport | None = None) -> None:
        self.replica = replica
        self.transport = transport

    # Offline: reading and queueing.

    def jobs(self) -> list[Job]:
        r = self.replica
        return shown_jobs(
            r.entities("job"), r.entities("customer"), r.entities("order"), r.entities("note"), r.outbox()
        )

    def job(self, job_id: str) -> Job:
        for job in self.jobs():
            if job.id == job_id:
                return job
        raise DeviceError(f"no job {job_id} on this device; `flint device jobs` lists them")

    def _known_job(self, job_id: str) -> None:
        if not any(job["id"] == job_id for job in self.replica.entities("job")):
            raise DeviceError(f"no job {job_id} on this device; `flint device jobs` lists them")

    def _open_order(self, job_id: str) -> tuple[str, Currency]:
        """The order a technician adds to and collects on: the job's newest open order. Pending
        mutations never open or close an order, so the server's state answers this."""
        self._known_job(job_id)
        orders = [o for o in self.replica.entities("order") if o.get("jobId") == job_id and o["state"] == "open"]
        if not orders:
            raise DeviceError(f"job {job_id} has no open order to add to or collect on")
        newest = max(orders, key=lambda o: o["createdAt"])
        return newest["id"], newest["totalMoney"]["currency"]

    def _queue(self, build: Callable[[int, str], p.BaseMutation]) -> Outgoing:
        self.replica.require("client_id")
        at = now()
        return self.replica.queue(lambda mutation_id: build(mutation_id, at), at)

    def set_status(self, job_id: str, status: str) -> Outgoing:
        self._known_job(job_id)
        args = p.SetJobStatusArgs(job_id=job_id, status=status)  # type: ignore[arg-type]
        return self._queue(lambda i, at: p.SetJobStatus(id=i, client_at=at, args=args))

    def add_on(self, job_id: str, name: str, price: int, quantity: int = 1) -> Outgoing:
        order_id, currency = self._open_order(job_id)
        args = p.AddLineItemArgs(
            order_id=order_id,
            uid=str(uuid.uuid4()),
            name=name,
            quantity=quantity,
            unit_price_money=p.Money(price, currency),
            kind="addon",
        )
        return self._queue(lambda i, at: p.AddLineItem(id=i, client_at=at, args=args))

    def text_to_pay(self, job_id: str, amount: int | None = None, to: str | None = None) -> Outgoing:
        order_id, currency = self._open_order(job_id)
        args = p.TextToPayArgs(
            uid=str(uuid.uuid4()),
            order_id=order_id,
            amount_money=p.PositiveMoney(amount, currency) if amount is not None else None,
            to=to,
        )
        return self._queue(lambda i, at: p.RequestTextToPay(id=i, client_at=at, args=args))

    def record_payment(self, job_id: str, amount: int, method: str, reference: str | None = None) -> Outgoing:
        order_id, currency = self._open_order(job_id)
        args = p.RecordOfflinePaymentArgs(
            uid=str(uuid.uuid4()),
            order_id=order_id,
            amount_money=p.PositiveMoney(amount, currency),
            method=method,  # type: ignore[arg-type]
            reference=reference,
        )
        return self._queue(lambda i, at: p.RecordOfflinePayment(id=i, client_at=at, args=args))

    def add_note(self, job_id: str, text: str) -> Outgoing:
        self._known_job(job_id)
        args = p.AddJobNoteArgs(uid=str(uuid.uuid4()), job_id=job_id, text=text)
        return self._queue(lambda i, at: p.AddJobNote(id=i, client_at=at, args=args))

    # Online: enrolling and syncing.

    def enroll(self, server: str, token: str) -> SyncReport:
        """Keep the server and token, start a new client id, and take the first full pull. A
        token the server refuses leaves the device as it was."""
        previous = {key: self.replica.get(key) for key in ("server", "token", "client_id", "cursor")}
        with self.replica.transaction():
            self.replica.put("server", server.rstrip("/"))
            self.replica.put("token", token)
            self.replica.put("client_id", str(uuid.uuid4()))
            self.replica.put("cursor", None)
        try:
            return self.sync()
        except SyncError:
            with self.replica.transaction():
                for key, value in previous.items():
                    self.replica.put(key, value)
            raise

    def client(self) -> SyncClient:
        return SyncClient(self.replica.require("server"), self.replica.require("token"), transport=self.transport)

    def sync(self) -> SyncReport:
        """Push everything pending (in batches), then pull until up to date. Anything that fails
        raises `SyncError` and leaves the outbox as it was."""
        client_id = self.replica.require("client_id")
        client = self.client()
        try:
            pushed, applied, rejected = self._push(client, client_id)
            changes = self._pull(client, client_id)
        finally:
            client.close()
        return SyncReport(pushed, applied, rejected, changes, len(self.replica.pending()))

    def _push(self, client: SyncClient, client_id: str) -> tuple[int, int, list[Outgoing]]:
        pushed = applied = 0
        rejected: list[Outgoing] = []
        while batch := self.replica.pending(p.MAX_PUSH):
            try:
                response = client.push(client_id, [o.mutation for o in batch])
            except Refused as exc:
                if exc.code == "mutation_gap":
                    raise SyncError(
                        "the server has lost mutations this device already sent; ask the office to check"
                    ) from exc
                raise
            with self.replica.transaction():
                for result in response.results:
                    self.replica.settle(result)
            pushed += len(batch)
            applied += sum(r.status == "applied" for r in response.results)
            rejected += [self.replica.outgoing(r.id) for r in response.results if r.status == "rejected"]
            if response.last_mutation_id < batch[-1].id:
                raise SyncError("the server stopped part way through the outbox; sync again")
        return pushed, applied, rejected

    def _pull(self, client: SyncClient, client_id: str) -> int:
        changes = 0
        while True:
            page = client.pull(client_id, self.replica.get("cursor"))
            with self.replica.transaction():
                self.replica.apply(page.changes, page.reset)
                self.replica.put("cursor", page.cursor)
                self.replica.settle_up_to(page.last_mutation_id, {r.mutation_id: r for r in page.rejections})
            changes += len(page.changes)
            if not page.has_more:
                return changes
