"""The board and a job's trail page, each read in one snapshot with a fixed number of queries
(not one per job or per event), composed from the domains that keep each part."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from server.approvals import service as approvals
from server.approvals.types import ApprovalRequest
from server.clock import parse_time
from server.customers import store as customers_store
from server.dispatch import rules, store, timeline
from server.dispatch.types import Board, BoardJob, BoardTechnician, PastDuePlan
from server.errors import NotFound
from server.estimates import service as estimates
from server.estimates.types import Estimate
from server.invoices import service as invoices
from server.jobs import service as jobs
from server.jobs import store as jobs_store
from server.jobs.types import Job
from server.links import service as links_service
from server.links import store as links_store
from server.links.service import url_of
from server.messages import store as sms_store
from server.money import DEFAULT_CURRENCY, Currency, Money, display
from server.orders import ledger
from server.orders import service as orders
from server.orders import store as orders_store
from server.orders.types import Order
from server.payments import service as payments
from server.payments import store as payments_store
from server.payments.types import Payment
from server.plans import store as plans_store
from server.store import Row, Tx
from server.technicians import store as technicians_store
from server.trail import service as trail
from server.trail import store as trail_store
from server.webhooks import service as webhooks
from server.webhooks.types import WebhookEndpoint

SANDBOX_PHONE = "/sandbox/phone/"


@dataclass(frozen=True, slots=True)
class TechnicianLine:
    id: str
    name: str
    last_sync_at: str | None
    sync: rules.SyncState
    open_jobs: int


@dataclass(frozen=True, slots=True)
class JobLine:
    job: Job
    status: str
    technician: str | None
    customer: str
    scheduled: str | None
    net_paid: Money
    last_event_at: str | None
    last_event: str | None
    last_event_ago: str | None
    past_due: bool = False  # the customer has an autopay plan past due


@dataclass(frozen=True, slots=True)
class BoardView:
    technicians: list[TechnicianLine]
    jobs: list[JobLine]
    outstanding: list[Money]  # what the jobs shown still owe, one figure per currency
    seq: int  # the trail's last event when this was read: a live view follows on from here
    as_of: str
    technician: str | None
    status: str | None
    disabled_webhooks: list[WebhookEndpoint]  # switched off after 3 days of failed deliveries
    past_due: list[PastDuePlan]  # autopay plans whose last retry failed
    cursor: str | None = None  # where this page starts (None: the first page)
    next_cursor: str | None = None  # where the next one does (None: this is the last)


PAGE = 50  # jobs on a page of the office's board
MAX_ROWS = 50  # jobs the live board may ask for at once


def _now(tx: Tx) -> datetime:
    return parse_time(tx.now)


def board(
    tx: Tx,
    technician_id: str | None = None,
    status: str | None = None,
    after: rules.BoardKey | None = None,
    limit: int = PAGE,
) -> BoardView:
    """One page of the board, the same queries however many jobs there are or which page
    it is: the page's jobs; their orders, lines, payments and refunds (the jobs domain's
    views); customers; technicians and their open jobs; each job's last event; the trail's
    last `seq`; webhook endpoints switched off for failing; plans past due."""
    rows = store.board_jobs(tx, technician_id, status, after.row() if after else None, limit + 1)
    shown = rows[:limit]
    technicians = store.technicians(tx)
    names = {t["id"]: t["name"] for t in technicians}
    late = _past_due(tx)
    lines = job_lines(tx, shown, names, late)
    owed: dict[Currency, int] = defaultdict(int)
    for line in lines:
        balance = line.job.payment.balance_money
        owed[balance.currency] += balance.amount
    return BoardView(
        technicians=technician_lines(tx, technicians),
        jobs=lines,
        outstanding=[Money(amount, currency) for currency, amount in sorted(owed.items()) if amount],
        seq=trail_store.last_seq(tx),
        as_of=rules.when(tx.now),
        technician=technician_id,
        status=status,
        cursor=after.encode() if after else None,
        next_cursor=rules.BoardKey.of(shown[-1]).encode() if len(rows) > limit else None,
        disabled_webhooks=webhooks.disabled_for_failing(tx),
        past_due=late,
    )


def technician_lines(tx: Tx, technicians: Sequence[Row] | None = None) -> list[TechnicianLine]:
    now = _now(tx)
    technicians = store.technicians(tx) if technicians is None else technicians
    assigned = store.open_jobs_by_technician(tx)
    return [
        TechnicianLine(
            id=t["id"],
            name=t["name"],
            last_sync_at=t["last_sync_at"],
            sync=rules.sync_state(t["last_sync_at"], now),
            open_jobs=assigned.get(t["id"], 0),
        )
        for t in technicians
    ]


def job_lines(
    tx: Tx, rows: Sequence[Row], names: dict[str, str], past_due: Sequence[PastDuePlan] | None = None
) -> list[JobLine]:
    """The board's rows for these jobs: each with its money (the jobs domain's one answer),
    customer, last event and whether the customer is past due (`past_due`: the plans past due,
    when the caller has read them already)."""
    now = _now(tx)
    views = jobs.views(tx, rows)
    customers = customers_store.get_many(tx, list({r["customer_id"] for r in rows}))
    last = trail_store.last_for_jobs(tx, [r["id"] for r in rows], rules.QUIET_ON_THE_BOARD)
    late = (
        {plan.customer_id for plan in past_due}
        if past_due is not None
        else {plan["customer_id"] for plan in plans_store.past_due_for_customers(tx, list(customers))}
    )
    look = timeline.Lookup(technicians=names)
    lines = []
    for job in views:
        event = last.get(job.id)
        pay = job.payment
        lines.append(
            JobLine(
                job=job,
                status=rules.status_label(job.status),
                technician=names.get(job.technician_id) if job.technician_id else None,
                customer=customers[job.customer_id]["name"] if job.customer_id in customers else "",
                scheduled=rules.when(job.scheduled_at) if job.scheduled_at else None,
                net_paid=Money(pay.paid_money.amount - pay.refunded_money.amount, pay.paid_money.currency),
                last_event_at=event["at"] if event else None,
                last_event=_event_title(event, look) if event else None,
                last_event_ago=rules.ago(event["at"], now) if event else None,
                past_due=job.customer_id in late,
            )
        )
    return lines


@dataclass(frozen=True, slots=True)
class RowUpdate:
    """A job's row as the live board should show it now, and whether it still belongs in the
    board the office is looking at (its filters)."""

    line: JobLine
    matches: bool


def rows(tx: Tx, job_ids: Sequence[str], technician_id: str | None, status: str | None) -> list[RowUpdate]:
    """The rows of the jobs an event touched, read by id: what the live board swaps in, instead
    of reading the whole board again."""
    found = store.jobs_by_ids(tx, list(dict.fromkeys(job_ids)))
    names = {t["id"]: t["name"] for t in store.technicians(tx)}
    updates = []
    for row, line in zip(found, job_lines(tx, found, names), strict=True):
        wanted = technician_id is None or row["technician_id"] == (technician_id or None)
        updates.append(RowUpdate(line, wanted and (status is None or row["status"] == status)))
    return updates


def _past_due(tx: Tx) -> list[PastDuePlan]:
    rows = plans_store.past_due(tx)
    names = customers_store.get_many(tx, list({r["customer_id"] for r in rows}))
    return [
        PastDuePlan(
            service_plan_id=r["id"],
            name=r["name"],
            customer_id=r["customer_id"],
            customer_name=names[r["customer_id"]]["name"] if r["customer_id"] in names else "",
        )
        for r in rows
    ]


def _event_title(row: Row, look: timeline.Lookup) -> str:
    entry = timeline.describe(
        row["seq"], row["at"], row["type"], (row["actor_kind"], row["actor_id"]), trail_store.decode_data(row["data"]),
        look, row["client_at"],
    )  # fmt: skip
    return entry.title


def wire(view: BoardView) -> Board:
    """The board as contract §6 has it."""
    return Board(
        technicians=[BoardTechnician(id=t.id, name=t.name, last_sync_at=t.last_sync_at) for t in view.technicians],
        jobs=[
            BoardJob(
                id=line.job.id,
                title=line.job.title,
                status=line.job.status,
                technician_id=line.job.technician_id,
                customer_name=line.customer,
                scheduled_at=line.job.scheduled_at,
                total_money=line.job.payment.total_money,
                paid_money=line.job.payment.paid_money,
                balance_money=line.job.payment.balance_money,
                last_event_at=line.last_event_at,
            )
            for line in view.jobs
        ],
        disabled_webhook_endpoints=view.disabled_webhooks,
        next_cursor=view.next_cursor,
        past_due_plans=view.past_due,
    )


def api_board(
    tx: Tx, technician_id: str | None = None, status: str | None = None, cursor: str | None = None, limit: int = PAGE
) -> Board:
    return wire(board(tx, technician_id, status, rules.BoardKey.decode(cursor), limit))


# The trail page.


@dataclass(frozen=True, slots=True)
class OrderLine:
    order: Order
    label: str
    owes: bool  # open, and something is due on it


@dataclass(frozen=True, slots=True)
class PaymentLine:
    payment: Payment
    label: str  # what the office picks from: `$75.00 card (Visa •••• 4242), Order 1 · Deposit`
    refundable: Money


@dataclass(frozen=True, slots=True)
class Day:
    heading: str
    entries: list[timeline.Entry]


@dataclass(frozen=True, slots=True)
class JobPage:
    job: Job
    status: str
    customer: str
    customer_phone: str | None
    card_on_file: str | None  # `Visa •••• 4242, expires 12/2034`, or None
    technician: str | None
    scheduled: str | None
    net_paid: Money
    due: Money  # what one payment for the whole job would collect now
    orders: list[OrderLine]
    payments: list[PaymentLine]
    days: list[Day]
    events: int
    sandboxed: bool
    estimates: list[Estimate]
    approvals: list[ApprovalRequest]  # added work put to the customer, and what they answered

    @property
    def awaiting_approval(self) -> bool:
        return any(line.approval == "pending" for o in self.orders for line in o.order.line_items)


def _card_words(card: Row | None) -> str | None:
    if card is None:
        return None
    return f"{card['brand'].title()} •••• {card['last4']}, expires {card['exp_month']:02d}/{card['exp_year']}"


def job_currency(tx: Tx, job_id: str) -> Currency:
    money = ledger.jobs_money(tx, [job_id])
    return money[job_id].currency if job_id in money else DEFAULT_CURRENCY


def _order_label(index: int, order: Order) -> str:
    stage = order.metadata.get("paymentStage")
    what = stage.replace("_", " ").capitalize() if stage else (order.line_items[0].name if order.line_items else "")
    return f"Order {index}" + (f" · {what}" if what else "")


def _payment_label(payment: Payment, order_label: str) -> str:
    """`Visa •••• 4242 $75.00, Order 1`: short enough for a select on a phone."""
    if payment.card is not None:
        how = f"{payment.card.brand.title()} •••• {payment.card.last4}"
    else:
        how = payment.method.capitalize()
    return f"{how} {display(payment.amount_money)}, {order_label.split(' · ')[0]}"


def _devices(tx: Tx, device_ids: Sequence[str], technicians: dict[str, str]) -> dict[str, str]:
    """One read per device that appears on the trail (a job sees one or two), not per event."""
    found = {}
    for device_id in device_ids:
        row = technicians_store.get_device(tx, device_id)
        if row is not None:
            owner = technicians.get(row["technician_id"], "A technician")
            found[device_id] = f"{owner} ({row['label']})" if row["label"] else f"{owner}'s device"
    return found


def job_page(tx: Tx, job_id: str, public_url: str, sandboxed: bool) -> JobPage:
    row = jobs_store.get(tx, job_id)
    if row is None:
        raise NotFound(f"there is no job {job_id}")
    job = jobs.views(tx, [row])[0]
    order_rows = orders_store.for_job(tx, job_id)
    order_views = orders.views(tx, order_rows)
    labels = {o.id: _order_label(i, o) for i, o in enumerate(order_views, start=1)}
    payment_views = payments.views(tx, payments_store.settled_for_orders(tx, [o.id for o in order_views]))
    events = trail.for_job(tx, job_id).events
    texts = sms_store.for_jobs(tx, [job_id])
    told = {e.data.get("smsId") for e in events if e.type in ("sms.queued", "sms.blocked")}
    events = [e for e in events if not (e.type in rules.LATER_TEXT_EVENTS and e.data.get("smsId") in told)]
    technicians = {t["id"]: t["name"] for t in store.technicians(tx)}
    customer_ids = {job.customer_id} | {e.actor.id for e in events if e.actor.kind == "customer" and e.actor.id}
    customers = customers_store.get_many(tx, list(customer_ids))
    devices = sorted({e.actor.id for e in events if e.actor.kind == "device" and e.actor.id})
    links = links_store.for_orders(tx, [o.id for o in order_views]) + links_store.for_jobs(tx, [job_id])
    invoiced = invoices.for_orders(tx, [o.id for o in order_views])
    estimate_views = estimates.for_jobs(tx, [job_id], public_url)
    approval_views = approvals.for_jobs(tx, [job_id], public_url)
    look = timeline.Lookup(
        technicians=technicians,
        devices=_devices(tx, devices, technicians),
        customers={cid: c["name"] for cid, c in customers.items()},
        orders=labels,
        text_status={m["id"]: m["status"] for m in texts},
        text_errors={m["id"]: m["error_code"] for m in texts if m["error_code"] is not None},
        link_status={link["id"]: links_service.state_of(tx, link).status for link in links},
        pay_pages={link["id"]: url_of(public_url, link["token"]) for link in links} if sandboxed else {},
        invoice_status={row["id"]: "overdue" if now.overdue else now.state for row, now in invoiced},
        invoice_pages={
            row["id"]: invoices.url_of(public_url, row["token"]) for row, _ in invoiced if sandboxed and row["token"]
        },
        phone_page=(lambda number: SANDBOX_PHONE + number) if sandboxed else None,
        estimate_status={e.id: e.state for e in estimate_views},
        estimate_pages={e.id: e.url for e in estimate_views if sandboxed and e.url},
        approval_status={a.id: a.status for a in approval_views},
        approval_pages={a.id: a.url for a in approval_views if sandboxed and a.url},
    )
    days: list[Day] = []
    for event in events:
        entry = timeline.describe(
            event.seq, event.at, event.type, (event.actor.kind, event.actor.id), event.data, look, event.client_at
        )
        heading = rules.day(event.at)
        if not days or days[-1].heading != heading:
            days.append(Day(heading, []))
        days[-1].entries.append(entry)
    customer = customers.get(job.customer_id)
    pay = job.payment
    return JobPage(
        job=job,
        status=rules.status_label(job.status),
        customer=customer["name"] if customer else "",
        customer_phone=customer["phone"] if customer else None,
        card_on_file=_card_words(customers_store.active_card(tx, job.customer_id)),
        technician=technicians.get(job.technician_id) if job.technician_id else None,
        scheduled=rules.when(job.scheduled_at) if job.scheduled_at else None,
        net_paid=Money(pay.paid_money.amount - pay.refunded_money.amount, pay.paid_money.currency),
        due=pay.balance_money,
        orders=[OrderLine(o, labels[o.id], owes=o.state == "open" and o.balance_money.amount > 0) for o in order_views],
        payments=[
            PaymentLine(
                p,
                _payment_label(p, labels.get(p.order_id, p.order_id)),
                Money(p.amount_money.amount - p.refunded_money.amount, p.amount_money.currency),
            )
            for p in payment_views
            if p.status == "captured"
        ],
        days=days,
        events=len(events),
        sandboxed=sandboxed,
        estimates=estimate_views,
        approvals=approval_views,
    )
