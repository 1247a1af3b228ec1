"""Money on the wire and the arithmetic every total is derived from: integers, minor units."""

from __future__ import annotations

from typing import Annotated

import msgspec

MAX_AMOUNT = 10**12 - 1

Amount = Annotated[int, msgspec.Meta(ge=0, le=MAX_AMOUNT, description="Minor units, e.g. cents.")]
PositiveAmount = Annotated[int, msgspec.Meta(ge=1, le=MAX_AMOUNT, description="Minor units, more than zero.")]
Currency = Annotated[str, msgspec.Meta(pattern="^[A-Z]{3}$", description="ISO 4217, upper case.")]
DEFAULT_CURRENCY = "USD"


class Money(msgspec.Struct, frozen=True):
    amount: Amount
    currency: Currency


class PositiveMoney(msgspec.Struct, frozen=True):
    """An amount to take or give back: zero makes no sense there."""

    amount: PositiveAmount
    currency: Currency


def money(amount: int, currency: str) -> Money:
    return Money(amount=amount, currency=currency)


_ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def display(value: Money) -> str:
    """How a person reads an amount: `$75.00`, `€1,200.50`, `12.00 CHF`."""
    if value.currency in _ZERO_DECIMAL:
        number = f"{value.amount:,}"
    else:
        number = f"{value.amount // 100:,}.{value.amount % 100:02d}"
    symbol = _SYMBOLS.get(value.currency)
    return f"{symbol}{number}" if symbol else f"{number} {value.currency}"
