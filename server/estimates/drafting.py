"""Drafting an estimate: its options and lines, its deposit, terms and expiry, checked; changed
only while it is a draft (a sent estimate is frozen: void it and make another)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from server.clock import format_time, parse_time
from server.errors import FieldError, InvalidRequest, RuleViolation, VersionConflict
from server.estimates import rules, service, store
from server.estimates.rules import Line, Option
from server.estimates.types import (
    CreateEstimate,
    DepositIn,
    Estimate,
    EstimateOptionIn,
    UpdateEstimate,
)
from server.ids import new_id
from server.jobs import store as jobs_store
from server.money import Currency, Money, PositiveMoneyIn
from server.orders import store as orders_store
from server.store import Row, Tx
from server.trail import service as trail
from server.wire import Actor


@dataclass(frozen=True, slots=True)
class Content:
    """What the office says an estimate is, checked."""

    options: list[Option]
    currency: Currency
    percentage: int | None
    amount: int | None


def options_in(given: Sequence[EstimateOptionIn]) -> tuple[list[Option], list[Currency]]:
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


def deposit_in(deposit: DepositIn | None, currency: Currency) -> tuple[int | None, int | None]:
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


def expiry_in(expires_at: str | None, now: str) -> str | None:
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
    made, currencies = options_in(options)
    rules.check_options(made, currencies)
    currency = currencies[0]
    _check_job_currency(tx, job_id, currency)
    percentage, amount = deposit_in(deposit, currency)
    return Content(made, currency, percentage, amount)


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
        expires_at=expiry_in(data.expires_at, tx.now),
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
            "fromMoney": Money(rules.smallest(content.options), content.currency),
        },
        job_id=data.job_id,
    )
    return service.get(tx, estimate_id, public_url)


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
    row = service.load(tx, estimate_id)
    _check_draft(row, data.version)
    fields: dict[str, object] = {}
    if not isinstance(data.title, msgspec.UnsetType):
        fields["title"] = data.title
    if not isinstance(data.options, msgspec.UnsetType) or not isinstance(data.deposit, msgspec.UnsetType):
        deposit = _deposit_from(row) if isinstance(data.deposit, msgspec.UnsetType) else data.deposit
        if isinstance(data.options, msgspec.UnsetType):  # the deposit alone, in the draft's currency
            percentage, amount = deposit_in(deposit, row["currency"])
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
        fields["expires_at"] = expiry_in(data.expires_at, tx.now)
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
    return service.get(tx, estimate_id, public_url)


def _deposit_from(row: Row) -> DepositIn | None:
    if row["deposit_percentage"] is not None:
        return DepositIn(percentage=row["deposit_percentage"])
    if row["deposit_amount"] is not None:
        return DepositIn(amount_money=PositiveMoneyIn(row["deposit_amount"], row["currency"]))
    return None
