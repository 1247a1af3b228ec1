"""Pure rules of an order: which lines a client may write, and the checks a change must pass.
What the order and its job owe is `sync.ledger`'s rule, kept by `server.orders.ledger`."""

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
    approval: str = "none"

    @property
    def amount(self) -> int:
        return ledger.line_amount(self.quantity, self.unit_amount)

    @property
    def signed_amount(self) -> int:
        """A discount or one of Flint's deposit lines subtracts from the order; every other kind adds."""
        return ledger.signed_amount(self.kind, self.amount)

    @property
    def counted(self) -> int:
        """What the line adds to the order's base: nothing while it waits for approval."""
        return self.signed_amount if ledger.counts(self.kind, self.approval) else 0


def base_of(lines: Iterable[Line]) -> int:
    return sum(line.counted for line in lines)


def check_client_line(kind: str) -> None:
    """Only Flint writes the deposit applied to an order, or given back of one."""
    if kind in ledger.SYSTEM_KINDS:
        raise RuleViolation("system_line", "the deposit lines of an order are worked out by Flint; they cannot be set")


def check_removable(approval: str, uid: str) -> None:
    """A declined change stays on the order as the record of the customer's answer."""
    if approval == "declined":
        raise RuleViolation(
            "line_declined",
            f"line item {uid} was declined by the customer; it stays as a record (ask again with a new line)",
        )


def check_pending(approval: str, uid: str) -> None:
    """Only a line that waits for the customer can be approved or declined, once."""
    if approval != "pending":
        said = "needs no approval" if approval == "none" else f"was {approval} already"
        raise RuleViolation("line_not_pending", f"line item {uid} {said}")


def check_deposit_order_closed_to_lines(deposit: bool, order_id: str) -> None:
    """A deposit order asks for part of the work early; added work goes on a work order."""
    if deposit:
        raise RuleViolation(
            "deposit_order",
            f"order {order_id} is a deposit order: it takes no add-ons; add them to the job's work order",
        )


def check_new_base(base: int, paid: int, pending: int, refunded: int, deposit: bool) -> int:
    """An order's base after a change: never below zero, never below what the customer has paid
    on it (or is paying right now), within what Flint can hold. A deposit order's refunds do not
    reopen its ask, so all that was paid on it counts."""
    if base < 0:
        raise RuleViolation("negative_total", "discounts would take the order total below zero")
    check_size(base, "the order's total")
    kept = paid + pending if deposit else paid + pending - refunded
    if base < kept:
        raise RuleViolation("would_overpay", "the order total would fall below what has been paid on it; refund first")
    return base


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


def check_state_change(current: str, new: str, held: int, pending: int, order_id: str) -> None:
    if current == new:
        return
    check_open(current, order_id)
    if new == "cancelled" and (held > 0 or pending > 0):
        raise RuleViolation("order_has_payments", "refund what was paid on this order before cancelling it")
