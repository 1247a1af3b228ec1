"""What the technician sees: the server's state with the mutations still in the outbox replayed
on top. Rejected mutations are not replayed. Figures use the same arithmetic as the server."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sync import ledger
from sync import protocol as p
from sync.replica import Outgoing


@dataclass
class Line:
    uid: str
    name: str
    quantity: int
    unit_amount: int
    kind: str
    pending: bool = False

    @property
    def amount(self) -> int:
        return ledger.line_amount(self.quantity, self.unit_amount)


@dataclass
class Order:
    id: str
    state: str
    currency: str
    lines: list[Line]
    paid: int
    refunded: int
    pending_paid: int = 0
    created_at: str = ""

    @property
    def total(self) -> int:
        return sum(ledger.signed_amount(line.kind, line.amount) for line in self.lines)

    @property
    def balance(self) -> int:
        return ledger.balance(self.total, self.paid + self.pending_paid, self.refunded)


@dataclass
class Job:
    id: str
    title: str
    address: str
    status: str
    scheduled_at: str | None
    customer_name: str
    customer_phone: str | None
    orders: list[Order] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(o.total for o in self.orders if o.state != "cancelled")

    @property
    def balance(self) -> int:
        return sum(o.balance for o in self.orders if o.state != "cancelled")

    @property
    def currency(self) -> str:
        return self.orders[0].currency if self.orders else "USD"


def _order(data: dict[str, Any]) -> Order:
    return Order(
        id=data["id"],
        state=data["state"],
        currency=data["totalMoney"]["currency"],
        lines=[
            Line(
                uid=line["uid"],
                name=line["name"],
                quantity=line["quantity"],
                unit_amount=line["unitPriceMoney"]["amount"],
                kind=line["kind"],
            )
            for line in data["lineItems"]
        ],
        paid=data["paidMoney"]["amount"],
        refunded=data["refundedMoney"]["amount"],
        created_at=data["createdAt"],
    )


def shown_jobs(
    jobs: Sequence[dict[str, Any]],
    customers: Sequence[dict[str, Any]],
    orders: Sequence[dict[str, Any]],
    notes: Sequence[dict[str, Any]],
    outbox: Iterable[Outgoing],
) -> list[Job]:
    by_customer = {c["id"]: c for c in customers}
    shown: dict[str, Job] = {}
    for data in sorted(jobs, key=lambda j: (j.get("scheduledAt") or "", j["createdAt"])):
        customer = by_customer.get(data["customerId"], {})
        shown[data["id"]] = Job(
            id=data["id"],
            title=data["title"],
            address=data["address"],
            status=data["status"],
            scheduled_at=data.get("scheduledAt"),
            customer_name=customer.get("name", ""),
            customer_phone=customer.get("phone"),
        )
    order_job: dict[str, str] = {}
    for data in sorted(orders, key=lambda o: o["createdAt"]):
        job = shown.get(data.get("jobId") or "")
        if job is not None:
            job.orders.append(_order(data))
            order_job[data["id"]] = job.id
    for data in sorted(notes, key=lambda n: n["createdAt"]):
        job = shown.get(data["jobId"])
        if job is not None:
            job.notes.append(data["text"])
    for outgoing in outbox:
        if outgoing.state == "pending":
            _replay(shown, order_job, outgoing.mutation)
    return list(shown.values())


def _replay(jobs: dict[str, Job], order_job: dict[str, str], m: p.BaseMutation) -> None:
    """One pending mutation, as the server would apply it if it takes it."""
    job: Job | None = None
    order: Order | None = None
    order_id = getattr(getattr(m, "args", None), "order_id", None)
    if order_id is not None and order_id in order_job:
        job = jobs[order_job[order_id]]
        order = next(o for o in job.orders if o.id == order_id)
    if isinstance(m, p.SetJobStatus) and m.args.job_id in jobs:
        jobs[m.args.job_id].status = m.args.status
        jobs[m.args.job_id].pending.append(f"status → {m.args.status}")
    elif isinstance(m, p.AddJobNote) and m.args.job_id in jobs:
        jobs[m.args.job_id].notes.append(m.args.text)
        jobs[m.args.job_id].pending.append("note")
    elif isinstance(m, p.AddLineItem) and order is not None and job is not None:
        a = m.args
        order.lines.append(Line(a.uid, a.name, a.quantity, a.unit_price_money.amount, a.kind, pending=True))
        job.pending.append(f"add-on {a.name}")
    elif isinstance(m, p.RemoveLineItem) and order is not None and job is not None:
        order.lines = [line for line in order.lines if line.uid != m.args.uid]
        job.pending.append("line item removed")
    elif isinstance(m, p.RecordOfflinePayment) and order is not None and job is not None:
        order.pending_paid += m.args.amount_money.amount
        job.pending.append(f"{m.args.method} payment")
    elif isinstance(m, p.RequestTextToPay) and job is not None:
        job.requests.append("text-to-pay waiting to send")
        job.pending.append("text-to-pay")
