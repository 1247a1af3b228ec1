"""Money on the wire and the arithmetic every total is derived from: integers, minor units."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_AMOUNT = 10**12 - 1

Amount = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT, description="Minor units, e.g. cents.")]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", description="ISO 4217, upper case.")]
DEFAULT_CURRENCY = "USD"


class Money(msgspec.Struct, frozen=True):
    amount: Amount
    currency: Currency


def money(amount: int, currency: str) -> Money:
    return Money(amount=amount, currency=currency)
