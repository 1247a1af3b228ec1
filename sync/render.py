"""How the device speaks: `--json` in the API's camelCase names (arrays, money as `{amount,
currency}`), and text for people, money written as people read it (`ledger.display`) in the
order's (job's) currency."""

from __future__ import annotations

import unicodedata
from typing import Any

from sync import ledger
from sync.device import Candidate
from sync.online import Enrolment, SyncReport
from sync.replica import Outgoing
from sync.shown import Job, Line, Order

DETAIL = 200  # at most this much of a stored detail is said back


def money(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def plain(value: Any) -> str:
    """Text from the server or the device file, safe on a terminal: control characters escaped."""
    text = "" if value is None else value if isinstance(value, str) else str(value)
    return "".join(ascii(ch)[1:-1] if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)


# JSON.


def line_data(line: Line, currency: str) -> dict[str, Any]:
    return {
        "uid": line.uid,
        "name": line.name,
        "quantity": line.quantity,
        "unitPriceMoney": money(line.unit_amount, currency),
        "kind": line.kind,
        "totalMoney": money(line.amount, currency),
        "pending": line.pending,
        "approval": line.approval,
    }


def order_data(order: Order) -> dict[str, Any]:
    c = order.currency
    return {
        "id": order.id,
        "state": order.state,
        "paymentStage": order.payment_stage,
        "lineItems": [line_data(line, c) for line in order.shown_lines],
        "totalMoney": money(order.total, c),
        "paidMoney": money(order.paid + order.pending_paid, c),
        "refundedMoney": money(order.refunded, c),
        "balanceMoney": money(order.balance, c),
        "createdAt": order.created_at,
    }


def job_data(job: Job) -> dict[str, Any]:
    c = job.currency
    return {
        "id": job.id,
        "title": job.title,
        "address": job.address,
        "status": job.status,
        "scheduledAt": job.scheduled_at,
        "customerId": job.customer_id,
        "customer": {"id": job.customer_id, "name": job.customer_name, "phone": job.customer_phone},
        "payment": {
            "totalMoney": money(job.total, c),
            "paidMoney": money(job.paid, c),
            "refundedMoney": money(job.refunded, c),
            "balanceMoney": money(job.balance, c),
            "depositUnappliedMoney": money(job.unapplied, c),
        },
        "orders": [order_data(o) for o in job.orders],
        "notes": [{"text": n.text, "pending": n.pending} for n in job.notes],
        "pending": job.pending,
    }


def outbox_item(o: Outgoing) -> dict[str, Any]:
    """`{mutationId, name, args, clientAt, status, code?, detail?}` (contract §7)."""
    args = {k: v for k, v in o.args.items() if v is not None} if isinstance(o.args, dict) else None
    item: dict[str, Any] = {
        "mutationId": o.id,
        "name": o.name,
        "args": args,
        "clientAt": o.client_at,
        "status": o.state,
    }
    if o.state == "rejected":
        item["code"], item["detail"] = o.code or "", (o.detail or "")[:DETAIL]
    elif o.problem is not None:
        item["code"], item["detail"] = "unreadable", o.problem[:DETAIL]
    return item


def sync_data(report: SyncReport) -> dict[str, Any]:
    return {
        "pushed": report.pushed,
        "applied": report.applied,
        "rejected": [outbox_item(o) for o in report.rejected],
        "changes": report.changes,
        "pending": report.pending,
    }


def enrolment_data(e: Enrolment) -> dict[str, Any]:
    return {
        "server": e.server,
        "technicianId": e.technician_id,
        "jobs": e.jobs,
        "changes": e.changes,
        "carriedOver": e.carried,
        "discarded": e.dropped,
        "clearedRejected": e.cleared,
        "sync": sync_data(e.sync) if e.sync else None,
        "syncError": e.sync_error,
    }


def candidate_data(c: Candidate) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "balanceMoney": money(c.balance, c.currency)}


# Text.


def waiting(pending: int) -> str:
    return "Nothing waits to sync." if not pending else f"{pending} change(s) wait in the outbox."


def describe(o: Outgoing) -> str:
    """What a mutation does, in a few words."""
    a: dict[str, Any] = o.args if isinstance(o.args, dict) else {}

    def cash(key: str) -> str:
        m = a.get(key)
        ok = isinstance(m, dict) and isinstance(m.get("amount"), int) and isinstance(m.get("currency"), str)
        return ledger.display(m["amount"], m["currency"]) if ok and isinstance(m, dict) else "?"

    target = f"job {plain(str(a['jobId']))}" if a.get("jobId") else f"order {plain(str(a.get('orderId', '?')))}"
    if o.mutation is None:
        return f"UNREADABLE ({plain(o.problem)[:DETAIL]}); `flint device outbox drop {o.id}` takes it back"
    if o.name == "job.setStatus":
        return f"job {plain(a.get('jobId'))} → {a.get('status')}"
    if o.name == "job.addNote":
        return f"note on job {plain(a.get('jobId'))}"
    if o.name == "order.addLineItem":
        return f"{plain(a.get('name'))!r} {cash('unitPriceMoney')} x {a.get('quantity')} on {target}"
    if o.name == "order.removeLineItem":
        return f"line {plain(a.get('uid'))} off {target}"
    if o.name == "textToPay.request":
        what = cash("amountMoney") if a.get("amountMoney") else "the balance"
        return f"text {what} of {target}" + (f" to {a['to']}" if a.get("to") else "")
    if o.name == "payment.recordOffline":
        return f"{a.get('method')} {cash('amountMoney')} on {target}"
    if o.name == "approval.request":
        return f"ask the customer to approve the lines waiting on {target}" + (f" ({a['to']})" if a.get("to") else "")
    if o.name == "approval.record":
        count = len(a.get("lineUids") or [])
        return f"{count} line(s) on {target} approved in person by {plain(a.get('signerName'))}"
    return ""


def outbox_line(o: Outgoing) -> str:
    text = f"#{o.id:<5} {o.state:<9} {plain(o.name):<22} {plain(o.created_at):<25} {describe(o)}"
    if o.state == "rejected":
        text += f"\n       rejected {plain(o.code)}: {plain(o.detail)[:DETAIL]}"
    return text


APPROVAL_MARKS = {"pending": "  (awaiting approval: not counted)", "declined": "  (declined: not counted)"}


def approval_sheet(job: Job, order: Order, lines: list[Line], total: int) -> str:
    """What the customer reads before approving in person: the added work, each price, the total."""
    c = order.currency
    out = [f"{plain(job.title)}: added work for your approval", ""]
    for line in lines:
        out.append(f"  {line.quantity} x {plain(line.name):<40} {ledger.display(line.signed, c):>14}")
    out.append(f"  {'Total of these lines':<44} {ledger.display(total, c):>14}")
    out.append(f"  {'Job total once approved':<44} {ledger.display(job.total + total, c):>14}")
    return "\n".join(out)


def jobs_table(jobs: list[Job]) -> str:
    if not jobs:
        return "No jobs on this device."
    lines = [f"{'JOB':<30} {'STATUS':<10} {'BALANCE':>14}  TITLE / CUSTOMER"]
    for job in jobs:
        flag = "  (pending sync)" if job.pending else ""
        lines.append(
            f"{plain(job.id):<30} {plain(job.status):<10} {ledger.display(job.balance, job.currency):>14}"
            f"  {plain(job.title)} / {plain(job.customer_name)}{flag}"
        )
    return "\n".join(lines)


def job_sheet(job: Job) -> str:
    lines = [
        f"{plain(job.title)}  [{plain(job.status)}]",
        plain(job.address),
        f"Customer: {plain(job.customer_name)} {plain(job.customer_phone)}".rstrip(),
    ]
    for order in job.orders:
        c = order.currency
        stage = f", {plain(order.payment_stage)}" if order.payment_stage else ""
        lines.append(f"\nOrder {plain(order.id)} ({plain(order.state)}{stage})")
        for line in order.shown_lines:
            mark = " *" if line.pending else ""
            mark += APPROVAL_MARKS.get(line.approval, "")
            lines.append(
                f"  {line.quantity} x {plain(line.name):<32} {plain(line.kind):<15}"
                f" {ledger.display(line.signed, c):>14}{mark}"
            )
        lines.append(f"  {'Total':<52} {ledger.display(order.total, c):>14}")
        lines.append(f"  {'Paid':<52} {ledger.display(order.paid + order.pending_paid, c):>14}")
        if order.refunded:
            lines.append(f"  {'Refunded':<52} {ledger.display(order.refunded, c):>14}")
        lines.append(f"  {'Balance':<52} {ledger.display(order.balance, c):>14}")
    lines.append(f"\nJob balance: {ledger.display(job.balance, job.currency)}")
    if job.unapplied:
        lines.append(f"Deposit not applied yet: {ledger.display(job.unapplied, job.currency)}")
    lines += [f"Note: {plain(n.text)}" + (" *" if n.pending else "") for n in job.notes]
    if job.pending:
        lines.append("Waiting to sync (*): " + ", ".join(plain(p) for p in job.pending))
    return "\n".join(lines)
