"""The customer's side of an estimate: what its page shows, what a choice comes to, and approving
it, with its deposit as one act.

Without a deposit due, approving is one transaction. With one, the page pays through the one
customer checkout (`server.payments.checkout`): `charging_now` says what the choice's deposit is
now, and reserves the charge *ahead* of the work order with what the approval needs beside it
(`estimate_attempts`: the choice, the name, where it was signed from). The approval itself, the
work order and the deposit's payment on it are made in the transaction that settles the capture
(`answers.complete`, wired as the `estimate` completion of the payment desk): so a capture
without its approval, or an approval without its capture, is never stored, whether the settling
is this request's or, after a crash, the scheduler's."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.errors import ChargeInDoubt, Gone, NotFound
from server.estimates import answers, rules, service, store
from server.estimates.rules import Choice, Line, Option
from server.estimates.types import Estimate, Quote
from server.jobs import store as jobs_store
from server.money import Currency, Money, display
from server.payments.checkout import AmountChanged, Charging
from server.payments.service import Collecting, Target
from server.store import Row, Tx
from server.web.customer_pages import Consent


@dataclass(frozen=True, slots=True)
class LineShown:
    uid: str
    name: str
    quantity: int
    unit: Money
    amount: Money
    kind: str
    optional: bool


@dataclass(frozen=True, slots=True)
class OptionShown:
    option: Option
    lines: list[LineShown]
    total: Money
    deposit: Money  # what approving it, with no optional line ticked, asks now


def _shown(line: Line, currency: Currency) -> LineShown:
    return LineShown(
        line.uid,
        line.name,
        line.quantity,
        Money(line.unit_amount, currency),
        Money(line.amount, currency),
        line.kind,
        line.optional,
    )


@dataclass(frozen=True, slots=True)
class EstimatePage:
    token: str
    estimate: Estimate
    state: str
    job_title: str
    job_address: str
    options: list[OptionShown]
    choice: Choice  # what the form shows chosen
    chosen_lines: list[LineShown]
    total: Money  # what the choice comes to
    deposit: Money  # what approving the choice takes now
    kept: Money  # what the job keeps on deposit already (taken off the deposit)
    asks_deposit: bool  # whether any choice can ask a deposit (the card form is on the page)
    confirming: Money | None  # a deposit being confirmed with the card processor
    paid: Row | None  # the deposit's captured charge, once approved
    viewed: bool  # the customer has opened the page before


def estimate_by_token(tx: Tx, token: str) -> Row:
    row = store.by_token(tx, token) if token else None
    if row is None:
        raise NotFound("there is no estimate at this address")
    return row


def check_shown_state(state: str) -> None:
    """A voided or expired estimate's page says so and takes nothing (410)."""
    if state == "voided":
        raise Gone("this estimate was withdrawn; ask the business for a new one")
    if state == "expired":
        raise Gone("this estimate has expired; ask the business for a new one")


def check_shown(row: Row, now: str) -> None:
    check_shown_state(rules.state_of(row["state"], row["expires_at"], now))


def default_choice(options: Sequence[Option]) -> Choice:
    return Choice(options[0], [])


def page_model(
    tx: Tx, token: str, public_url: str, choice: tuple[str | None, Sequence[str]] | None = None
) -> EstimatePage:
    """The page for `choice` (the option and optional lines a form posted; None: the first
    option, nothing ticked)."""
    row = estimate_by_token(tx, token)
    [estimate] = service.views(tx, [row], public_url)
    options = service.options_of(row)
    currency = row["currency"]
    chosen = rules.choose(options, choice[0], choice[1]) if choice is not None else default_choice(options)
    if estimate.approval is not None:
        chosen = rules.choose(options, estimate.approval.option_id, estimate.approval.optional_uids)
    kept = answers.kept(tx, row)
    percentage, amount = row["deposit_percentage"], row["deposit_amount"]
    job = jobs_store.get(tx, row["job_id"])
    in_flight = store.charge_in_flight(tx, row["id"])
    most = max(o.total + sum(line.signed for line in o.lines if line.optional and line.signed > 0) for o in options)
    return EstimatePage(
        token=token,
        estimate=estimate,
        state=estimate.state,
        job_title=job["title"] if job is not None else row["title"],
        job_address=job["address"] if job is not None else "",
        options=[
            OptionShown(
                o,
                [_shown(line, currency) for line in o.lines],
                Money(o.total, currency),
                Money(rules.deposit_due(o.total, percentage, amount, kept), currency),
            )
            for o in options
        ],
        choice=chosen,
        chosen_lines=[_shown(line, currency) for line in chosen.lines],
        total=Money(chosen.total, currency),
        deposit=Money(rules.deposit_due(chosen.total, percentage, amount, kept), currency),
        kept=Money(kept, currency),
        asks_deposit=rules.deposit_due(most, percentage, amount, kept) > 0,
        confirming=Money(in_flight["amount"], currency) if in_flight is not None else None,
        paid=store.captured_charge(tx, row["id"]),
        viewed=row["viewed_at"] is not None,
    )


def quote(tx: Tx, token: str, option_id: str | None, optional_uids: Sequence[str]) -> Quote:
    """What a choice comes to and the deposit it takes now: the page's script shows it as the
    customer chooses (the page without scripts shows the same after a post)."""
    row = estimate_by_token(tx, token)
    choice = rules.choose(service.options_of(row), option_id, optional_uids)
    currency = row["currency"]
    total, deposit = Money(choice.total, currency), Money(answers.deposit_for(tx, row, choice), currency)
    return Quote(
        option_id=choice.option.id,
        optional_uids=choice.optional_uids,
        total_money=total,
        deposit_money=deposit,
        total=display(total),
        deposit=display(deposit),
    )


def deposit_now(tx: Tx, token: str, option_id: str | None, optional_uids: Sequence[str]) -> int:
    row = estimate_by_token(tx, token)
    return answers.deposit_for(tx, row, rules.choose(service.options_of(row), option_id, optional_uids))


def lock_of(tx: Tx, token: str) -> str:
    """One card payment at a time per job, shared with its links and invoices."""
    return f"pay:{estimate_by_token(tx, token)['job_id']}"


def check_answerable(tx: Tx, token: str) -> Row:
    row = estimate_by_token(tx, token)
    check_shown(row, tx.now)
    answers.check_answerable(tx, row)
    return row


def charging_now(
    tx: Tx, token: str, option_id: str | None, optional_uids: Sequence[str], consent: Consent, public_url: str
) -> Charging:
    """Under the job's payment line: the deposit the choice takes now, reserved ahead of the
    work order with what its approval needs. A charge found in flight here is no request's of
    this process: it is settled with the processor, never charged again."""
    row = estimate_by_token(tx, token)
    check_shown(row, tx.now)
    try:
        answers.check_answerable(tx, row)
    except answers.InFlight:
        raise ChargeInDoubt("a deposit on this estimate is being confirmed") from None
    choice = rules.choose(service.options_of(row), option_id, optional_uids)
    deposit = answers.deposit_for(tx, row, choice)
    currency = row["currency"]
    if deposit == 0:
        raise AmountChanged(Money(0, currency))  # nothing to pay now: the page approves without a card

    def reserved(tx: Tx, charge_id: str) -> None:
        store.insert_attempt(
            tx,
            charge_id=charge_id,
            estimate_id=row["id"],
            option_id=choice.option.id,
            optional_uids=store.encode_uids(choice.optional_uids),
            signer_name=consent.signer_name,
            ip=consent.ip,
            user_agent=consent.user_agent,
            total_amount=choice.total,
            deposit_amount=deposit,
        )

    collecting = Collecting(
        source="estimate",
        estimate_id=row["id"],
        receipt_to=row["last_texted_to"] or service.customer_phone(tx, row["job_id"]),
        receipt_url=service.url_of(public_url, token),
    )
    return Charging(
        Target(job_id=row["job_id"], ahead=True),
        Money(deposit, currency),
        collecting,
        answers.customer_of(tx, row),
        reserved=reserved,
    )


def approve_without_deposit(
    tx: Tx, token: str, option_id: str | None, optional_uids: Sequence[str], consent: Consent, expected: int | None
) -> str:
    """Approving when the choice takes no deposit now: one transaction. If the deposit is not
    what the page showed, nothing is recorded (`AmountChanged`)."""
    row = check_answerable(tx, token)
    choice = rules.choose(service.options_of(row), option_id, optional_uids)
    deposit = answers.deposit_for(tx, row, choice)
    if deposit != 0 or (expected is not None and expected != 0):
        raise AmountChanged(Money(deposit, row["currency"]))
    signature = answers.Signature(consent.signer_name, consent.ip, consent.user_agent)
    return answers.approve(tx, row, choice, signature, 0, None, answers.customer_of(tx, row))


def viewed(tx: Tx, token: str) -> None:
    answers.viewed(tx, estimate_by_token(tx, token))


def decline(tx: Tx, token: str, reason: str | None) -> None:
    row = estimate_by_token(tx, token)
    check_shown(row, tx.now)
    answers.decline(tx, row, reason)
