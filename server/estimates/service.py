"""Estimates (contract §8): drafted by the office with up to five options, sent (the content frozen
under its hash, the customer texted its page), then approved on that page (with its deposit,
as one act), declined, expired or voided. Approving makes, in one transaction, the job's work
order with the chosen lines, the deposit's payment on it, the approval record and the state."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import msgspec

from server.approvals import store as approvals_store
from server.clock import format_time, parse_time
from server.customers import store as customers_store
from server.errors import FieldError, InvalidRequest, NotFound, RuleViolation, VersionConflict
from server.estimates import rules, store
from server.estimates.rules import Choice, Line, Option
from server.estimates.types import (
    CreateEstimate,
    Deposit,
    DepositIn,
    Estimate,
    EstimateApproval,
    EstimateLine,
    EstimateOption,
    EstimateOptionIn,
    UpdateEstimate,
)
from server.ids import new_id
from server.jobs import store as jobs_store
from server.messages import service as messages
from server.money import Currency, Money, MoneyIn, PositiveMoneyIn, display
from server.orders import ledger
from server.orders import service as orders
from server.orders import store as orders_store
from server.orders.types import LineItemIn
from server.payments import service as payments
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


# Drafting.


@dataclass(frozen=True, slots=True)
class Content:
    """What the office says an estimate is, checked."""

    options: list[Option]
    currency: Currency
    percentage: int | None
    amount: int | None


def _options_in(given: Sequence[EstimateOptionIn]) -> tuple[list[Option], list[Currency]]:
    options: list[Option] = []
    currencies: list[Currency] = []
    for index, option in enumerate(given):
        lines = []
        for item in option.line_items:
            currencies.append(item.unit_price_money.currency)
            lines.append(
                Line(
                    uid=item.uid or str(uuid.uuid4()),
                    name=item.name,
                    quantity=item.quantity,
                    unit_amount=item.unit_price_money.amount,
                    kind=item.kind,
                    optional=item.optional,
                )
            )
        if all(line.optional for line in lines):
            field = f"options[{index}].lineItems"
            raise InvalidRequest(f"{field}: an option needs a line that is not optional", [
                FieldError(field, "needs at least one line that is not optional")
            ])  # fmt: skip
        options.append(Option(id=new_id("opt"), name=option.name, lines=lines))
    return options, currencies


def _deposit_in(deposit: DepositIn | None, currency: Currency) -> tuple[int | None, int | None]:
    if deposit is None:
        return None, None
    if (deposit.percentage is None) == (deposit.amount_money is None):
        raise InvalidRequest(
            "a deposit is a percentage or an amount",
            [FieldError("deposit", "give exactly one of percentage and amountMoney")],
        )
    if deposit.amount_money is not None:
        if deposit.amount_money.currency != currency:
            raise RuleViolation(
                "currency_mismatch",
                f"the estimate is in {currency}, so its deposit cannot be in {deposit.amount_money.currency}",
            )
        return None, deposit.amount_money.amount
    return deposit.percentage, None


def _expiry_in(expires_at: str | None, now: str) -> str | None:
    if expires_at is None:
        return None
    try:
        moment = parse_time(expires_at)
    except ValueError as exc:
        raise InvalidRequest(f"expiresAt: {exc}", [FieldError("expiresAt", str(exc))]) from None
    if format_time(moment) <= now:
        raise InvalidRequest("expiresAt is in the past", [FieldError("expiresAt", "must be in the future")])
    return format_time(moment)


def _check_job_currency(tx: Tx, job_id: str, currency: str) -> None:
    """The work order an approval makes joins the job: one currency a job."""
    for existing in orders_store.currencies_for_job(tx, job_id):
        if existing != currency:
            raise RuleViolation(
                "currency_mismatch", f"job {job_id} is in {existing}, so an estimate in {currency} cannot join it"
            )


def _content(tx: Tx, job_id: str, options: Sequence[EstimateOptionIn], deposit: DepositIn | None) -> Content:
    made, currencies = _options_in(options)
    rules.check_options(made, currencies)
    currency = currencies[0]
    _check_job_currency(tx, job_id, currency)
    percentage, amount = _deposit_in(deposit, currency)
    return Content(made, currency, percentage, amount)


def _smallest(options: Sequence[Option]) -> int:
    return min(option.total for option in options)


def create(tx: Tx, actor: Actor, data: CreateEstimate, public_url: str) -> Estimate:
    if jobs_store.get(tx, data.job_id) is None:
        raise RuleViolation("unknown_job", f"no job {data.job_id}")
    content = _content(tx, data.job_id, data.options, data.deposit)
    estimate_id, number = new_id("est"), store.next_number(tx)
    store.insert(
        tx,
        id=estimate_id,
        number=number,
        job_id=data.job_id,
        title=data.title,
        state="draft",
        version=1,
        currency=content.currency,
        options=store.encode_options(content.options),
        deposit_percentage=content.percentage,
        deposit_amount=content.amount,
        terms=data.terms,
        expires_at=_expiry_in(data.expires_at, tx.now),
    )
    trail.record(
        tx,
        "estimate.created",
        actor,
        {
            "estimateId": estimate_id,
            "number": number,
            "title": data.title,
            "options": len(content.options),
            "fromMoney": Money(_smallest(content.options), content.currency),
        },
        job_id=data.job_id,
    )
    return get(tx, estimate_id, public_url)


def _check_draft(row: Row, version: int | None = None) -> None:
    if row["state"] != "draft":
        raise RuleViolation(
            "estimate_not_draft",
            f"estimate {row['id']} is {row['state']}: its content is frozen once sent; void it and make another",
        )
    if version is not None and version != row["version"]:
        raise VersionConflict(
            f"estimate {row['id']} is at version {row['version']}, not {version}", current_version=row["version"]
        )


def update(tx: Tx, actor: Actor, estimate_id: str, data: UpdateEstimate, public_url: str) -> Estimate:
    """A draft's fields, as given (`null` clears the deposit, the expiry or the terms)."""
    row = load(tx, estimate_id)
    _check_draft(row, data.version)
    fields: dict[str, object] = {}
    if not isinstance(data.title, msgspec.UnsetType):
        fields["title"] = data.title
    if not isinstance(data.options, msgspec.UnsetType) or not isinstance(data.deposit, msgspec.UnsetType):
        deposit = _deposit_from(row) if isinstance(data.deposit, msgspec.UnsetType) else data.deposit
        if isinstance(data.options, msgspec.UnsetType):  # the deposit alone, in the draft's currency
            percentage, amount = _deposit_in(deposit, row["currency"])
            fields.update(deposit_percentage=percentage, deposit_amount=amount)
        else:
            content = _content(tx, row["job_id"], data.options, deposit)
            fields.update(
                options=store.encode_options(content.options),
                currency=content.currency,
                deposit_percentage=content.percentage,
                deposit_amount=content.amount,
            )
    if not isinstance(data.expires_at, msgspec.UnsetType):
        fields["expires_at"] = _expiry_in(data.expires_at, tx.now)
    if not isinstance(data.terms, msgspec.UnsetType):
        fields["terms"] = data.terms
    store.update(tx, estimate_id, version=True, **fields)
    trail.record(
        tx,
        "estimate.updated",
        actor,
        {"estimateId": estimate_id, "number": row["number"], "changes": sorted(fields)},
        job_id=row["job_id"],
    )
    return get(tx, estimate_id, public_url)


def _deposit_from(row: Row) -> DepositIn | None:
    if row["deposit_percentage"] is not None:
        return DepositIn(percentage=row["deposit_percentage"])
    if row["deposit_amount"] is not None:
        return DepositIn(amount_money=PositiveMoneyIn(row["deposit_amount"], row["currency"]))
    return None


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
    amount = display(Money(_smallest(options), sent["currency"]))
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


# The customer's answer.


def customer_of(tx: Tx, row: Row) -> Actor:
    job = jobs_store.get(tx, row["job_id"])
    return Actor(kind="customer", id=job["customer_id"] if job is not None else None)


def kept(tx: Tx, row: Row) -> int:
    """What the job keeps on its deposit orders now (the one ledger's figure)."""
    return ledger.kept_on_deposits(tx, row["job_id"])


def deposit_for(tx: Tx, row: Row, choice: Choice) -> int:
    return rules.deposit_due(choice.total, row["deposit_percentage"], row["deposit_amount"], kept(tx, row))


def check_answerable(tx: Tx, row: Row) -> None:
    """The customer can approve or decline: the estimate is open, not past its expiry, and no
    approval with a deposit is being confirmed."""
    state = rules.state_of(row["state"], row["expires_at"], tx.now)
    if state == "approved":
        raise AlreadyApproved(row["id"])
    if state != "open":
        raise RuleViolation(f"estimate_{state}" if state in ("expired", "declined", "voided") else "estimate_not_open",
                            f"estimate {row['id']} is {state}")  # fmt: skip
    if store.charge_in_flight(tx, row["id"]) is not None:
        raise InFlight(row["id"])


class AlreadyApproved(RuleViolation):
    status = 409

    def __init__(self, estimate_id: str) -> None:
        super().__init__("estimate_approved", f"estimate {estimate_id} was approved already")


class InFlight(RuleViolation):
    def __init__(self, estimate_id: str) -> None:
        super().__init__("estimate_payment_in_flight", f"a deposit on estimate {estimate_id} is being confirmed")


@dataclass(frozen=True, slots=True)
class Signature:
    signer_name: str
    ip: str | None
    user_agent: str | None
    at: str | None = None  # when the customer signed (None: now)


def approve(
    tx: Tx, row: Row, choice: Choice, signature: Signature, deposit: int, charge_id: str | None, actor: Actor
) -> str:
    """In one transaction: the job's work order with the chosen lines (money the job keeps on
    deposit orders applied to it by the one ledger), the deposit's payment on it, the approval
    record and the estimate approved. Returns the approval's id."""
    currency = row["currency"]
    items = [
        LineItemIn(
            name=line.name,
            quantity=line.quantity,
            unit_price_money=MoneyIn(line.unit_amount, currency),
            kind=line.kind,  # type: ignore[arg-type]
            uid=line.uid,
        )
        for line in choice.lines
    ]
    metadata = {"jobId": row["job_id"], "estimateId": row["id"], "paymentStage": WORK_STAGE}
    order_id = orders.make(tx, actor, items, metadata)
    order = orders_store.get(tx, order_id)
    assert order is not None
    payment_id = payments.apply_ahead(tx, charge_id, order) if charge_id is not None else None
    approval_id = new_id("apv")
    approvals_store.insert_approval(
        tx,
        id=approval_id,
        estimate_id=row["id"],
        order_id=order_id,
        job_id=row["job_id"],
        channel="page",
        option_id=choice.option.id,
        optional_uids=approvals_store.encode_uids(choice.optional_uids),
        line_uids=approvals_store.encode_uids([line.uid for line in choice.lines]),
        signer_name=signature.signer_name,
        at=signature.at or tx.now,
        ip=signature.ip,
        user_agent=signature.user_agent,
        content=row["content"],
        content_hash=row["content_hash"],
        total_amount=choice.total,
        deposit_amount=deposit,
        currency=currency,
        payment_id=payment_id,
        charge_id=charge_id,
    )
    store.update(tx, row["id"], state="approved", decided_at=tx.now)
    data = {
        "estimateId": row["id"],
        "number": row["number"],
        "approvalId": approval_id,
        "optionId": choice.option.id,
        "optionName": choice.option.name,
        "optionalUids": choice.optional_uids,
        "orderId": order_id,
        "paymentId": payment_id,
        "totalMoney": Money(choice.total, currency),
        "depositMoney": Money(deposit, currency),
        "signerName": signature.signer_name,
        "contentHash": row["content_hash"],
    }
    trail.record(
        tx,
        "estimate.approved",
        actor,
        {key: value for key, value in data.items() if value is not None},
        job_id=row["job_id"],
        order_id=order_id,
    )
    return approval_id


def complete(tx: Tx, charge: Row, actor: Actor) -> None:
    """Settling a deposit charge (`payments.Completion` for source `estimate`), in the settling
    transaction: captured, the approval it was reserved for is made now with it; declined,
    nothing is (the trail says `payment.declined` with the estimate's id, and no order is left)."""
    if charge["status"] != "captured":
        return
    attempt = store.attempt(tx, charge["id"])
    assert attempt is not None, f"deposit charge {charge['id']} was reserved without its approval"
    row = load(tx, attempt["estimate_id"])
    if row["state"] not in (
        "open",
        "expired",
    ):  # guarded: nothing voids or approves an estimate while a deposit is in flight
        raise RuntimeError(f"estimate {row['id']} is {row['state']} with deposit charge {charge['id']} captured")
    choice = rules.choose(options_of(row), attempt["option_id"], store.decode_uids(attempt["optional_uids"]))
    # Signed when the charge was reserved: the settling may come later (the processor was slow,
    # or the server died and the scheduler settles it).
    signature = Signature(attempt["signer_name"], attempt["ip"], attempt["user_agent"], attempt["created_at"])
    approve(tx, row, choice, signature, attempt["deposit_amount"], charge["id"], customer_of(tx, row))


def decline(tx: Tx, row: Row, reason: str | None) -> None:
    check_answerable(tx, row)
    store.update(tx, row["id"], state="declined", decline_reason=reason, decided_at=tx.now)
    data = {"estimateId": row["id"], "number": row["number"], "reason": reason}
    trail.record(
        tx,
        "estimate.declined",
        customer_of(tx, row),
        {key: value for key, value in data.items() if value is not None},
        job_id=row["job_id"],
    )


def viewed(tx: Tx, row: Row) -> None:
    """The customer's first look at an open estimate's page."""
    if row["viewed_at"] is not None or rules.state_of(row["state"], row["expires_at"], tx.now) != "open":
        return
    store.update(tx, row["id"], viewed_at=tx.now)
    trail.record(
        tx,
        "estimate.viewed",
        customer_of(tx, row),
        {"estimateId": row["id"], "number": row["number"]},
        job_id=row["job_id"],
    )


def expire_due(tx: Tx) -> int:
    """Open estimates past their expiry are marked expired, each with its trail event (one whose
    deposit is being confirmed waits for it: the customer approved in time)."""
    expired = 0
    for row in store.open_past(tx, tx.now):
        if store.charge_in_flight(tx, row["id"]) is not None:
            continue
        store.update(tx, row["id"], state="expired")
        trail.record(
            tx,
            "estimate.expired",
            SYSTEM,
            {"estimateId": row["id"], "number": row["number"], "expiresAt": row["expires_at"]},
            job_id=row["job_id"],
        )
        expired += 1
    return expired
