"""Money on the wire (one definition, shared with the sync protocol) and how people read it."""

from __future__ import annotations

from sync.protocol import Amount, Currency, Money, PositiveAmount, PositiveMoney

__all__ = ["DEFAULT_CURRENCY", "Amount", "Currency", "Money", "PositiveAmount", "PositiveMoney", "display"]

DEFAULT_CURRENCY = "USD"


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
