"""Money on the wire (one definition, shared with the sync protocol) and how people read it."""

from __future__ import annotations

from sync import ledger
from sync.protocol import Amount, Currency, Money, PositiveAmount, PositiveMoney

__all__ = ["DEFAULT_CURRENCY", "Amount", "Currency", "Money", "PositiveAmount", "PositiveMoney", "display"]

DEFAULT_CURRENCY = "USD"


def display(value: Money) -> str:
    """How a person reads an amount: `$75.00`, `€1,200.50`, `12.00 CHF`."""
    return ledger.display(value.amount, value.currency)
