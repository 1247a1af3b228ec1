"""Pure rules of approvals: how long a request's link and code work, when a number's codes stop
working, what a request's status reads now, what the hash of its lines is."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sync.canonical import approval_lines, canonical_json, lines_hash

VALID_FOR = timedelta(hours=24)  # a request's link and code (contract §8)
MISSES_ALLOWED = 5  # wrong codes from one number within `VALID_FOR`; then its codes stop working
CODE_DIGITS = 6


def status_of(stored: str, expires_at: str | None, now: str) -> str:
    """A pending request past its 24 hours reads `expired`."""
    if stored == "pending" and expires_at is not None and expires_at <= now:
        return "expired"
    return stored


def new_code(taken: set[str]) -> str:
    """Six random digits, none the number holds already in an open request."""
    while True:
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        if code not in taken:
            return code


def wire_lines(lines: Iterable[Any], currency: str) -> list[dict[str, Any]]:
    """Stored lines as the hash takes them (`{uid, name, quantity, unitPriceMoney}`)."""
    return [
        {
            "uid": line["uid"],
            "name": line["name"],
            "quantity": line["quantity"],
            "unitPriceMoney": {"amount": line["unit_amount"], "currency": currency},
        }
        for line in lines
    ]


def hash_of(lines: Iterable[Any], currency: str) -> str:
    return lines_hash(wire_lines(lines, currency))


def content_of(lines: Iterable[Any], currency: str) -> str:
    """The canonical JSON the hash is taken over, kept with the approval as its evidence."""
    return canonical_json(approval_lines(wire_lines(lines, currency)))


def clean_reason(reason: str | None) -> str | None:
    """A reason as typed, without control characters other than newline and tab."""
    if reason is None:
        return None
    kept = "".join(ch for ch in reason if ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160))
    return kept.strip() or None
