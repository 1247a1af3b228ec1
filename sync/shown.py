"""What the technician sees: the server's state with the mutations still in the outbox replayed
on top. Rejected and unreadable mutations are not replayed.

The figures come from `sync.ledger`, the arithmetic the server uses: each order's base is its
lines without `deposit_applied` ones (the deposit is worked out again over what is shown, so a
pending add-on moves it as the server will), a pending payment by job is spread with
`ledger.allocate` oldest order first, and the job's balance is what `ledger.due_now` collects.
An entity that does not decode as what the server sends is left out, never fatal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from sync import ledger
from sync import protocol as p
from sync.limits import Currency
from sync.replica import Outgoing

DEPOSIT_APPLIED_NAME = "Deposit applied"
DEPOSIT_REFUNDED_NAME = "Deposit refunded"
NEW_WORK_ORDER = "new work order"  # the id a work order the server will make is shown under


# The parts of each entity the device reads. Anything else in them is ignored.


class _Money(msgspec.Struct):
    amount: int
    currency: Currency  # anything else is not money Flint took: the entity is skipped


class _Line(msgspec.Struct, rename="camel"):
    uid: str
    name: str
    quantity: int
    unit_price_money: _Money
    kind: str
    approval: str = "none"  # a server before approvals sends none: every line counts


class _Order(msgspec.Struct, rename="camel"):
    id: str
    state: str
    total_money: _Money
    paid_money: _Money
    refunded_money: _Money
    line_items: list[_Line] = []
    job_id: str | None = None
    metadata: dict[str, Any] = {}
    created_at: str = ""


class _Job(msgspec.Struct, rename="camel"):
    id: str
    title: str
    status: str
    customer_id: str | None = None
    technician_id: str | None = None
    address: str = ""
    scheduled_at: str | None = None
    created_at: str = ""


class _Customer(msgspec.Struct, rename="camel"):
    id: str
    name: str = ""
    phone: str | None = None


class _Note(msgspec.Struct, rename="camel"):
    id: str
    job_id: str
    text: str
    created_at: str = ""


def _decoded(raws: Iterable[Any], kind: type[Any], skipped: list[int]) -> list[Any]:
    found = []
    for raw in raws:
        try:
            found.append(msgspec.json.decode(raw, type=kind))
        except (msgspec.DecodeError, msgspec.ValidationError, TypeError):
            skipped[0] += 1
    return found


# What is shown.


@dataclass
class Line:
    uid: str | None
    name: str
    quantity: int
    unit_amount: int
    kind: str
    pending: bool = False  # waits in the outbox
    approval: str = "none"  # `pending` or `declined`: owed by nobody (contract §8)

    @property
    def counts(self) -> bool:
        return ledger.counts(self.kind, self.approval)

    @property
    def amount(self) -> int:
        return ledger.line_amount(self.quantity, self.unit_amount)

    @property
    def signed(self) -> int:
        return ledger.signed_amount(self.kind, self.amount)


@dataclass
class Order:
    id: str
    state: str
    currency: Currency
    lines: list[Line]
    paid: int
    refunded: int
    payment_stage: str | None = None
    created_at: str = ""
    pending_paid: int = 0
    applied_uid: str | None = None  # the server's `deposit_applied` line, if it has one
    pending_order: bool = False  # made by a pending add-on: the server makes it when it takes it
    # Worked out over the job's orders (`Job.figure`).
    applied: int = 0
    refunded_deposit: int = 0
    total: int = 0
    balance: int = 0

    @property
    def deposit(self) -> bool:
        return ledger.is_deposit_stage(self.payment_stage)

    @property
    def cancelled(self) -> bool:
        return self.state == "cancelled"

    @property
    def base(self) -> int:
        return sum(line.signed for line in self.lines if line.counts)

    def waiting(self) -> list[Line]:
        """Lines that wait for the customer's approval (an add-on still in the outbox too: it reaches
        the server before an approval queued after it)."""
        return [line for line in self.lines if line.approval == "pending"]

    @property
    def label(self) -> str:
        """A name a technician can tell orders apart by."""
        if self.payment_stage:
            return self.payment_stage
        return self.lines[0].name if self.lines else ""

    @property
    def shown_lines(self) -> list[Line]:
        system = []
        if self.applied:
            system.append(Line(self.applied_uid, DEPOSIT_APPLIED_NAME, 1, self.applied, ledger.DEPOSIT_APPLIED))
        if self.refunded_deposit:
            system.append(Line(None, DEPOSIT_REFUNDED_NAME, 1, self.refunded_deposit, ledger.DEPOSIT_REFUNDED))
        return [*self.lines, *system]

    def money(self) -> ledger.OrderMoney:
        return ledger.OrderMoney(
            id=self.id,
            base=self.base,
            paid=self.paid + self.pending_paid,
            refunded=self.refunded,
            deposit=self.deposit,
            cancelled=self.cancelled,
        )


@dataclass
class Note:
    text: str
    pending: bool = False


@dataclass
class Job:
    id: str
    title: str
    address: str
    status: str
    scheduled_at: str | None
    customer_name: str
    customer_phone: str | None
    customer_id: str | None = None
    created_at: str = ""
    orders: list[Order] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    # Worked out over the orders (`figure`).
    total: int = 0
    paid: int = 0
    refunded: int = 0
    balance: int = 0
    unapplied: int = 0

    @property
    def currency(self) -> Currency:
        return self.orders[0].currency if self.orders else "USD"

    def money(self) -> list[ledger.OrderMoney]:
        """The orders as the ledger takes them, oldest (first created) first."""
        return [o.money() for o in self.orders]

    def owed(self, order: Order) -> int:
        """What a new payment may take on one order now."""
        return ledger.figure(self.money()).of(order.id).balance

    def figure(self) -> None:
        """Every figure from the one rule (`sync.ledger`), as the server works it out."""
        figures = ledger.figure(self.money())
        for order in self.orders:
            own = figures.of(order.id)
            order.applied, order.refunded_deposit = own.applied, own.refunded_deposit
            order.total, order.balance = own.total, own.balance
        self.total = figures.total
        self.paid = figures.paid
        self.refunded = figures.refunded
        self.balance = figures.balance
        self.unapplied = figures.unapplied

    def work_orders(self) -> list[Order]:
        """Open orders that take add-ons (deposit orders never do)."""
        return [o for o in self.orders if o.state == "open" and not o.deposit]

    def order(self, order_id: str) -> Order | None:
        return next((o for o in self.orders if o.id == order_id), None)


@dataclass(frozen=True, slots=True)
class Shown:
    jobs: list[Job]
    skipped: int  # entities on the device that could not be read


def _order(data: _Order) -> Order:
    lines = [
        Line(line.uid, line.name, line.quantity, line.unit_price_money.amount, line.kind, approval=line.approval)
        for line in data.line_items
        if line.kind not in ledger.SYSTEM_KINDS
    ]
    applied = [line for line in data.line_items if line.kind == ledger.DEPOSIT_APPLIED]
    stage = data.metadata.get("paymentStage")
    return Order(
        id=data.id,
        state=data.state,
        currency=data.total_money.currency,
        lines=lines,
        paid=data.paid_money.amount,
        refunded=data.refunded_money.amount,
        payment_stage=stage if isinstance(stage, str) else None,
        created_at=data.created_at,
        applied_uid=applied[0].uid if len(applied) == 1 else None,
    )


def shown_jobs(
    jobs: Sequence[Any],
    customers: Sequence[Any],
    orders: Sequence[Any],
    notes: Sequence[Any],
    outbox: Iterable[Outgoing],
) -> Shown:
    """Jobs from the stored entities (raw JSON as pull delivered them) and the outbox."""
    skipped = [0]
    by_customer = {c.id: c for c in _decoded(customers, _Customer, skipped)}
    shown: dict[str, Job] = {}
    for data in sorted(_decoded(jobs, _Job, skipped), key=lambda j: (j.scheduled_at or "", j.created_at, j.id)):
        customer = by_customer.get(data.customer_id or "")
        shown[data.id] = Job(
            id=data.id,
            title=data.title,
            address=data.address,
            status=data.status,
            scheduled_at=data.scheduled_at,
            customer_name=customer.name if customer else "",
            customer_phone=customer.phone if customer else None,
            customer_id=data.customer_id,
            created_at=data.created_at,
        )
    order_job: dict[str, str] = {}
    for order in sorted(_decoded(orders, _Order, skipped), key=lambda o: (o.created_at, o.id)):
        job = shown.get(order.job_id or "")
        if job is not None and order.id not in order_job:
            job.orders.append(_order(order))
            order_job[order.id] = job.id
    for note in sorted(_decoded(notes, _Note, skipped), key=lambda n: (n.created_at, n.id)):
        if note.job_id in shown:
            shown[note.job_id].notes.append(Note(note.text))
    for outgoing in outbox:
        if outgoing.state == "pending" and outgoing.mutation is not None:
            _replay(shown, order_job, outgoing.mutation)
    for job in shown.values():
        job.figure()
    return Shown(list(shown.values()), skipped[0])


def _replay(jobs: dict[str, Job], order_job: dict[str, str], m: p.BaseMutation) -> None:
    """One pending mutation, as the server would apply it if it takes it."""
    args = getattr(m, "args", None)
    order_id = getattr(args, "order_id", None)
    job_id = getattr(args, "job_id", None)
    order: Order | None = None
    if job_id is None and order_id is not None and order_id in order_job:
        job_id = order_job[order_id]
    job = jobs.get(job_id or "")
    if job is None:
        return
    if order_id is not None:
        order = job.order(order_id)
    if isinstance(m, p.SetJobStatus):
        job.status = m.args.status
        job.pending.append(f"status → {m.args.status}")
    elif isinstance(m, p.AddJobNote):
        job.notes.append(Note(m.args.text, pending=True))
        job.pending.append("note")
    elif isinstance(m, p.AddLineItem) and m.args.kind not in ledger.SYSTEM_KINDS:
        a = m.args
        if order is None and a.order_id is None:
            order = _work_order_for(job, a.unit_price_money.currency)
        if order is not None and not order.deposit:
            approval = "pending" if a.needs_approval else "none"
            order.lines.append(
                Line(a.uid, a.name, a.quantity, a.unit_price_money.amount, a.kind, pending=True, approval=approval)
            )
            job.pending.append(f"add-on {a.name}" + (" (needs approval)" if a.needs_approval else ""))
    elif isinstance(m, p.RemoveLineItem) and order is not None:
        order.lines = [line for line in order.lines if line.uid != m.args.uid]
        job.pending.append("line item removed")
    elif isinstance(m, p.RecordOfflinePayment):
        _replay_payment(job, order, m.args)
    elif isinstance(m, p.RequestTextToPay):
        job.requests.append("text-to-pay waiting to send")
        job.pending.append("text-to-pay")
    elif isinstance(m, p.RequestApproval):
        job.requests.append("approval request waiting to send")
        job.pending.append("approval request")
    elif isinstance(m, p.RecordApproval) and order is not None:
        # As the server will take it if the lines are still what the customer saw.
        named = set(m.args.line_uids)
        for line in order.lines:
            if line.uid in named and line.approval == "pending":
                line.approval = "approved"
        job.pending.append(f"approved in person by {m.args.signer_name}")


def _work_order_for(job: Job, currency: Currency) -> Order | None:
    """Where an add-on by job goes: the job's one open work order, or a new one the server will
    make (shown as such until it syncs); none when there are several (the server refuses it)."""
    takers = job.work_orders()
    if len(takers) > 1:
        return None
    if takers:
        return takers[0]
    made = Order(NEW_WORK_ORDER, "open", currency, [], 0, 0, payment_stage="work", pending_order=True)
    job.orders.append(made)
    return made


def _replay_payment(job: Job, order: Order | None, a: p.RecordOfflinePaymentArgs) -> None:
    """Cash or a check, on one order or spread over the job's oldest first. More than is owed
    by then is refused whole by the server, so it is not counted."""
    amount = a.amount_money.amount
    what = f"{a.method} payment {ledger.display(amount, a.amount_money.currency)}"
    if a.job_id is not None:
        moneys = job.money()
        if amount > ledger.due_now(moneys):
            job.pending.append(f"{what} (more than is owed now: the server will refuse it)")
            return
        for part_id, part in ledger.allocate(moneys, amount):
            target = job.order(part_id)
            assert target is not None
            target.pending_paid += part
        job.pending.append(what)
    elif order is not None:
        if amount > job.owed(order):
            job.pending.append(f"{what} (more than order {order.id} owes now: the server will refuse it)")
            return
        order.pending_paid += amount
        job.pending.append(what)
