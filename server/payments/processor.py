"""The card processor behind the customer pages: a small interface. The sandbox
(`server.payments.sandbox`) is the default; Stripe (`server.payments.stripe`) is the real one.

A processor is as unreliable as a real one: any call may fail or time out after the processor
did the work. An adapter implements `Processor` with the processor's own idempotency keys, so a
charge or refund asked again after a crash answers with the first result instead of moving money
twice, and can be asked whether it saw a charge or refund at all.

What a real processor has, every processor has: charging a card typed into a page, saving a card
for later without charging it (a setup), charging a saved card with no customer present
(off-session), refunds, and reading each of them back by its key. A processor whose own script
takes the card in the customer's browser (`BrowserConfirmed`, Stripe.js) starts a charge or a
setup for the page to confirm there instead, so card numbers never reach Flint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from server.money import Money


@dataclass(frozen=True, slots=True)
class CardDetails:
    """What the customer typed. Never stored, never logged: only brand and last four leave here."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    postal_code: str = field(repr=False)

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True, slots=True)
class Charge:
    approved: bool
    brand: str
    last4: str
    reference: str | None = None
    decline_code: str | None = None


@dataclass(frozen=True, slots=True)
class SavedCard:
    """A card the processor keeps for later charges: its reference there, never the number."""

    reference: str  # the processor's saved card (a PaymentMethod at Stripe)
    customer: str | None  # the processor's customer it belongs to, when it has them
    brand: str
    last4: str
    exp_month: int
    exp_year: int


@dataclass(frozen=True, slots=True)
class Setup:
    """What became of saving a card: saved, or refused with a code."""

    saved: SavedCard | None
    decline_code: str | None = None
    reference: str | None = None  # the processor's setup (a SetupIntent at Stripe)


@dataclass(frozen=True, slots=True)
class Started:
    """A charge or setup the customer's browser confirms with the processor's own script."""

    reference: str  # a PaymentIntent's or SetupIntent's id
    client_secret: str


class Unfinished(Exception):
    """The processor has the charge or setup, and the customer's browser has not finished it yet
    (or the processor is still working on it): ask again later."""


class CardNumbersRefused(Exception):
    """A processor whose own script takes the card never takes a card number from Flint."""


class RefundRefused(Exception):
    """The processor answered that it will not give this money back (nothing was given back)."""


@runtime_checkable
class BrowserConfirmed(Protocol):
    """A processor whose own script takes the card in the browser (Stripe.js): Flint starts the
    charge or setup, the page confirms it there, and Flint reads the outcome back by its key."""

    publishable_key: str
    script_url: str

    async def start_charge(self, amount: Money, idempotency_key: str, description: str) -> Started:
        """A charge for the page to confirm, made once per key (asked again: the same one)."""

    async def start_setup(self, idempotency_key: str, customer_name: str, customer: str | None) -> Started:
        """A setup for the page to confirm, for the processor's customer (made when None)."""


class Processor(Protocol):
    name: str  # `sandbox`, `stripe`: saved cards belong to the processor that saved them

    async def charge(self, card: CardDetails, amount: Money, idempotency_key: str) -> Charge:
        """Charge once per key: the same key again answers with the first result. Raises when
        there is no answer: the charge may or may not have happened."""

    async def find_charge(self, idempotency_key: str, reference: str | None = None) -> Charge | None:
        """The result of an earlier charge with this key (`charge`, `charge_saved`, or one the
        browser confirmed, whose processor `reference` Flint may know), if the processor saw it.
        One still waiting for the customer's browser is None."""

    async def save_card(self, card: CardDetails, idempotency_key: str, customer: str | None) -> Setup:
        """Save the card for later without charging it, once per key. Raises when there is no
        answer: the card may or may not have been saved."""

    async def find_setup(self, idempotency_key: str, reference: str | None = None) -> Setup | None:
        """The result of an earlier setup with this key, if the processor finished it."""

    async def charge_saved(self, card: SavedCard, amount: Money, idempotency_key: str) -> Charge:
        """Charge a saved card with no customer present (off-session), once per key. Raises when
        there is no answer: the charge may or may not have happened."""

    async def refund(self, charge_reference: str, amount: Money, idempotency_key: str) -> str:
        """Give back part or all of a charge, once per key; returns the processor's reference.
        Raises `RefundRefused` for a definite no, anything else when the outcome is unknown."""

    async def find_refund(self, idempotency_key: str) -> str | None:
        """The reference of an earlier `refund` with this key, if the processor made it."""


def luhn_valid(number: str) -> bool:
    if not (number.isascii() and number.isdigit()) or not 12 <= len(number) <= 19:
        return False
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def card_brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"34", "37"}:
        return "amex"
    if 51 <= int(number[:2]) <= 55 or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3]) <= 649:
        return "discover"
    return "unknown"
