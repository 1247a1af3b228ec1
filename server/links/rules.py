"""Pure rules of a payment link."""

from __future__ import annotations

from server.errors import RuleViolation


def status_at(stored: str, expires_at: str | None, now: str) -> str:
    """An active link past its expiry is expired; nothing needs to run for that to be true."""
    if stored == "active" and expires_at is not None and expires_at <= now:
        return "expired"
    return stored


def check_cancellable(status: str, link_id: str) -> None:
    if status == "paid":
        raise RuleViolation("payment_link_paid", f"payment link {link_id} is paid; refund the payment instead")
