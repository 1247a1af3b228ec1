"""Pure rules of an order. Every money figure the API reports is derived here and only here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from server.errors import RuleViolation
from sync import ledger
from sync.limits import MAX_AMOUNT

CLOSED_STATES = frozenset({"completed", "cancelled"})


@dataclass(frozen=True, slots=True)
class Line:
    quantity: int
    unit_amount: int
    kind: str

    @property
    def amount(self) -> int:
        return ledger.line_amount(self.quantity, self.unit_amount)

    @property
    def signed_amount(self) -> int:
        """A discount or an applied deposit subtracts from the order; every other kind adds to it."""
        return ledger.signed_amount(self.kind, self.amount)


@dataclass(frozen=True, slots=True)
class Figures:
    """`pending` is card money in flight (charged or about to be): not paid yet, but spoken for.
    `applied` is the deposit applied to the order (a `deposit_applied` line, already in `total`)."""

    total: int
    paid: int
    refunded: int
    pending: int = 0
    applied: int = 0

    @property
    def net_paid(self) -> int:
        return self.paid - self.refunded

    @property
    def balance(self) -> int:
        return ledger.balance(self.total, self.paid, self.refunded)

    @property
    def collectible(self) -> int:
        """What a new payment may still take."""
        return self.balance - self.pending

    @property
    def base(self) -> int:
        """The total before any deposit is applied."""
        return self.total + self.applied

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            self.total + other.total,
            self.paid + other.paid,
            self.refunded + other.refunded,
            self.pending + other.pending,
            self.applied + other.applied,
        )


NO_MONEY = Figures(0, 0, 0)


def total_of(lines: Iterable[Line]) -> int:
    return sum(line.signed_amount for line in lines)


def figures(
    lines: Iterable[Line], captured: Iterable[int], refunds: Iterable[int], pending: Iterable[int] = ()
) -> Figures:
    lines = list(lines)
    return Figures(
        total=total_of(lines),
        paid=sum(captured),
        refunded=sum(refunds),
        pending=sum(pending),
        applied=sum(line.amount for line in lines if line.kind == ledger.DEPOSIT_APPLIED),
    )


def check_client_line(kind: str) -> None:
    """Only Flint writes the deposit applied to an order."""
    if kind == ledger.DEPOSIT_APPLIED:
        raise RuleViolation("system_line", "the deposit applied to an order is worked out by Flint; it cannot be set")


def check_new_total(total: int, before: Figures) -> int:
    """The total after a change: never below zero, never below what the customer has paid net
    (or is paying right now)."""
    if total < 0:
        raise RuleViolation("negative_total", "discounts would take the order total below zero")
    check_size(total, "the order's total")
    if total < before.net_paid + before.pending:
        raise RuleViolation("would_overpay", "the order total would fall below what has been paid on it; refund first")
    return total


def check_size(amount: int, what: str) -> int:
    """No amount, line, order or job total may pass `MAX_AMOUNT` (contract §1)."""
    if amount > MAX_AMOUNT:
        raise RuleViolation(
            "amount_too_large", f"{what} would be more than {MAX_AMOUNT:,} minor units, the most Flint can hold"
        )
    return amount


def check_open(state: str, order_id: str) -> None:
    if state in CLOSED_STATES:
        raise RuleViolation("order_closed", f"order {order_id} is {state}")


def check_currency(expected: str, currencies: Iterable[str], what: str = "a line item", of: str = "this order") -> None:
    for currency in currencies:
        if currency != expected:
            raise RuleViolation(
                "currency_mismatch", f"currency mismatch: {of} is in {expected}, so {what} in {currency} cannot join it"
            )


def check_state_change(current: str, new: str, figures_now: Figures, order_id: str) -> None:
    if current == new:
        return
    check_open(current, order_id)
    if new == "cancelled" and (figures_now.net_paid > 0 or figures_now.pending > 0):
        raise RuleViolation("order_has_payments", "refund what was paid on this order before cancelling it")
