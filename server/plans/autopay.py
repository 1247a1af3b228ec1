"""Autopay and dunning (contract §10): each autopay cycle's order charged to the customer's card on
file, exactly once however often or concurrently it runs, and tried again 1, 3 and 7 days after
a decline, with an update-card text each time.

A charge goes the way every card charge goes (`server.payments.charging.charge_saved`): reserved
in one transaction (a charge in flight with source `autopay`, and its attempt row, unique by
cycle and attempt number, with one attempt in flight per cycle), charged off-session with the
charge's id as the processor's idempotency key, settled in one transaction. What a settled
charge means for its cycle (`after_charge`) runs inside that settling transaction, whoever
settles it: this request, or `settle_in_doubt` after a crash or a timeout, which reads the
charge back from the processor. So a process killed between the processor's answer and the
commit is settled on restart from what the processor says, and never charged again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from server.cards import service as cards
from server.clock import format_time, parse_time
from server.customers import store as customers_store
from server.errors import ChargeInDoubt, FlintError
from server.money import Money, display
from server.payments import charging
from server.payments import service as payments
from server.payments.desk import PaymentDesk
from server.payments.processor import SavedCard
from server.payments.service import CardAttempt, Collecting, Target
from server.plans import rules, store
from server.store import Row, Tx
from server.trail import service as trail
from server.wire import Actor
from sms import bodies

log = logging.getLogger("flint.autopay")

SYSTEM = Actor(kind="system", id="autopay")
SOURCE = "autopay"
NEVER_MADE = "not_completed"  # a charge in doubt the processor never saw (`charging.NOT_COMPLETED`)


def lock_of(job_id: str) -> str:
    """The cycle's visit job's payment line: one card payment at a time on it."""
    return charging.lock_key(job_id, None)


def begin(
    tx: Tx, plan_id: str, period: int, at_once: bool, processor: str, public_url: str, business: str
) -> tuple[CardAttempt, SavedCard] | None:
    """In one transaction, under the cycle job's lock: look again, then reserve the cycle's charge
    with its attempt row. None when there is nothing to charge now: paid, not due yet, a charge
    already in flight, or no card on file (a failed attempt, recorded here)."""
    cycle = store.cycle_by_period(tx, plan_id, period)
    plan = store.get(tx, plan_id)
    if cycle is None or plan is None or cycle["autopay"] not in ("due", "retrying", "failed"):
        return None
    if plan["status"] not in ("active", "past_due") or (plan["status"] == "past_due" and not at_once):
        return None
    if not at_once and (cycle["next_attempt_at"] is None or cycle["next_attempt_at"] > tx.now):
        return None
    earlier = store.attempts_of(tx, plan_id, period)
    if any(a["status"] == "pending" for a in earlier):
        return None  # in flight: settled by whoever charges it, or read back from the processor
    owed = payments.owed(tx, Target(order_id=cycle["order_id"]))
    if owed.due <= 0:
        if owed.in_flight <= 0:
            store.update_cycle(tx, plan_id, period, autopay="paid", next_attempt_at=None)  # paid some other way
        return None
    scheduled = not at_once or cycle["autopay"] == "due"
    card = customers_store.active_card(tx, plan["customer_id"])
    number = len(earlier) + 1
    if card is None or card["processor"] != processor:
        store.insert_attempt(
            tx, plan_id=plan_id, period=period, attempt=number, scheduled=int(scheduled), status="declined",
            decline_code="no_card_on_file",
        )  # fmt: skip
        money = Money(owed.due, owed.currency)
        _declined(tx, plan, cycle, scheduled, "no_card_on_file", money, None, public_url, business)
        return None
    customer = customers_store.get(tx, plan["customer_id"])
    attempt = payments.reserve_card(
        tx,
        SYSTEM,
        Target(order_id=cycle["order_id"]),
        owed.due,
        Collecting(source=SOURCE, receipt_to=customer["phone"] if customer else None),
    )
    store.insert_attempt(
        tx, plan_id=plan_id, period=period, attempt=number, charge_id=attempt.charge_id, saved_card_id=card["id"],
        scheduled=int(scheduled), status="pending",
    )  # fmt: skip
    saved = SavedCard(
        reference=card["reference"],
        customer=card["processor_customer"],
        brand=card["brand"],
        last4=card["last4"],
        exp_month=card["exp_month"],
        exp_year=card["exp_year"],
    )
    return attempt, saved


def after_charge(tx: Tx, charge: Row, public_url: str, business: str) -> None:
    """In the transaction that settles an autopay charge: its cycle paid, or the decline's place
    in the dunning schedule, with the trail events and texts."""
    attempt = store.attempt_of_charge(tx, charge["id"])
    if attempt is None or attempt["status"] != "pending":
        return
    plan = store.get(tx, attempt["plan_id"])
    cycle = store.cycle_by_period(tx, attempt["plan_id"], attempt["period"])
    assert plan is not None and cycle is not None
    money = Money(charge["amount"], charge["currency"])
    if charge["status"] == "captured":
        store.settle_attempt(tx, attempt["n"], "captured", None)
        store.update_cycle(tx, plan["id"], cycle["period"], autopay="paid", next_attempt_at=None)
        trail.record(tx, "autopay.charged", SYSTEM, _data(plan, cycle, money, charge), job_id=cycle["job_id"])
        if plan["status"] == "past_due":
            store.update(tx, plan["id"], status="active")  # a charge succeeded: billing goes on
        return
    code = charge["decline_code"] or "card_declined"
    store.settle_attempt(tx, attempt["n"], "declined", code)
    if code == NEVER_MADE:
        return  # the processor never saw it: tried again at the next run, the customer told nothing
    _declined(tx, plan, cycle, bool(attempt["scheduled"]), code, money, charge, public_url, business)


def _data(plan: Row, cycle: Row, money: Money, charge: Row | None = None, **more: object) -> dict[str, object]:
    data: dict[str, object] = {
        "servicePlanId": plan["id"],
        "planName": plan["name"],
        "periodStart": cycle["period_start"],
        "periodEnd": cycle["period_end"],
        "orderId": cycle["order_id"],
        "amountMoney": money,
    }
    if charge is not None:
        data["chargeId"] = charge["id"]
        if charge["card_last4"]:
            data["card"] = {"brand": charge["card_brand"], "last4": charge["card_last4"]}
    data.update({k: v for k, v in more.items() if v is not None})
    return data


def _declined(
    tx: Tx,
    plan: Row,
    cycle: Row,
    scheduled: bool,
    code: str,
    money: Money,
    charge: Row | None,
    public_url: str,
    business: str,
) -> None:
    now = parse_time(tx.now)
    first = parse_time(cycle["first_declined_at"]) if cycle["first_declined_at"] else now
    was = parse_time(cycle["next_attempt_at"]) if cycle["next_attempt_at"] else None
    after = rules.after_decline(first, cycle["retries"], scheduled, cycle["autopay"], was)
    store.update_cycle(
        tx,
        plan["id"],
        cycle["period"],
        autopay=after.status,
        retries=after.retries,
        first_declined_at=format_time(first),
        next_attempt_at=_time(after.next_attempt_at),
    )
    trail.record(
        tx,
        "autopay.failed",
        SYSTEM,
        _data(plan, cycle, money, charge, declineCode=code, nextAttemptAt=_time(after.next_attempt_at)),
        job_id=cycle["job_id"],
        order_id=cycle["order_id"],
    )
    _text_update_card(tx, plan, cycle, money, public_url, business)
    if after.status == "failed" and plan["status"] != "past_due":
        store.update(tx, plan["id"], status="past_due")
        trail.record(tx, "plan.past_due", SYSTEM, _data(plan, cycle, money), job_id=cycle["job_id"])


def _time(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def _text_update_card(tx: Tx, plan: Row, cycle: Row, money: Money, public_url: str, business: str) -> None:
    """A card link for this plan, texted to the customer: a card saved on it is tried at once."""
    customer = customers_store.get(tx, plan["customer_id"])
    if customer is None or not customer["phone"]:
        return
    link = cards.open_link(tx, plan["customer_id"], plan_id=plan["id"], job_id=cycle["job_id"])
    body = bodies.update_card(business, display(money), plan["name"], cards.url_of(public_url, link["token"]))
    cards.text_link(tx, SYSTEM, link, None, public_url, business, body=body)


# Running it.


async def charge(
    desk: PaymentDesk, public_url: str, plan_id: str, period: int, job_id: str, *, at_once: bool = False
) -> None:
    """Charge one cycle if it is due (or, `at_once`, whenever it is owed). A charge with no answer
    stays in doubt and is settled by `settle_in_doubt`, never charged again."""
    unit = partial(
        begin,
        plan_id=plan_id,
        period=period,
        at_once=at_once,
        processor=desk.processor.name,
        public_url=public_url,
        business=desk.business,
    )
    try:
        await charging.charge_saved(desk, lock_of(job_id), unit, SYSTEM)
    except ChargeInDoubt:
        log.warning("autopay of plan %s, period %s, is in doubt; settled with the processor", plan_id, period)


async def run_due(desk: PaymentDesk, public_url: str) -> int:
    """Every autopay charge due now (a newly billed cycle, a retry whose day came). Returns how
    many cycles were looked at."""
    due = await desk.db.read(lambda tx: store.autopay_due(tx, tx.now))
    for row in due:
        try:
            await charge(desk, public_url, row["plan_id"], row["period"], row["job_id"])
        except FlintError:
            log.exception("autopay of plan %s, period %s, failed; tried again next run", row["plan_id"], row["period"])
    return len(due)


async def try_owed(desk: PaymentDesk, public_url: str, plan_id: str) -> None:
    """Every owed cycle of the plan, tried at once (the office resumed it, or a card was saved)."""
    for row in await desk.db.read(partial(store.owed_cycles, plan_id=plan_id)):
        await charge(desk, public_url, plan_id, row["period"], row["job_id"], at_once=True)


async def card_saved(desk: PaymentDesk, public_url: str, customer_id: str) -> None:
    """A card was saved on a card page: the customer's owed autopay cycles are tried at once."""
    for plan in await desk.db.read(partial(store.autopay_plans_of, customer_id=customer_id)):
        await try_owed(desk, public_url, plan["id"])
