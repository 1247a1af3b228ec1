"""Charging a card from a customer page (a payment link or an invoice): reserve, ask the
processor, settle, one payer at a time per job. The processor is never called inside a database
transaction; the charge's id is its idempotency key.

A processor call that fails or takes longer than the desk's timeout leaves the charge in doubt:
it stays reserved (the page says the payment is being confirmed and takes no second charge)
until `settle_in_doubt`, run at start-up and by the scheduler, asks the processor what became of
it. One the processor never saw, long after it began, is declined `not_completed`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from server.clock import parse_time
from server.errors import ChargeInDoubt
from server.payments import service
from server.payments.desk import PaymentDesk
from server.payments.processor import BrowserConfirmed, CardDetails, Charge, SavedCard, Setup, Unfinished
from server.payments.service import CardAttempt
from server.store import Row, Tx
from server.wire import Actor

log = logging.getLogger("flint.pay")

SYSTEM = Actor(kind="system", id="recovery")
NOT_COMPLETED = Charge(approved=False, brand="unknown", last4="", decline_code="not_completed")


@dataclass(frozen=True, slots=True)
class Settled:
    charge: Row


def lock_key(job_id: str | None, order_id: str | None) -> str:
    """One card payment at a time per job (or per order without one)."""
    return f"pay:{job_id or order_id}"


async def charge(
    desk: PaymentDesk,
    lock: str,
    begin: Callable[[Tx], CardAttempt | None],
    card: CardDetails,
    actor: Actor,
) -> Settled | None:
    """Run `begin` (one transaction: check what is due and reserve it, or None when nothing is
    left to do), charge the card, settle. Raises the rules `begin` raises, or `ChargeInDoubt`
    when the processor did not answer in time (nothing is charged twice)."""
    async with desk.locks.hold(lock):
        attempt = await desk.db.write(begin)
        if attempt is None:
            return None
        try:
            result = await asyncio.wait_for(
                desk.processor.charge(card, attempt.amount, idempotency_key=attempt.charge_id), desk.timeout
            )
        except Exception:
            log.warning("charge %s has no answer from the processor; it is in doubt", attempt.charge_id, exc_info=True)
            raise ChargeInDoubt("your payment is being confirmed with the card processor") from None
        return Settled(await desk.db.write(_settle(desk, actor, attempt.charge_id, result)))


async def charge_saved(
    desk: PaymentDesk,
    lock: str,
    begin: Callable[[Tx], tuple[CardAttempt, SavedCard] | None],
    actor: Actor,
) -> Settled | None:
    """A saved card charged with no customer present (off-session), as `charge` does a typed
    one: `begin` reserves the charge (or None: nothing to do), the processor charges it under the
    charge's id, the charge is settled. Raises `ChargeInDoubt` when the processor did not answer
    in time; `settle_in_doubt` reads it back later, so it is never charged twice."""
    async with desk.locks.hold(lock):
        begun = await desk.db.write(begin)
        if begun is None:
            return None
        attempt, card = begun
        try:
            result = await asyncio.wait_for(
                desk.processor.charge_saved(card, attempt.amount, idempotency_key=attempt.charge_id), desk.timeout
            )
        except Exception:
            log.warning("charge %s has no answer from the processor; it is in doubt", attempt.charge_id, exc_info=True)
            raise ChargeInDoubt("the charge is being confirmed with the card processor") from None
        return Settled(await desk.db.write(_settle(desk, actor, attempt.charge_id, result)))


@dataclass(frozen=True, slots=True)
class Begun:
    """A charge or setup started with the processor, for the customer's browser to confirm."""

    attempt: str  # the charge's or setup's id: the processor's idempotency key
    client_secret: str


def browser_confirmed(processor: object) -> BrowserConfirmed | None:
    """The processor, when its own script takes the card in the browser (Stripe.js)."""
    return processor if isinstance(processor, BrowserConfirmed) else None


async def start(desk: PaymentDesk, lock: str, begin: Callable[[Tx], CardAttempt | None], what: str) -> Begun | None:
    """Reserve (one transaction, as `charge` does), then start the charge with the processor for the
    page to confirm in the browser. None: nothing to charge. Raises `ChargeInDoubt` when the
    processor did not answer: the charge stays reserved until it is read back."""
    processor = browser_confirmed(desk.processor)
    assert processor is not None, "only a processor whose script takes the card starts charges"
    async with desk.locks.hold(lock):
        attempt = await desk.db.write(begin)
        if attempt is None:
            return None
        try:
            started = await asyncio.wait_for(
                processor.start_charge(attempt.amount, attempt.charge_id, what), desk.timeout
            )
        except Exception:
            log.warning(
                "charge %s was not started with the processor; it is in doubt", attempt.charge_id, exc_info=True
            )
            raise ChargeInDoubt("your payment is being confirmed with the card processor") from None
        await desk.db.write(partial(service.note_reference, charge_id=attempt.charge_id, reference=started.reference))
        return Begun(attempt.charge_id, started.client_secret)


@dataclass(frozen=True, slots=True)
class SetupAttempt:
    """A try to save a card, recorded before the processor is asked: its id is the key."""

    setup_id: str
    customer: str | None  # the processor's customer to save it for, when one is known


async def save_card(
    desk: PaymentDesk,
    lock: str,
    begin: Callable[[Tx], SetupAttempt | None],
    card: CardDetails,
    settle: Callable[[Tx, SetupAttempt, Setup], Row | None],
) -> tuple[Row | None, Setup] | None:
    """Run `begin` (one transaction: record the setup, or None when nothing is left to do), save
    the card with the processor, `settle`. Raises `ChargeInDoubt` when the processor did not
    answer in time: the setup stays pending until `settle_setups` hears what became of it."""
    async with desk.locks.hold(lock):
        attempt = await desk.db.write(begin)
        if attempt is None:
            return None
        try:
            setup = await asyncio.wait_for(
                desk.processor.save_card(card, attempt.setup_id, attempt.customer), desk.timeout
            )
        except Exception:
            log.warning("setup %s has no answer from the processor; it is in doubt", attempt.setup_id, exc_info=True)
            raise ChargeInDoubt("your card is being confirmed with the card processor") from None
        return await desk.db.write(lambda tx: settle(tx, attempt, setup)), setup


async def start_setup(
    desk: PaymentDesk,
    lock: str,
    begin: Callable[[Tx], SetupAttempt | None],
    customer_name: str,
    note: Callable[[Tx, str, str], None],
) -> Begun | None:
    """Record the setup (one transaction), then start it with the processor for the page to
    confirm in the browser; `note` keeps the processor's reference with the setup."""
    processor = browser_confirmed(desk.processor)
    assert processor is not None, "only a processor whose script takes the card starts setups"
    async with desk.locks.hold(lock):
        attempt = await desk.db.write(begin)
        if attempt is None:
            return None
        try:
            started = await asyncio.wait_for(
                processor.start_setup(attempt.setup_id, customer_name, attempt.customer), desk.timeout
            )
        except Exception:
            log.warning("setup %s was not started with the processor; it is in doubt", attempt.setup_id, exc_info=True)
            raise ChargeInDoubt("your card is being confirmed with the card processor") from None
        await desk.db.write(lambda tx: note(tx, attempt.setup_id, started.reference))
        return Begun(attempt.setup_id, started.client_secret)


async def settle_in_doubt(desk: PaymentDesk) -> int:
    """Ask the processor about every charge in flight that no request here is charging (each is
    looked at under its job's lock), and settle what it says. Returns how many were settled."""
    settled = 0
    for attempt in await desk.db.read(service.pending_cards):
        if await settle_pending(desk, attempt.charge_id) is not None:
            settled += 1
    return settled


async def settle_pending(desk: PaymentDesk, charge_id: str, actor: Actor = SYSTEM) -> Row | None:
    """Read one charge in flight back from the processor, under its job's lock, and settle it as
    the processor says (a Stripe webhook prompts this too, and so does a page whose browser
    confirmed the charge). None while its outcome is still unknown; the charge once settled."""
    lock = await desk.db.read(partial(_lock_of, charge_id=charge_id))
    async with desk.locks.hold(lock):
        charge_row = await desk.db.read(partial(service.charge_row, charge_id=charge_id))
        if charge_row["status"] != "pending":
            return charge_row
        try:
            found = await asyncio.wait_for(
                desk.processor.find_charge(charge_id, charge_row["processor_ref"]), desk.timeout
            )
        except Unfinished:
            return None  # the customer's browser has not finished it yet
        except Exception:
            log.warning("could not ask the processor about charge %s; asking again later", charge_id)
            return None
        if found is None:
            began = parse_time(charge_row["created_at"])
            if parse_time(desk.db.now()) < began + desk.settled_after:
                return None  # a request may still reach the processor: too early to say it never did
            found = NOT_COMPLETED
        return await desk.db.write(_settle(desk, actor, charge_id, found))


def _lock_of(tx: Tx, charge_id: str) -> str:
    row = service.charge_row(tx, charge_id)
    return lock_key(row["job_id"], service.first_order_of(tx, charge_id))


def _settle(desk: PaymentDesk, actor: Actor, charge_id: str, result: Charge) -> Callable[[Tx], Row]:
    def settle(tx: Tx) -> Row:
        settled = service.settle_card(tx, actor, charge_id, result, desk.business, desk.completions)
        after = desk.after_settle.get(settled["source"])
        if after is not None:
            after(tx, settled)
        return settled

    return settle
