"""Pure rules of taking and giving back money."""

from __future__ import annotations

from server.errors import RuleViolation
from server.orders.rules import Figures
from sync.ledger import display


def check_amount_due(figures: Figures, amount: int, currency: str) -> None:
    """A payment may take the order's balance, or part of it, never more."""
    if figures.balance <= 0:
        raise RuleViolation("nothing_due", "nothing is due on this order")
    if figures.collectible <= 0:
        raise RuleViolation("payment_in_progress", "a card payment for the balance is being processed")
    if amount > figures.collectible:
        raise RuleViolation(
            "amount_exceeds_balance",
            f"the amount ({display(amount, currency)}) is more than the balance due"
            f" ({display(figures.collectible, currency)})",
            balance=figures.collectible,
        )


def check_refundable(status: str, amount: int, captured: int, refunded_so_far: int, currency: str) -> None:
    if status != "captured":
        raise RuleViolation("payment_not_refundable", "only a captured payment can be refunded")
    if amount > captured - refunded_so_far:
        raise RuleViolation(
            "refund_exceeds_payment",
            f"the refund ({display(amount, currency)}) is more than what is left of the payment"
            f" ({display(captured - refunded_so_far, currency)})",
            refundable=captured - refunded_so_far,
        )
