"""The technician's device: what each `flint device` command does. Reading and queueing work
offline; every input is checked against the protocol's bounds and what the device knows before
anything is queued. Enrolling and syncing are in `sync.online`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from sync import checks, ledger, online
from sync import protocol as p
from sync.canonical import lines_hash
from sync.checks import BadInput
from sync.replica import Outgoing, Replica, SentAlready
from sync.shown import Job, Line, Order, Shown, shown_jobs

# Statuses move forward only (contract §3); a device sets the last three.
STATUS_ORDER = ("scheduled", "dispatched", "en_route", "on_site", "completed")


class DeviceError(BadInput):
    """Something the technician asked for that cannot be done, said plainly: exit 2."""


@dataclass(frozen=True, slots=True)
class Candidate:
    id: str
    name: str
    balance: int
    currency: str


class Ambiguous(DeviceError):
    """No single order fits; the technician picks one with `--order`."""

    def __init__(self, message: str, candidates: list[Candidate]) -> None:
        lines = [f"  {c.id}  {c.name or '-'}  balance {ledger.display(c.balance, c.currency)}" for c in candidates]
        super().__init__("\n".join([message, *lines]))
        self.candidates = candidates


def now() -> str:
    moment = datetime.now(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _candidate(order: Order) -> Candidate:
    return Candidate(order.id, order.label, order.balance, order.currency)


class Device:
    def __init__(self, replica: Replica, transport: httpx.BaseTransport | None = None) -> None:
        self.replica = replica
        self.transport = transport

    # Online: the only commands that talk to the server.

    def enroll(self, server: str, token: str, discard_pending: bool = False) -> online.Enrolment:
        return online.enroll(self.replica, server, token, discard_pending, self.transport)

    def sync(self) -> online.SyncReport:
        return online.sync(self.replica, self.transport)

    # Reading.

    def shown(self) -> Shown:
        r = self.replica
        return shown_jobs(
            r.raw_entities("job"),
            r.raw_entities("customer"),
            r.raw_entities("order"),
            r.raw_entities("note"),
            r.outbox(["pending"]),
        )

    def jobs(self) -> list[Job]:
        return self.shown().jobs

    def job(self, job_id: str) -> Job:
        for job in self.jobs():
            if job.id == job_id:
                return job
        raise DeviceError(f"no job {checks.echo(job_id)} on this device; `flint device jobs` lists them")

    # Which order a command is about (contract §7): deposit orders never take add-ons.

    def _order_of(self, job: Job, order_id: str) -> Order:
        order = job.order(order_id)
        if order is None:
            raise Ambiguous(
                f"job {job.id} has no order {checks.echo(order_id)}; its orders:", [_candidate(o) for o in job.orders]
            )
        return order

    def _add_on_order(self, job: Job, order_id: str | None) -> Order | None:
        """The order an add-on goes on; None: by job, on the work order the server makes."""
        takers = job.work_orders()
        if order_id is not None:
            order = self._order_of(job, order_id)
            if order.deposit:
                raise Ambiguous(
                    f"order {order.id} is a deposit order; deposit orders never take add-ons. Open orders that do:",
                    [_candidate(o) for o in takers],
                )
            if order.state != "open":
                raise DeviceError(f"order {order.id} is {order.state}; add-ons go on an open order")
            return order
        if len(takers) == 1:
            return takers[0]
        if not takers:
            return None  # a job with only a deposit never stops the driveway (contract §7)
        raise Ambiguous(
            f"job {job.id} has {len(takers)} open orders; say which with --order:", [_candidate(o) for o in takers]
        )

    def _collected_order(self, job: Job, order_id: str | None) -> Order | None:
        """None: the job as a whole (its orders that owe, oldest first)."""
        if order_id is None:
            return None
        order = self._order_of(job, order_id)
        if order.cancelled:
            raise DeviceError(f"order {order.id} is cancelled; nothing can be collected on it")
        return order

    @staticmethod
    def _within_balance(job: Job, order: Order | None, amount: int, what: str) -> None:
        owed = job.balance if order is None else order.balance
        currency = job.currency if order is None else order.currency
        of = f"job {job.id}" if order is None else f"order {order.id}"
        if amount > owed:
            raise DeviceError(
                f"{what} of {ledger.display(amount, currency)} is more than {of} owes"
                f" as this device knows it ({ledger.display(owed, currency)})"
            )

    # Queueing.

    def _queue(self, build: Callable[[int, str], p.BaseMutation]) -> Outgoing:
        self.replica.require("client_id")
        at = now()
        return self.replica.queue(lambda mutation_id: build(mutation_id, at), at)

    def set_status(self, job_id: str, status: str) -> Outgoing:
        job = self.job(job_id)
        if status not in p.DeviceStatus.__args__:  # type: ignore[attr-defined]
            raise DeviceError(f"a device sets the status to en_route, on_site or completed, not {checks.echo(status)}")
        closed = job.status == "completed" and status != "completed"
        if job.status not in STATUS_ORDER or closed:
            raise DeviceError(f"job {job.id} is {job.status}; its status cannot change")
        if STATUS_ORDER.index(status) < STATUS_ORDER.index(job.status):
            raise DeviceError(f"job {job.id} is {job.status}; a status moves forward only")
        args = p.SetJobStatusArgs(job_id=job.id, status=status)  # type: ignore[arg-type]
        return self._queue(lambda i, at: p.SetJobStatus(id=i, client_at=at, args=args))

    def add_note(self, job_id: str, text: str) -> Outgoing:
        job = self.job(job_id)
        args = p.AddJobNoteArgs(uid=str(uuid.uuid4()), job_id=job.id, text=checks.text(text, "note"))
        return self._queue(lambda i, at: p.AddJobNote(id=i, client_at=at, args=args))

    def add_on(
        self,
        job_id: str,
        name: str,
        price: int,
        quantity: int = 1,
        order_id: str | None = None,
        needs_approval: bool = False,
    ) -> Outgoing:
        checks.name(name)
        checks.amount(price, "price")
        checks.quantity(quantity)
        job = self.job(job_id)
        order = self._add_on_order(job, order_id)
        currency = order.currency if order is not None else job.currency
        line = ledger.line_amount(quantity, price)
        for figure, what in (
            (line, "the line"),
            ((order.base if order is not None else 0) + line, "the order's total"),
            (job.total + line, "the job's total"),
        ):
            if figure > ledger.MAX_AMOUNT:
                raise DeviceError(
                    f"{what} would be {ledger.display(figure, currency)}, past the largest amount Flint takes"
                    f" ({ledger.display(ledger.MAX_AMOUNT, currency)})"
                )
        args = p.AddLineItemArgs(
            order_id=order.id if order is not None else None,
            job_id=job.id if order is None else None,
            uid=str(uuid.uuid4()),
            name=name,
            quantity=quantity,
            unit_price_money=p.Money(price, currency),
            kind="addon",
            needs_approval=True if needs_approval else None,
        )
        return self._queue(lambda i, at: p.AddLineItem(id=i, client_at=at, args=args))

    def text_to_pay(
        self, job_id: str, amount: int | None = None, to: str | None = None, order_id: str | None = None
    ) -> Outgoing:
        """By default a link for the job's whole balance; `order_id` for one order's."""
        if amount is not None:
            checks.amount(amount)
        if to is not None:
            checks.phone(to)
        job = self.job(job_id)
        order = self._collected_order(job, order_id)
        owed = job.balance if order is None else order.balance
        if owed <= 0:
            of = f"job {job.id}" if order is None else f"order {order.id}"
            raise DeviceError(f"{of} owes nothing as this device knows it; there is nothing to text for")
        if amount is not None:
            self._within_balance(job, order, amount, "a text-to-pay")
        currency = job.currency if order is None else order.currency
        args = p.TextToPayArgs(
            uid=str(uuid.uuid4()),
            job_id=job.id if order is None else None,
            order_id=order.id if order is not None else None,
            amount_money=p.PositiveMoney(amount, currency) if amount is not None else None,
            to=to,
        )
        return self._queue(lambda i, at: p.RequestTextToPay(id=i, client_at=at, args=args))

    def record_payment(
        self,
        job_id: str,
        amount: int,
        method: str,
        reference: str | None = None,
        order_id: str | None = None,
    ) -> Outgoing:
        """By default on the job, applied oldest order first as the server will; `order_id` for one order."""
        checks.amount(amount)
        if method not in ("cash", "check"):
            raise DeviceError(f"the method is cash or check, not {checks.echo(method)}")
        if reference is not None:
            checks.text(reference, "reference", checks.MAX_REFERENCE)
        job = self.job(job_id)
        order = self._collected_order(job, order_id)
        self._within_balance(job, order, amount, f"a {method} payment")
        currency = job.currency if order is None else order.currency
        args = p.RecordOfflinePaymentArgs(
            uid=str(uuid.uuid4()),
            job_id=job.id if order is None else None,
            order_id=order.id if order is not None else None,
            amount_money=p.PositiveMoney(amount, currency),
            method=method,  # type: ignore[arg-type]
            reference=reference,
        )
        return self._queue(lambda i, at: p.RecordOfflinePayment(id=i, client_at=at, args=args))

    # Change orders: the customer approves added work (contract §8).

    def _waiting_order(self, job: Job, order_id: str | None) -> Order:
        """The order whose waiting lines an approval is about: the one named, else the job's one
        order with lines waiting."""
        if order_id is not None:
            order = self._order_of(job, order_id)
            if not order.waiting():
                raise DeviceError(f"no line of order {order.id} waits for the customer's approval")
            return order
        waiting = [o for o in job.orders if o.waiting()]
        if not waiting:
            raise DeviceError(f"no line of job {job.id} waits for the customer's approval")
        if len(waiting) > 1:
            raise Ambiguous(
                f"job {job.id} has lines waiting on {len(waiting)} orders; say which with --order:",
                [_candidate(o) for o in waiting],
            )
        return waiting[0]

    def approval_lines(self, job_id: str, order_id: str | None = None) -> tuple[Job, Order, list[Line]]:
        """What the customer is shown before approving in person: the lines and their order."""
        job = self.job(job_id)
        order = self._waiting_order(job, order_id)
        if order.pending_order:
            raise DeviceError("sync first: the server has not made that work order yet")
        return job, order, order.waiting()

    def request_approval(self, job_id: str, to: str | None = None, order_id: str | None = None) -> Outgoing:
        """Text the customer a link and a code for the lines waiting (by default: the job's, one
        request per order)."""
        if to is not None:
            checks.phone(to)
        job = self.job(job_id)
        order = self._waiting_order(job, order_id) if order_id is not None else None
        if order is None and not any(o.waiting() for o in job.orders):
            raise DeviceError(f"no line of job {job.id} waits for the customer's approval")
        if order is not None and order.pending_order:
            raise DeviceError("sync first: the server has not made that work order yet")
        args = p.RequestApprovalArgs(
            uid=str(uuid.uuid4()),
            job_id=job.id if order is None else None,
            order_id=order.id if order is not None else None,
            to=to,
        )
        return self._queue(lambda i, at: p.RequestApproval(id=i, client_at=at, args=args))

    def record_approval(self, job_id: str, signer_name: str, order_id: str | None = None) -> Outgoing:
        """The customer approves in person, having been shown the lines and their total: the hash
        of exactly those lines goes with it, so the server takes it only if they are unchanged."""
        signer = checks.name(signer_name, "customer's name")
        _, order, lines = self.approval_lines(job_id, order_id)
        args = p.RecordApprovalArgs(
            uid=str(uuid.uuid4()),
            order_id=order.id,
            line_uids=[line.uid for line in lines if line.uid is not None],
            signer_name=signer,
            content_hash=approval_hash(order, lines),
        )
        return self._queue(lambda i, at: p.RecordApproval(id=i, client_at=at, args=args))

    def drop(self, mutation_id: int) -> Outgoing:
        """Take back a pending mutation or clear a rejected one."""
        try:
            dropped = self.replica.drop(mutation_id)
        except SentAlready:
            raise DeviceError(
                f"mutation {mutation_id} went out in a sync that did not finish and may be on the server;"
                " run `flint device sync` first"
            ) from None
        if dropped is None:
            raise DeviceError(f"no mutation {mutation_id} in the outbox; `flint device outbox` lists them")
        return dropped


def approval_hash(order: Order, lines: list[Line]) -> str:
    """The `contentHash` of an approval of these lines of the order (contract §8)."""
    return lines_hash(
        {
            "uid": line.uid,
            "name": line.name,
            "quantity": line.quantity,
            "unitPriceMoney": {"amount": line.unit_amount, "currency": order.currency},
        }
        for line in lines
    )
