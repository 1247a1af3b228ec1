"""The one customer checkout (contract §4): every page that takes a card (payment links, invoices,
and whatever page comes next) pays through `pay`, and a page that saves a card for later (a card
link, contract §10) saves it through `save`, so each guarantee holds on all of them alike:

- the attempt limit (card testing: too many declines or mistyped cards on one link or invoice);
- the card form checked as a customer would want it checked;
- the amount the page showed (`expectedAmount`): if what is due now differs, nothing is charged
  and the page shows the new amount (checked in the same transaction that reserves the money,
  under the job's payment line, so nothing can change it in between);
- reserve, charge with the charge's id as the idempotency key, settle (`charging`): one capture,
  and a charge in doubt is never charged again;
- the outcome, for the page to say in its own words.

A page supplies what it would charge now (`Charging`) and renders each `Outcome`. A saving page
supplies how to begin a setup (one transaction that records the attempt) and how to settle it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial

from server.errors import ChargeInDoubt, InvalidRequest, ProcessorUnavailable, RateLimited, RuleViolation
from server.money import Money
from server.payments import charging
from server.payments import service as payments
from server.payments.card_form import parse_card
from server.payments.desk import PaymentDesk
from server.payments.processor import CardDetails, Setup
from server.payments.service import CardAttempt, Collecting, Target
from server.store import Row, Tx
from server.web.attempts import FailedAttempts
from server.web.customer_pages import NOT_THE_CARDS_FAULT
from server.wire import Actor

EXPECTED = "expectedAmount"  # the hidden field every card form carries: the amount it showed


@dataclass(frozen=True, slots=True)
class Charging:
    """What a page would charge now, for whom, and where its receipt goes; `reserved`, what the
    page keeps beside the charge in the transaction that reserves it (given the charge's id)."""

    target: Target
    amount: Money
    collecting: Collecting
    actor: Actor
    reserved: Callable[[Tx, str], None] | None = None


class AmountChanged(RuleViolation):
    """What is due now is not what the page showed: nothing was charged."""

    def __init__(self, amount: Money) -> None:
        super().__init__("amount_changed", f"the amount due is now {amount.amount} {amount.currency}")
        self.amount = amount


# What became of a post, for the page to put in its words.


@dataclass(frozen=True, slots=True)
class Captured:
    charge: Row


@dataclass(frozen=True, slots=True)
class AlreadyPaid:
    """What the form asked for was paid before this post: nothing more was charged."""


@dataclass(frozen=True, slots=True)
class Declined:
    code: str


@dataclass(frozen=True, slots=True)
class Changed:
    amount: Money


@dataclass(frozen=True, slots=True)
class Confirming:
    """The processor has not answered: the payment is being confirmed; nothing is charged twice."""


@dataclass(frozen=True, slots=True)
class Invalid:
    errors: dict[str, str]


@dataclass(frozen=True, slots=True)
class TooMany:
    retry_after: float


Outcome = Captured | AlreadyPaid | Declined | Changed | Confirming | Invalid | TooMany


def expected_amount(form: Mapping[str, str]) -> int | None:
    """The amount the form showed, in minor units; None when the form does not say (a script).
    Anything that is not ASCII digits can match no amount (-1): the page is shown again."""
    text = form.get(EXPECTED)
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 15 else -1


async def pay(
    desk: PaymentDesk,
    attempts: FailedAttempts,
    form: Mapping[str, str],
    *,
    key: str,
    lock: str,
    actor: Actor,
    charging_now: Callable[[Tx], Charging | None],
    today: date,
) -> Outcome:
    """Take the card in `form` for what `charging_now` says is due (None: nothing is, it was paid).
    Raises what `charging_now` raises (a page gone, closed, not found).

    With a processor whose script takes the card (Stripe.js), the card never comes here: the page
    started the charge (`start`) and its browser confirmed it; the form names that attempt, and
    this reads its outcome back from the processor (only a charge made for `key`: the page's link,
    invoice or estimate)."""
    if charging.browser_confirmed(desk.processor) is not None:
        return await _confirmed_in_browser(desk, attempts, form, key, charging_now)
    card = _card(attempts, form, key, today)
    if not isinstance(card, CardDetails):
        return card
    begin = partial(_begin, charging_now=charging_now, expected=expected_amount(form))
    try:
        settled = await charging.charge(desk, lock, begin, card, actor)
    except AmountChanged as err:
        return Changed(err.amount)
    except (ProcessorUnavailable, ChargeInDoubt):
        return Confirming()
    if settled is None:
        return AlreadyPaid()
    if settled.charge["status"] == "declined":
        return _declined(attempts, key, settled.charge["decline_code"])
    return Captured(settled.charge)


ATTEMPT = "attempt"  # the field naming the charge or setup a page's browser confirmed
NO_SCRIPT = {"cardNumber": "Enter your card in the card field above (scripts must be on to reach the processor)."}


@dataclass(frozen=True, slots=True)
class Begun:
    """A charge or setup started for the browser to confirm: its attempt id and client secret."""

    attempt: str
    client_secret: str


async def start(
    desk: PaymentDesk,
    attempts: FailedAttempts,
    form: Mapping[str, str],
    *,
    key: str,
    lock: str,
    charging_now: Callable[[Tx], Charging | None],
    what: str,
) -> Begun | Outcome:
    """A page's browser asks to pay (Stripe.js): the attempt limit, what the page showed against
    what is due now, the charge reserved and started with the processor; the browser confirms it
    with the client secret and posts the attempt back (`pay`)."""
    try:
        attempts.allow(key)
    except RateLimited as err:
        return TooMany(err.retry_after)
    begin = partial(_begin, charging_now=charging_now, expected=expected_amount(form))
    try:
        begun = await charging.start(desk, lock, begin, what)
    except AmountChanged as err:
        return Changed(err.amount)
    except (ProcessorUnavailable, ChargeInDoubt):
        return Confirming()
    if begun is None:
        return AlreadyPaid()
    return Begun(begun.attempt, begun.client_secret)


async def _confirmed_in_browser(
    desk: PaymentDesk,
    attempts: FailedAttempts,
    form: Mapping[str, str],
    key: str,
    charging_now: Callable[[Tx], Charging | None],
) -> Outcome:
    attempt = form.get(ATTEMPT, "")[:64]
    if not attempt:
        # No attempt (scripts off, or the page asked what it would charge): the page is shown
        # again, with the new amount when it changed.
        try:
            attempts.allow(key)
        except RateLimited as err:
            return TooMany(err.retry_after)
        now = await desk.db.read(lambda tx: charging_now(tx))
        expected = expected_amount(form)
        if now is None:
            return AlreadyPaid()
        if expected is not None and expected != now.amount.amount:
            return Changed(now.amount)
        return Invalid(dict(NO_SCRIPT))
    charge = await desk.db.read(lambda tx: payments.charge_by_id(tx, attempt))
    if charge is None or key not in (charge["payment_link_id"], charge["invoice_id"], charge["estimate_id"]):
        return Invalid(dict(NO_SCRIPT))
    settled = await charging.settle_pending(desk, attempt, Actor(kind=charge["actor_kind"], id=charge["actor_id"]))
    if settled is None:
        return Confirming()
    if settled["status"] == "declined":
        return _declined(attempts, key, settled["decline_code"])
    return Captured(settled)


def _card(attempts: FailedAttempts, form: Mapping[str, str], key: str, today: date) -> CardDetails | TooMany | Invalid:
    """The attempt limit, then the card form: the card, or why nothing is tried."""
    try:
        attempts.allow(key)
    except RateLimited as err:
        return TooMany(err.retry_after)
    try:
        return parse_card(form, today)
    except InvalidRequest as err:
        attempts.failed(key)
        return Invalid({e.field: e.message for e in err.errors})


def _declined(attempts: FailedAttempts, key: str, code: str | None) -> Declined:
    code = code or "card_declined"
    if code not in NOT_THE_CARDS_FAULT:
        attempts.failed(key)
    return Declined(code)


# Saving a card for later (a card link's page): the same limit, form and in-doubt handling.


@dataclass(frozen=True, slots=True)
class Saved:
    card: Row  # the saved card, as the page's `settle` kept it


SaveOutcome = Saved | AlreadyPaid | Declined | Confirming | Invalid | TooMany


async def save(
    desk: PaymentDesk,
    attempts: FailedAttempts,
    form: Mapping[str, str],
    *,
    key: str,
    lock: str,
    begin: Callable[[Tx], charging.SetupAttempt | None],
    settle: Callable[[Tx, charging.SetupAttempt, Setup], Row | None],
    read_back: Callable[[str], Awaitable[Row | Declined | None]],
    today: date,
) -> SaveOutcome:
    """Save the card in `form` without charging it. `begin` (one transaction) records the attempt
    before the processor is asked, or says None when the page saved a card already; `settle`
    keeps what the processor answered (the saved card, or None for a refusal). With Stripe.js the
    form names the setup its browser confirmed instead, and `read_back` reads its outcome: the
    saved card, a `Declined` code, or None while the processor has no outcome yet."""
    if charging.browser_confirmed(desk.processor) is not None:
        return await _saved_in_browser(attempts, form, key, read_back)
    card = _card(attempts, form, key, today)
    if not isinstance(card, CardDetails):
        return card
    try:
        settled = await charging.save_card(desk, lock, begin, card, settle)
    except (ProcessorUnavailable, ChargeInDoubt):
        return Confirming()
    if settled is None:
        return AlreadyPaid()
    saved, setup = settled
    if saved is None:
        return _declined(attempts, key, setup.decline_code)
    return Saved(saved)


def _begin(tx: Tx, charging_now: Callable[[Tx], Charging | None], expected: int | None) -> CardAttempt | None:
    """Under the job's payment line, in one transaction: what is due now, checked against what the
    page showed, reserved as a charge in flight."""
    now = charging_now(tx)
    if now is None:
        return None
    if expected is not None and expected != now.amount.amount:
        raise AmountChanged(now.amount)
    attempt = payments.reserve_card(
        tx, now.actor, now.target, now.amount.amount, now.collecting, currency=now.amount.currency
    )
    if now.reserved is not None:
        now.reserved(tx, attempt.charge_id)
    return attempt


async def start_setup(
    desk: PaymentDesk,
    attempts: FailedAttempts,
    *,
    key: str,
    lock: str,
    begin: Callable[[Tx], charging.SetupAttempt | None],
    note: Callable[[Tx, str, str], None],
    customer_name: str,
) -> Begun | SaveOutcome:
    """A card page's browser asks to save a card (Stripe.js): the attempt limit, the setup
    recorded and started with the processor; the browser confirms it and posts it back (`save`)."""
    try:
        attempts.allow(key)
    except RateLimited as err:
        return TooMany(err.retry_after)
    try:
        begun = await charging.start_setup(desk, lock, begin, customer_name, note)
    except (ProcessorUnavailable, ChargeInDoubt):
        return Confirming()
    if begun is None:
        return AlreadyPaid()
    return Begun(begun.attempt, begun.client_secret)


async def _saved_in_browser(
    attempts: FailedAttempts,
    form: Mapping[str, str],
    key: str,
    read_back: Callable[[str], Awaitable[Row | Declined | None]],
) -> SaveOutcome:
    attempt = form.get(ATTEMPT, "")[:64]
    if not attempt:
        return Invalid(dict(NO_SCRIPT))
    found = await read_back(attempt)
    if found is None:
        return Confirming()
    if isinstance(found, Declined):
        return _declined(attempts, key, found.code)
    return Saved(found)
