"""Pure rules of taking and giving back money."""

from __future__ import annotations

from server.errors import RuleViolation
from sync.ledger import display


def check_amount_due(due: int, amount: int, currency: str, in_flight: int = 0) -> None:
    """A payment may take what is due, or part of it, never more. `in_flight` is card money
    being charged right now, already taken out of `due`."""
    if due <= 0 and in_flight > 0:
        raise RuleViolation("payment_in_progress", "a card payment for the balance is being processed")
    if due <= 0:
        raise RuleViolation("nothing_due", "nothing is due")
    if amount > due:
        raise RuleViolation(
            "amount_exceeds_balance",
            f"the amount ({display(amount, currency)}) is more than the balance due ({display(due, currency)})",
            balance=due,
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
