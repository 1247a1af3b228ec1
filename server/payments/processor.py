"""The card processor behind the customer pages: a small interface. The sandbox
(`server.payments.sandbox`) is the default and, so far, the only one.

A processor is as unreliable as a real one: any call may fail or time out after the processor
did the work. An adapter implements `Processor` with the processor's own idempotency keys, so a
charge or refund asked again after a crash answers with the first result instead of moving money
twice, and can be asked whether it saw a charge or refund at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

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


class RefundRefused(Exception):
    """The processor answered that it will not give this money back (nothing was given back)."""


class Processor(Protocol):
    async def charge(self, card: CardDetails, amount: Money, idempotency_key: str) -> Charge:
        """Charge once per key: the same key again answers with the first result. Raises when
        there is no answer: the charge may or may not have happened."""

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        """The result of an earlier `charge` with this key, if the processor saw it."""

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
