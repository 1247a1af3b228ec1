"""Card links and the setups made through their pages (contract §10).

A card link is one customer's page for saving a card without charging it: one use, 7 days by
default. Its page saves through the one customer checkout (`server.payments.checkout.save`):
`begin_setup` records the try before the processor is asked (its id the processor's key),
`settle_setup` keeps what the processor answered as the customer's card on file. A setup with no
answer stays pending until `settle_in_doubt` reads it back from the processor.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from server.cards import store
from server.cards.types import CardLink, CreateCardLink
from server.clock import format_time, parse_time
from server.customers import service as customers
from server.customers import store as customers_store
from server.errors import ChargeInDoubt, FieldError, Gone, InvalidRequest, NotFound, RuleViolation
from server.ids import new_id
from server.messages import service as outbox
from server.messages.types import SmsMessage
from server.payments.charging import SetupAttempt
from server.payments.checkout import Declined
from server.payments.desk import PaymentDesk
from server.payments.processor import Setup, Unfinished
from server.store import Row, Tx
from server.wire import Actor
from sms import bodies

log = logging.getLogger("flint.cards")

LIFETIME = timedelta(days=7)


def url_of(public_url: str, token: str) -> str:
    return f"{public_url}/cards/{token}"


def status_of(link: Row, now: str) -> str:
    if link["used_at"] is not None:
        return "used"
    return "expired" if link["expires_at"] <= now else "active"


def view(tx: Tx, link: Row, public_url: str) -> CardLink:
    return CardLink(
        id=link["id"],
        customer_id=link["customer_id"],
        url=url_of(public_url, link["token"]),
        status=status_of(link, tx.now),  # type: ignore[arg-type]
        expires_at=link["expires_at"],
        created_at=link["created_at"],
        service_plan_id=link["plan_id"],
    )


def load(tx: Tx, link_id: str) -> Row:
    row = store.link(tx, link_id)
    if row is None:
        raise NotFound(f"no card link {link_id}")
    return row


def get(tx: Tx, link_id: str, public_url: str) -> CardLink:
    return view(tx, load(tx, link_id), public_url)


def _expiry(tx: Tx, expires_at: str | None) -> str:
    if expires_at is None:
        return format_time(parse_time(tx.now) + LIFETIME)
    try:
        moment = parse_time(expires_at)
    except ValueError as exc:
        raise InvalidRequest(f"expiresAt: {exc}", [FieldError("expiresAt", str(exc))]) from None
    if format_time(moment) <= tx.now:
        raise InvalidRequest("expiresAt is in the past", [FieldError("expiresAt", "must be in the future")])
    return format_time(moment)


def open_link(
    tx: Tx, customer_id: str, expires_at: str | None = None, plan_id: str | None = None, job_id: str | None = None
) -> Row:
    if customers_store.get(tx, customer_id) is None:
        raise NotFound(f"no customer {customer_id}")
    link_id = new_id("clink")
    store.insert_link(
        tx,
        id=link_id,
        token=secrets.token_urlsafe(24),  # 192 random bits: the customer's only credential
        customer_id=customer_id,
        plan_id=plan_id,
        job_id=job_id,
        expires_at=_expiry(tx, expires_at),
    )
    return load(tx, link_id)


def create(tx: Tx, actor: Actor, customer_id: str, data: CreateCardLink, public_url: str) -> CardLink:
    return view(tx, open_link(tx, customer_id, data.expires_at), public_url)


def text_link(
    tx: Tx, actor: Actor, link: Row, to: str | None, public_url: str, business: str, body: str | None = None
) -> SmsMessage:
    """Queue the text that carries a card link, in the caller's transaction (the cycle's visit job,
    or the job whose trail page sent it, shows it)."""
    if status_of(link, tx.now) != "active":
        raise RuleViolation("link_not_active", f"card link {link['id']} is {status_of(link, tx.now)}")
    customer = customers_store.get(tx, link["customer_id"])
    to = to or (customer["phone"] if customer else None)
    if not to:
        raise RuleViolation("no_recipient", "the customer has no phone; give `to`")
    store.texted(tx, link["id"], to)
    return outbox.queue(
        tx,
        actor,
        to=to,
        body=body or bodies.save_card(business, url_of(public_url, link["token"])),
        job_id=link["job_id"],
        order_id=None,
        dedupe_key=f"card-link:{link['id']}:{to}",
    )


def send_sms(tx: Tx, actor: Actor, link_id: str, to: str | None, public_url: str, business: str) -> SmsMessage:
    return text_link(tx, actor, load(tx, link_id), to, public_url, business)


# The page's side: saving a card through the one checkout.


def link_by_token(tx: Tx, token: str) -> Row:
    link = store.link_by_token(tx, token) if token else None
    if link is None:
        raise NotFound("there is no card request at this address")
    return link


@dataclass(frozen=True, slots=True)
class CardPage:
    """A card link's page as the customer sees it."""

    token: str
    name: str  # the customer's
    status: str  # active, used, expired
    saved: Row | None  # the card saved through it
    confirming: bool  # a setup through it waits for the processor's answer


def page_model(tx: Tx, token: str) -> CardPage:
    link = link_by_token(tx, token)
    customer = customers_store.get(tx, link["customer_id"])
    return CardPage(
        token=token,
        name=customer["name"] if customer else "",
        status=status_of(link, tx.now),
        saved=saved_on(tx, link),
        confirming=confirming(tx, link),
    )


def expired() -> Gone:
    return Gone("this card request has expired")


def saved_on(tx: Tx, link: Row) -> Row | None:
    """The card saved through this link (it may since have been replaced or removed)."""
    row = store.saved_setup_of(tx, link["id"])
    return customers_store.card(tx, row["saved_card_id"]) if row is not None else None


def confirming(tx: Tx, link: Row) -> bool:
    """A setup through the link is waiting for the processor's answer."""
    return store.pending_setup_of(tx, link["id"]) is not None


def lock_of(token: str) -> str:
    """One save at a time per card link."""
    return f"card-link:{token}"


def begin_setup(tx: Tx, token: str, processor: str) -> SetupAttempt | None:
    """Under the link's lock, in one transaction: nothing to do once the link saved a card (None);
    a setup that never settled is read back, never tried again; else the try is recorded."""
    link = link_by_token(tx, token)
    status = status_of(link, tx.now)
    if status == "used":
        return None
    if status == "expired":
        raise expired()
    if store.pending_setup_of(tx, link["id"]) is not None:
        raise ChargeInDoubt("a card saved on this page is being confirmed")
    setup_id = new_id("seti")
    store.insert_setup(tx, id=setup_id, card_link_id=link["id"], customer_id=link["customer_id"])
    return SetupAttempt(setup_id, customers_store.processor_customer(tx, link["customer_id"], processor))


def settle_setup(tx: Tx, attempt: SetupAttempt, setup: Setup, processor: str) -> Row | None:
    """What the processor said: the card kept as the customer's card on file and the link used,
    or the setup declined. Settling twice changes nothing. Returns the saved card, or None."""
    row = store.setup(tx, attempt.setup_id)
    assert row is not None
    if row["status"] != "pending":
        return customers_store.card(tx, row["saved_card_id"]) if row["saved_card_id"] else None
    saved = setup.saved
    if saved is None:
        store.settle_setup(tx, attempt.setup_id, status="declined", decline_code=setup.decline_code or "card_declined")
        return None
    card_id = customers.save_card(
        tx,
        row["customer_id"],
        processor=processor,
        reference=saved.reference,
        processor_customer=saved.customer,
        brand=saved.brand,
        last4=saved.last4,
        exp_month=saved.exp_month,
        exp_year=saved.exp_year,
        card_link_id=row["card_link_id"],
    )
    store.settle_setup(tx, attempt.setup_id, status="saved", saved_card_id=card_id, processor_ref=setup.reference)
    store.used(tx, row["card_link_id"])
    return customers_store.card(tx, card_id)


def note_reference(tx: Tx, setup_id: str, reference: str) -> None:
    store.note_reference(tx, setup_id, reference)


async def read_back(desk: PaymentDesk, token: str, setup_id: str) -> Row | Declined | None:
    """The outcome of a setup this link's browser confirmed (Stripe.js), read from the processor:
    the saved card, the refusal, or None while there is no outcome yet."""
    link = await desk.db.read(partial(link_by_token, token=token))
    row = await desk.db.read(partial(store.setup, setup_id=setup_id))
    if row is None or row["card_link_id"] != link["id"]:
        return Declined("not_completed")
    await settle_pending(desk, setup_id)
    row = await desk.db.read(partial(store.setup, setup_id=setup_id))
    assert row is not None
    if row["status"] == "saved":
        return await desk.db.read(partial(customers_store.card, card_id=row["saved_card_id"]))
    if row["status"] == "declined":
        return Declined(row["decline_code"] or "card_declined")
    return None


async def settle_in_doubt(desk: PaymentDesk) -> list[str]:
    """Ask the processor about every setup left pending that no request here is making, and keep
    what it says; one it never saw, long after it began, is declined `not_completed`. Returns
    the customers who got a card on file."""
    saved: list[str] = []
    for row in await desk.db.read(partial(store.setups_in_status, status="pending")):
        if await settle_pending(desk, row["id"]) is not None:
            saved.append(row["customer_id"])
    return saved


async def settle_pending(desk: PaymentDesk, setup_id: str) -> Row | None:
    """Read one setup in flight back from the processor, under its link's lock, and keep what it
    says (a Stripe webhook prompts this too). Returns the card it saved just now, else None."""
    row = await desk.db.read(partial(store.setup, setup_id=setup_id))
    if row is None:
        return None
    link = await desk.db.read(partial(store.link, link_id=row["card_link_id"]))
    assert link is not None
    async with desk.locks.hold(lock_of(link["token"])):
        current = await desk.db.read(partial(store.setup, setup_id=setup_id))
        if current is None or current["status"] != "pending":
            return None
        try:
            found = await asyncio.wait_for(desk.processor.find_setup(setup_id, row["processor_ref"]), desk.timeout)
        except Unfinished:
            return None  # the customer's browser has not finished it yet
        except Exception:
            log.warning("could not ask the processor about setup %s; asking again later", setup_id)
            return None
        if found is None:
            if parse_time(desk.db.now()) < parse_time(row["created_at"]) + desk.settled_after:
                return None
            found = Setup(saved=None, decline_code="not_completed")
        settle = partial(settle_setup, attempt=SetupAttempt(setup_id, None), setup=found, processor=desk.processor.name)
        return await desk.db.write(settle)
