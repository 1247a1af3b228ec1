"""The arithmetic of an order, shared by the server and the device so both show the same figures
(and say them the same way). Integers in minor units; a discount line subtracts, every other
kind adds."""

from __future__ import annotations


def line_amount(quantity: int, unit_amount: int) -> int:
    return quantity * unit_amount


def signed_amount(kind: str, amount: int) -> int:
    return -amount if kind == "discount" else amount


def balance(total: int, paid: int, refunded: int) -> int:
    return total - (paid - refunded)


_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def display(amount: int, currency: str) -> str:
    """How a person reads an amount: `$75.00`, `€1,200.50`, `12.00 CHF`, `-$5.00`."""
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    number = f"{amount:,}" if currency in _ZERO_DECIMAL else f"{amount // 100:,}.{amount % 100:02d}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
