"""The arithmetic of orders and jobs, shared by the server and the device so both show the same
figures (and say them the same way). Integers in minor units.

An order's total is the sum of its lines; a `discount` or `deposit_applied` line subtracts, every
other kind adds. A job is what the customer owes on: its figures are the sums over its orders.
Money kept on a job's deposit orders (paid - refunded) is a prepayment for its work: it is
applied, oldest order first, to the job's other orders that are not cancelled, never taking one
below what has been paid on it. Money paid to the job as a whole goes to the orders that owe
money, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

SUBTRACTING = frozenset({"discount", "deposit_applied"})
DEPOSIT_APPLIED = "deposit_applied"
MAX_AMOUNT = 999_999_999_999  # the largest amount, line total, order or job total (contract §1)


def line_amount(quantity: int, unit_amount: int) -> int:
    return quantity * unit_amount


def signed_amount(kind: str, amount: int) -> int:
    return -amount if kind in SUBTRACTING else amount


def balance(total: int, paid: int, refunded: int) -> int:
    return total - (paid - refunded)


def is_deposit_stage(payment_stage: str | None) -> bool:
    """A deposit order asks for money up front (`dispatch_deposit`, `deposit`, ...)."""
    return payment_stage is not None and "deposit" in payment_stage


@dataclass(frozen=True, slots=True)
class OrderMoney:
    """One order of a job as the job's arithmetic sees it, oldest first in a sequence.

    `base` is the order's total without any deposit applied to it; `pending` is card money in
    flight on it (spoken for, not paid yet)."""

    id: str
    base: int
    paid: int = 0
    refunded: int = 0
    pending: int = 0
    deposit: bool = False
    cancelled: bool = False

    @property
    def kept(self) -> int:
        return self.paid - self.refunded


@dataclass(frozen=True, slots=True)
class Application:
    """Deposit money applied to each order that can take it, and what is left over."""

    applied: dict[str, int]
    unapplied: int

    def of(self, order_id: str) -> int:
        return self.applied.get(order_id, 0)


def deposit_application(orders: Sequence[OrderMoney]) -> Application:
    """Apply the money kept on deposit orders to the other orders, oldest first, each up to what
    it still owes before the deposit (so no order ends up owing less than nothing)."""
    left = max(0, sum(o.kept for o in orders if o.deposit and not o.cancelled))
    applied: dict[str, int] = {}
    for order in orders:
        if order.deposit or order.cancelled:
            continue
        room = max(0, order.base - order.kept - order.pending)
        applied[order.id] = min(left, room)
        left -= applied[order.id]
    return Application(applied, left)


def total_of(order: OrderMoney, application: Application) -> int:
    """The order's total: its lines, less the deposit applied to it. A cancelled order owes nothing."""
    return 0 if order.cancelled else order.base - application.of(order.id)


def owed(order: OrderMoney, application: Application) -> int:
    """What a new payment may take on this order now."""
    if order.cancelled:
        return 0
    return max(0, total_of(order, application) - order.kept - order.pending)


def allocate(orders: Sequence[OrderMoney], amount: int | None = None) -> list[tuple[str, int]]:
    """Split `amount` (None: everything owed) over the orders that owe money, oldest first.

    Paying a deposit order applies more deposit to the orders after it, which lowers what they
    owe; so each step works the application out again over what the earlier steps paid."""
    current = list(orders)
    parts: list[tuple[str, int]] = []
    left = amount
    for index, order in enumerate(current):
        if left == 0:
            break
        due = owed(order, deposit_application(current))
        take = due if left is None else min(left, due)
        if take <= 0:
            continue
        parts.append((order.id, take))
        current[index] = replace(order, paid=order.paid + take)
        if left is not None:
            left -= take
    return parts


def due_now(orders: Sequence[OrderMoney]) -> int:
    """What the job owes now, as one payment would collect it."""
    return sum(part for _, part in allocate(orders))


_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def decimals(currency: str) -> int:
    if currency in _ZERO_DECIMAL:
        return 0
    return 3 if currency in _THREE_DECIMAL else 2


def display(amount: int, currency: str) -> str:
    """How a person reads an amount: `$75.00`, `€1,200.50`, `12.00 CHF`, `-$5.00`."""
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    places = decimals(currency)
    if places == 0:
        number = f"{amount:,}"
    else:
        unit = 10**places
        number = f"{amount // unit:,}.{amount % unit:0{places}d}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
