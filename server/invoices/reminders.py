"""Reminders: a text 3 days before each payment request's due date, on it, and 7 days after,
each at most once, never for a request with nothing left, never to a number that opted out.

What is due comes from the tables and the clock, never from the scheduler's memory: each
reminder sent is a row (unique by invoice, request and kind) written in the transaction that
queues its text. A number that opted out gets nothing queued and nothing recorded, so if it
opts back in it still gets the next reminder. The same run notes invoices that became paid.
"""

from __future__ import annotations

from functools import partial

from server.clock import today
from server.invoices import rules, service, store
from server.invoices.rules import ReminderKind, Standing
from server.invoices.service import InvoiceNow
from server.messages import service as messages
from server.messages import store as messages_store
from server.money import Money, display
from server.store import Database, Row, Tx
from server.trail import service as trail
from server.wire import Actor
from sms import bodies

SYSTEM = Actor(kind="system", id="reminders")


def recipient(row: Row) -> str | None:
    """Where the invoice's texts go: where it was last texted, else its recipient's phone."""
    to: str | None = row["last_texted_to"] or row["recipient_phone"]
    return to


def owed_reminders(tx: Tx, row: Row, now: InvoiceNow) -> list[tuple[Standing, ReminderKind]]:
    """The reminders this invoice should send now and has not."""
    to = recipient(row)
    if not rules.is_open(now.state) or not to or messages_store.is_opted_out(tx, to):
        return []
    published, day = service.published_on(row), today(tx.now)
    owed = []
    for request in now.requests:
        if request.left == 0 or request.in_flight:
            continue
        kind = rules.reminder_due(request.ask.due, published, day)
        if kind is not None and not store.reminded(tx, row["id"], request.uid, kind):
            owed.append((request, kind))
    return owed


def to_visit(tx: Tx) -> list[str]:
    """Invoices with a reminder owed, or newly paid (one read, so a quiet minute writes nothing)."""
    rows = store.open_invoices(tx)
    now = service.standings(tx, rows)
    return [row["id"] for row in rows if now[row["id"]].state == "paid" or owed_reminders(tx, row, now[row["id"]])]


def remind(tx: Tx, invoice_id: str, public_url: str, business: str) -> int:
    """Send what this invoice owes now, in one transaction; how many reminders were queued."""
    if service.note_paid(tx, SYSTEM, invoice_id):
        return 0
    row = service.load(tx, invoice_id)
    now = service.standing(tx, row)
    to = recipient(row)
    sent = 0
    for request, kind in owed_reminders(tx, row, now):
        assert to is not None
        amount = Money(request.left, now.currency)
        body = bodies.invoice_reminder(
            business,
            row["number"],
            request.ask.type,
            display(amount),
            kind,
            service.day_label(request.ask.due),
            service.url_of(public_url, row["token"]),
        )
        message = messages.queue(
            tx,
            SYSTEM,
            to=to,
            body=body,
            job_id=row["job_id"],
            order_id=row["order_id"],
            invoice_id=invoice_id,
            dedupe_key=f"reminder:{invoice_id}:{request.uid}:{kind}",
        )
        store.insert_reminder(tx, invoice_id, request.uid, kind, message.id)
        trail.record(
            tx,
            "invoice.reminder_sent",
            SYSTEM,
            {
                "invoiceId": invoice_id,
                "number": row["number"],
                "requestUid": request.uid,
                "type": request.ask.type,
                "kind": kind,
                "dueDate": request.ask.due.isoformat(),
                "amountDueMoney": amount,
                "smsId": message.id,
            },
            job_id=row["job_id"],
            order_id=row["order_id"],
        )
        sent += 1
    return sent


async def run(db: Database, public_url: str, business: str) -> int:
    """The reminder run, shared by the scheduler and `POST /v1/billing/reminders`: each invoice in
    its own transaction, which looks again before it sends, so runs side by side send nothing twice."""
    sent = 0
    for invoice_id in await db.read(to_visit):
        sent += await db.write(partial(remind, invoice_id=invoice_id, public_url=public_url, business=business))
    return sent
