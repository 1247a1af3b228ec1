"""Pure rules of a payment link."""

from __future__ import annotations

from server.errors import RuleViolation


def status_of(stored: str, expires_at: str | None, now: str, *, captured: bool, in_flight: bool, collects: int) -> str:
    """What a link is now, worked out at every read: `collects` is what it could take now (a
    balance link: what is due; a fixed link: its amount if that much is due, else nothing).
    A closed link turns active again when more is owed."""
    if stored == "cancelled":
        return "cancelled"
    if captured:
        return "paid"
    if expires_at is not None and expires_at <= now:
        return "expired"
    if in_flight:
        return "active"
    return "active" if collects > 0 else "closed"


def check_cancellable(status: str, link_id: str) -> None:
    if status == "paid":
        raise RuleViolation("payment_link_paid", f"payment link {link_id} is paid; refund the payment instead")


def check_active(status: str, link_id: str) -> None:
    if status != "active":
        raise RuleViolation("link_not_active", f"payment link {link_id} is {status}")
