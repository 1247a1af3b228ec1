"""The arithmetic of an order, shared by the server and the device so both show the same figures.
Integers in minor units; a discount line subtracts, every other kind adds."""

from __future__ import annotations


def line_amount(quantity: int, unit_amount: int) -> int:
    return quantity * unit_amount


def signed_amount(kind: str, amount: int) -> int:
    return -amount if kind == "discount" else amount


def balance(total: int, paid: int, refunded: int) -> int:
    return total - (paid - refunded)
