"""The card processor behind the pay pages: a small interface, and the sandbox that is the default.

A real adapter implements `Processor` with the processor's own idempotency keys, so a charge
retried after a crash returns the first result instead of charging twice.
"""

from __future__ import annotations

import hashlib
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


class Processor(Protocol):
    async def charge(self, card: CardDetails, amount: Money, idempotency_key: str) -> Charge:
        """Charge once per key: the same key again answers with the first result."""

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        """The result of an earlier `charge` with this key, if the processor saw it."""

    async def refund(self, charge_reference: str, amount: Money, idempotency_key: str) -> str:
        """Give back part or all of a charge, once per key; returns the processor's reference."""


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


DECLINING_CARDS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
}


class SandboxProcessor:
    """Contract §4: 4242… and any other Luhn-valid number captures; two test numbers decline.
    It moves no money, so what it remembers lives in memory."""

    def __init__(self) -> None:
        self._charges: dict[str, Charge] = {}

    async def charge(self, card: CardDetails, amount: Money, idempotency_key: str) -> Charge:
        earlier = self._charges.get(idempotency_key)
        if earlier is not None:
            return earlier
        brand = card_brand(card.number)
        decline = DECLINING_CARDS.get(card.number)
        if decline is not None:
            result = Charge(approved=False, brand=brand, last4=card.last4, decline_code=decline)
        else:
            reference = "sbx_ch_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
            result = Charge(approved=True, brand=brand, last4=card.last4, reference=reference)
        self._charges[idempotency_key] = result
        return result

    async def find_charge(self, idempotency_key: str) -> Charge | None:
        return self._charges.get(idempotency_key)

    async def refund(self, charge_reference: str, amount: Money, idempotency_key: str) -> str:
        return "sbx_re_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
