"""Estimates (contract §8): what the office and the platform read of them, sending (the content
frozen under its hash, the customer texted its page) and voiding. Drafting is `drafting.py`; the
customer's answer on the page (approving with its deposit as one act, declining) and expiry are
`answers.py`."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from functools import partial

from server.approvals import store as approvals_store
from server.clock import format_time, parse_time
from server.customers import store as customers_store
from server.errors import NotFound, RuleViolation
from server.estimates import rules, store
from server.estimates.rules import Line, Option
from server.estimates.types import (
    Deposit,
    Estimate,
    EstimateApproval,
    EstimateLine,
    EstimateOption,
)
from server.jobs import store as jobs_store
from server.messages import service as messages
from server.money import Currency, Money, display
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.wire import Actor
from sms import bodies

SYSTEM = Actor(kind="system", id="estimates")
DEFAULT_LIFETIME = timedelta(days=30)  # an estimate's page works this long after its first send
WORK_STAGE = "work"


def url_of(public_url: str, token: str) -> str:
    return f"{public_url}/estimates/{token}"


def new_token() -> str:
    """192 random bits: the link is the customer's credential for the page."""
    return secrets.token_urlsafe(24)


# Reading.


def options_of(row: Row) -> list[Option]:
    return store.decode_options(row["options"])


def _line(line: Line, currency: Currency) -> EstimateLine:
    return EstimateLine(
        uid=line.uid,
        name=line.name,
        quantity=line.quantity,
        unit_price_money=Money(line.unit_amount, currency),
        kind=line.kind,  # type: ignore[arg-type]
        optional=line.optional,
        total_money=Money(line.amount, currency),
    )


def _approval(row: Row) -> EstimateApproval:
    return EstimateApproval(
        option_id=row["option_id"],
        optional_uids=approvals_store.decode_uids(row["optional_uids"]),
        signer_name=row["signer_name"],
        channel="page",
        at=row["at"],
        ip=row["ip"],
        user_agent=row["user_agent"],
        content_hash=row["content_hash"],
        total_money=Money(row["total_amount"], row["currency"]),
        deposit_money=Money(row["deposit_amount"], row["currency"]),
        payment_id=row["payment_id"],
        order_id=row["order_id"],
    )


def deposit_of(row: Row) -> Deposit | None:
    if row["deposit_percentage"] is not None:
        return Deposit(percentage=row["deposit_percentage"])
    if row["deposit_amount"] is not None:
        return Deposit(amount_money=Money(row["deposit_amount"], row["currency"]))
    return None


def views(tx: Tx, rows: Sequence[Row], public_url: str) -> list[Estimate]:
    approvals = approvals_store.approvals_of_estimates(tx, [row["id"] for row in rows])
    jobs = {job["id"]: job for job in jobs_store.get_many(tx, list({row["job_id"] for row in rows}))}
    found = []
    for row in rows:
        currency = row["currency"]
        approval = approvals.get(row["id"])
        job = jobs.get(row["job_id"])
        found.append(
            Estimate(
                id=row["id"],
                number=row["number"],
                job_id=row["job_id"],
                customer_id=job["customer_id"] if job is not None else None,
                title=row["title"],
                state=rules.state_of(row["state"], row["expires_at"], tx.now),  # type: ignore[arg-type]
                version=row["version"],
                options=[
                    EstimateOption(
                        id=option.id,
                        name=option.name,
                        line_items=[_line(line, currency) for line in option.lines],
                        total_money=Money(option.total, currency),
                    )
                    for option in options_of(row)
                ],
                deposit=deposit_of(row),
                expires_at=row["expires_at"],
                terms=row["terms"],
                content_hash=row["content_hash"],
                url=url_of(public_url, row["token"]) if row["token"] else None,
                approval=_approval(approval) if approval is not None else None,
                decline_reason=row["decline_reason"],
                sent_at=row["sent_at"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
        )
    return found


def load(tx: Tx, estimate_id: str) -> Row:
    row = store.get(tx, estimate_id)
    if row is None:
        raise NotFound(f"no estimate {estimate_id}")
    return row


def get(tx: Tx, estimate_id: str, public_url: str) -> Estimate:
    return views(tx, [load(tx, estimate_id)], public_url)[0]


def list_page(tx: Tx, after: int, limit: int, job_id: str | None, public_url: str) -> Page[Estimate]:
    return paginate(store.page(tx, after, limit, job_id), limit, partial(views, tx, public_url=public_url))


def first_open_url(tx: Tx, public_url: str) -> str | None:
    row = store.first_open(tx)
    return url_of(public_url, row["token"]) if row is not None else None


def for_jobs(tx: Tx, job_ids: Sequence[str], public_url: str) -> list[Estimate]:
    return views(tx, store.for_jobs(tx, job_ids), public_url)


# Sending.


def customer_phone(tx: Tx, job_id: str) -> str | None:
    job = jobs_store.get(tx, job_id)
    customer = customers_store.get(tx, job["customer_id"]) if job is not None else None
    return customer["phone"] if customer is not None else None


def send(tx: Tx, actor: Actor, estimate_id: str, to: str | None, public_url: str, business: str) -> Estimate:
    """The first send freezes the content under its hash and opens the page; sending an open
    estimate again only texts it again."""
    row = load(tx, estimate_id)
    state = rules.state_of(row["state"], row["expires_at"], tx.now)
    if state == "expired":
        raise RuleViolation("estimate_expired", f"estimate {estimate_id} expired at {row['expires_at']}")
    if state not in ("draft", "open"):
        raise RuleViolation("estimate_not_open", f"estimate {estimate_id} is {state}; it cannot be sent")
    phone = to or customer_phone(tx, row["job_id"])
    if phone is None:
        raise RuleViolation("no_recipient", "the job's customer has no phone; say `to`")
    first = state == "draft"
    if first:
        expires_at = row["expires_at"] or format_time(parse_time(tx.now) + DEFAULT_LIFETIME)
        if expires_at <= tx.now:
            raise RuleViolation("estimate_expired", f"estimate {estimate_id}'s expiresAt has passed; change it first")
        content, content_hash = rules.frozen(
            rules.content(
                row["title"],
                options_of(row),
                row["currency"],
                row["deposit_percentage"],
                row["deposit_amount"],
                row["terms"],
                expires_at,
            )
        )
        store.update(
            tx,
            estimate_id,
            state="open",
            expires_at=expires_at,
            content=content,
            content_hash=content_hash,
            token=new_token(),
            sent_at=tx.now,
        )
    sent = load(tx, estimate_id)
    trail.record(
        tx,
        "estimate.sent",
        actor,
        {"estimateId": estimate_id, "number": sent["number"], "contentHash": sent["content_hash"], "to": phone,
         "first": first},
        job_id=sent["job_id"],
    )  # fmt: skip
    options = options_of(sent)
    amount = display(Money(rules.smallest(options), sent["currency"]))
    body = bodies.estimate(
        business,
        sent["number"],
        sent["title"],
        f"from {amount}" if len(options) > 1 else amount,
        url_of(public_url, sent["token"]),
    )
    messages.queue(tx, actor, to=phone, body=body, job_id=sent["job_id"], order_id=None)
    store.update(tx, estimate_id, last_texted_to=phone)
    return get(tx, estimate_id, public_url)


def void(tx: Tx, actor: Actor, estimate_id: str, public_url: str) -> Estimate:
    row = load(tx, estimate_id)
    state = rules.state_of(row["state"], row["expires_at"], tx.now)
    if state == "voided":
        return get(tx, estimate_id, public_url)
    if state == "approved":
        raise RuleViolation("estimate_approved", f"estimate {estimate_id} was approved; it is the job's work order now")
    if state == "declined":
        raise RuleViolation("estimate_not_open", f"estimate {estimate_id} was declined by the customer")
    if store.charge_in_flight(tx, estimate_id) is not None:
        raise RuleViolation(
            "estimate_payment_in_flight", f"the customer's deposit on estimate {estimate_id} is being confirmed"
        )
    store.update(tx, estimate_id, state="voided", decided_at=tx.now)
    trail.record(
        tx, "estimate.voided", actor, {"estimateId": estimate_id, "number": row["number"]}, job_id=row["job_id"]
    )
    return get(tx, estimate_id, public_url)
