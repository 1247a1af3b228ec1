"""Service plans and the billing run.

A cycle bills one period of one plan: a visit job for the period (unassigned, scheduled at its
start), an order of the plan's line items on it, then a published invoice or the order's balance
link texted to the customer, and the cycle row, unique by plan and period, all in one
transaction. So a run killed midway has lost nothing it did and left nothing half done, and
runs side by side (the scheduler's, `POST /v1/billing/run`, six at once) bill each period once:
the one writer serialises the cycles, and each looks again before it bills.

The plan keeps the next period to look at (`next_period`), so what is due lives in the store,
not in the scheduler: a run after a gap catches up on every period missed, in order.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from functools import partial
from typing import Literal

import msgspec

from server.clock import format_time, parse_date, parse_time, today
from server.customers import store as customers_store
from server.errors import FieldError, FlintError, InvalidRequest, NotFound, RuleViolation
from server.ids import new_id
from server.invoices import service as invoices
from server.invoices.types import CreateInvoice, PaymentRequestIn, RecipientIn
from server.jobs import service as jobs
from server.jobs.types import CreateJob
from server.links import service as links
from server.money import Money
from server.orders import rules as order_rules
from server.orders import service as orders
from server.orders.lines import line_of
from server.orders.types import CreateOrder, LineItemIn
from server.payments.service import Target
from server.plans import rules, store, texts
from server.plans.types import CreateServicePlan, Cycle, CyclePayment, PlanLine, ServicePlan
from server.store import Database, Row, Tx
from server.store.paging import Page, each, paginate
from server.trail import service as trail
from server.wire import Actor
from sync import ledger

log = logging.getLogger("flint.billing")

SYSTEM = Actor(kind="system", id="billing")
NO_ADDRESS = "Address on file"
MAX_TITLE = 200
LINK_LIFETIME = timedelta(days=30)

_encode_lines = msgspec.json.Encoder().encode
_decode_lines = msgspec.json.Decoder(list[LineItemIn]).decode


def _pauses(rows: Sequence[Row]) -> list[rules.Pause]:
    return [
        rules.Pause(
            date.fromisoformat(r["paused_on"]), date.fromisoformat(r["resumed_on"]) if r["resumed_on"] else None
        )
        for r in rows
    ]


def _next_billing(row: Row, pauses: Sequence[rules.Pause]) -> date | None:
    if row["status"] != "active":
        return None
    start, interval = date.fromisoformat(row["start_date"]), row["interval_unit"]
    return rules.period_start(start, interval, rules.next_period(start, interval, row["next_period"], pauses))


def views(tx: Tx, rows: Sequence[Row]) -> list[ServicePlan]:
    paused = store.pauses(tx, [r["id"] for r in rows])
    plans = []
    for row in rows:
        currency = row["currency"]
        items = _decode_lines(row["line_items"])
        lines = [
            PlanLine(
                name=i.name,
                quantity=i.quantity,
                unit_price_money=i.unit_price_money,
                kind=i.kind,
                total_money=Money(ledger.line_amount(i.quantity, i.unit_price_money.amount), currency),
            )
            for i in items
        ]
        upcoming = _next_billing(row, _pauses(paused.get(row["id"], [])))
        plans.append(
            ServicePlan(
                id=row["id"],
                customer_id=row["customer_id"],
                name=row["name"],
                address=row["address"],
                line_items=lines,
                total_money=Money(order_rules.base_of(line_of(_line_row(i)) for i in items), currency),
                interval=row["interval_unit"],
                start_date=row["start_date"],
                billing=row["billing"],
                due_in_days=row["due_in_days"],
                status=row["status"],
                next_billing_date=upcoming.isoformat() if upcoming is not None else None,
                cycles_billed=row["cycles"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                cancelled_at=row["cancelled_at"],
            )
        )
    return plans


def _line_row(item: LineItemIn) -> dict[str, object]:
    return {"quantity": item.quantity, "unit_amount": item.unit_price_money.amount, "kind": item.kind}


def load(tx: Tx, plan_id: str) -> Row:
    row = store.get(tx, plan_id)
    if row is None:
        raise NotFound(f"no service plan {plan_id}")
    return row


def get(tx: Tx, plan_id: str) -> ServicePlan:
    return views(tx, [load(tx, plan_id)])[0]


def list_page(tx: Tx, after: int, limit: int, customer_id: str | None) -> Page[ServicePlan]:
    return paginate(store.page(tx, after, limit, customer_id), limit, partial(views, tx))


def create(tx: Tx, actor: Actor, data: CreateServicePlan) -> ServicePlan:
    try:
        start = parse_date(data.start_date)
    except ValueError as exc:
        raise InvalidRequest(f"startDate: {exc}", [FieldError("startDate", str(exc))]) from None
    if customers_store.get(tx, data.customer_id) is None:
        raise RuleViolation("unknown_customer", f"no customer {data.customer_id}")
    if data.billing == "autopay" and customers_store.active_card(tx, data.customer_id) is None:
        raise RuleViolation(
            "no_card_on_file",
            f"customer {data.customer_id} has no card on file; text them a card link first",
        )
    items = data.line_items
    currency = items[0].unit_price_money.currency
    order_rules.check_currency(currency, (i.unit_price_money.currency for i in items), of="this plan")
    for index, item in enumerate(items):
        order_rules.check_client_line(item.kind)
        order_rules.check_size(
            ledger.line_amount(item.quantity, item.unit_price_money.amount), f"line item {index + 1}"
        )
    total = order_rules.check_new_base(order_rules.base_of(line_of(_line_row(i)) for i in items), 0, 0, 0, False)
    if total == 0:
        raise RuleViolation("nothing_due", "the plan's line items total nothing; there would be nothing to bill")
    plan_id = new_id("plan")
    first = 0 if data.backfill else rules.period_containing(start, data.interval, today(tx.now))
    store.insert(
        tx,
        id=plan_id,
        next_period=first,
        customer_id=data.customer_id,
        name=data.name,
        address=data.address,
        line_items=_encode_lines(items).decode(),
        currency=currency,
        interval_unit=data.interval,
        start_date=start.isoformat(),
        billing=data.billing,
        due_in_days=data.due_in_days,
    )
    return get(tx, plan_id)


def pause(tx: Tx, actor: Actor, plan_id: str) -> ServicePlan:
    """Bill nothing until resumed. Periods that start while paused are skipped (`rules.skipped`)."""
    row = load(tx, plan_id)
    rules.check_not_cancelled(row["status"], plan_id)
    if row["status"] in ("active", "past_due"):
        store.pause(tx, plan_id, today(tx.now).isoformat())
        store.update(tx, plan_id, status="paused")
    return get(tx, plan_id)


def resume(tx: Tx, actor: Actor, plan_id: str) -> ServicePlan:
    """A paused plan bills again; a past-due one too, and its owed cycle is tried at once (by the
    caller, once this commits: `autopay.try_owed`)."""
    row = load(tx, plan_id)
    rules.check_not_cancelled(row["status"], plan_id)
    if row["status"] == "past_due":
        store.update(tx, plan_id, status="active")
    if row["status"] == "paused":
        store.resume(tx, plan_id, today(tx.now).isoformat())
        store.update(tx, plan_id, status="active")
    return get(tx, plan_id)


def cancel(tx: Tx, actor: Actor, plan_id: str) -> ServicePlan:
    """Bill nothing more; what was billed stays billed."""
    row = load(tx, plan_id)
    if row["status"] != "cancelled":
        if row["status"] == "paused":
            store.resume(tx, plan_id, today(tx.now).isoformat())
        store.update(tx, plan_id, status="cancelled", cancelled_at=tx.now)
    return get(tx, plan_id)


def _payment(row: Row) -> CyclePayment | None:
    if row["autopay"] is None:
        return None
    status = None if row["autopay"] == "due" else row["autopay"]
    return CyclePayment(status=status, attempts=row["attempts"], next_attempt_at=row["next_attempt_at"])


def _cycle(row: Row) -> Cycle:
    return Cycle(
        payment=_payment(row),
        period_start=row["period_start"],
        period_end=row["period_end"],
        order_id=row["order_id"],
        job_id=row["job_id"],
        created_at=row["created_at"],
        invoice_id=row["invoice_id"],
        payment_link_id=row["payment_link_id"],
    )


def cycle(tx: Tx, plan_id: str, period_start: str) -> Cycle:
    row = store.cycle_of(tx, plan_id, period_start)
    if row is None:
        raise NotFound(f"service plan {plan_id} has no cycle from {period_start}")
    return _cycle(row)


def cycles_page(tx: Tx, plan_id: str, after: int, limit: int) -> Page[Cycle]:
    load(tx, plan_id)
    return paginate(store.cycles_page(tx, plan_id, after, limit), limit, each(_cycle))


# Billing.

Step = Literal["billed", "moved", "done"]


def bill_next(tx: Tx, plan_id: str, as_of: date, public_url: str, business: str) -> Step:
    """Bill the plan's next period if it has started by `as_of`, in this one transaction:
    `billed`, `moved` (nothing billed, but the plan moved on; look again) or `done`."""
    row = store.get(tx, plan_id)
    if row is None or row["status"] != "active":
        return "done"
    start, interval = date.fromisoformat(row["start_date"]), row["interval_unit"]
    n = rules.next_period(start, interval, row["next_period"], _pauses(store.pauses(tx, [plan_id])[plan_id]))
    begins = rules.period_start(start, interval, n)
    if begins > as_of:
        if n != row["next_period"]:
            store.update(tx, plan_id, next_period=n)  # past periods skipped while paused
        return "done"
    store.update(tx, plan_id, next_period=n + 1)
    if store.cycle_of(tx, plan_id, begins.isoformat()) is not None:
        return "moved"
    _bill(tx, row, n, begins, rules.period_end(start, interval, n), public_url, business)
    after = rules.next_period(start, interval, n + 1, _pauses(store.pauses(tx, [plan_id])[plan_id]))
    if rules.period_start(start, interval, after) > as_of:
        # The last period due now: one text for it and any billed before it in this catch-up
        # (each period is its own transaction, so a crash midway leaves them for this one).
        texts.tell_customer(tx, row, public_url, business)
    return "billed"


def _title(name: str, label: str) -> str:
    room = MAX_TITLE - len(label) - 3
    return f"{name if len(name) <= room else name[: room - 1] + '…'} · {label}"


def _bill(tx: Tx, plan: Row, n: int, begins: date, ends: date, public_url: str, business: str) -> None:
    plan_id = plan["id"]
    customer = customers_store.get(tx, plan["customer_id"])
    assert customer is not None
    label = rules.period_label(begins, ends)
    job = jobs.create(
        tx,
        SYSTEM,
        CreateJob(
            customer_id=customer["id"],
            title=_title(plan["name"], label),
            address=plan["address"] or NO_ADDRESS,
            scheduled_at=format_time(datetime.combine(begins, clock_time(0), UTC)),
        ),
    )
    metadata = {
        "jobId": job.id,
        "servicePlanId": plan_id,
        "periodStart": begins.isoformat(),
        "paymentStage": "recurring",
    }
    order = orders.create(
        tx,
        SYSTEM,
        CreateOrder(line_items=_decode_lines(plan["line_items"]), metadata=metadata, customer_id=customer["id"]),
    )
    invoice_id = link_id = None
    autopay = next_attempt_at = None
    if plan["billing"] == "autopay":
        autopay, next_attempt_at = "due", tx.now  # charged by the autopay run, once this commits
    elif plan["billing"] == "invoice":
        due = max(begins, today(tx.now)) + timedelta(days=plan["due_in_days"])
        made = invoices.create(
            tx,
            SYSTEM,
            CreateInvoice(
                order_id=order.id,
                recipient=RecipientIn(name=customer["name"], phone=customer["phone"], email=customer["email"]),
                payment_requests=[PaymentRequestIn(type="balance", due_date=due.isoformat())],
            ),
            public_url,
        )
        invoice_id = invoices.publish(tx, SYSTEM, made.id, public_url, business, notify=False).id
    else:
        lifetime = max(LINK_LIFETIME, timedelta(days=plan["due_in_days"]))
        opened = links.open_link(
            tx,
            SYSTEM,
            Target(order_id=order.id),
            name=_title(plan["name"], label),
            amount=None,
            expires_at=format_time(parse_time(tx.now) + lifetime),
        )
        link_id = opened.link["id"]
    store.insert_cycle(
        tx,
        plan_id=plan_id,
        period=n,
        period_start=begins.isoformat(),
        period_end=ends.isoformat(),
        job_id=job.id,
        order_id=order.id,
        invoice_id=invoice_id,
        payment_link_id=link_id,
        sms_id=None,  # set by the text that tells the customer (`texts.tell_customer`)
        autopay=autopay,
        next_attempt_at=next_attempt_at,
    )
    trail.record(
        tx,
        "plan.cycle_billed",
        SYSTEM,
        {
            "servicePlanId": plan_id,
            "planName": plan["name"],
            "periodStart": begins.isoformat(),
            "periodEnd": ends.isoformat(),
            "billing": plan["billing"],
            "orderId": order.id,
            "totalMoney": order.total_money,
            "invoiceId": invoice_id,
            "paymentLinkId": link_id,
        },
        job_id=job.id,
        order_id=order.id,
    )


def due_plans(tx: Tx, as_of: date) -> list[str]:
    """Active plans whose next period has started by `as_of`."""
    return [
        row["id"]
        for row in store.active(tx)
        if rules.period_start(date.fromisoformat(row["start_date"]), row["interval_unit"], row["next_period"]) <= as_of
    ]


async def run_billing(db: Database, as_of: date | None, public_url: str, business: str) -> int:
    """The billing run, shared by the scheduler and `POST /v1/billing/run`: every period that has
    started by `as_of` (default today) and is not billed yet, one transaction per cycle. Returns
    how many cycles this run billed."""
    day = as_of or today(db.now())
    created = 0
    for plan_id in await db.read(partial(due_plans, as_of=day)):
        bill = partial(bill_next, plan_id=plan_id, as_of=day, public_url=public_url, business=business)
        try:
            while (step := await db.write(bill)) != "done":
                if step == "billed":
                    created += 1
        except FlintError:
            # A rule the plan breaks now (its customer's texts, a total too large, ...): the
            # other plans are billed; this one is tried again at the next run.
            log.exception("service plan %s could not be billed", plan_id)
    return created
