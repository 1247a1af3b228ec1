"""Money on the wire (one definition, shared with the sync protocol) and how people read it."""

from __future__ import annotations

from sync import ledger
from sync.limits import Amount, Currency, PositiveAmount
from sync.protocol import Money, PositiveMoney

__all__ = [
    "DEFAULT_CURRENCY",
    "Amount",
    "Currency",
    "Money",
    "MoneyIn",
    "PositiveAmount",
    "PositiveMoney",
    "PositiveMoneyIn",
    "display",
]

DEFAULT_CURRENCY: Currency = "USD"


class MoneyIn(Money, frozen=True, forbid_unknown_fields=True):
    """Money in an office request: unknown fields refused, as in every request body."""


class PositiveMoneyIn(PositiveMoney, frozen=True, forbid_unknown_fields=True):
    """A positive amount in an office request."""


def display(value: Money) -> str:
    """How a person reads an amount: `$75.00`, `€1,200.50`, `12.00 CHF`."""
    return ledger.display(value.amount, value.currency)
