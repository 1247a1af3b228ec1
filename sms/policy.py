"""Twilio's words in ours: its message statuses, its error code for an opted-out number, and the
keywords with which a customer opts out of texts or back in."""

from __future__ import annotations

import re
from typing import Literal

OPTED_OUT = 21610  # Twilio: "Attempt to send to unsubscribed recipient"

# Twilio's message statuses, as the statuses of a message in Flint.
FROM_TWILIO = {
    "accepted": "sending",
    "scheduled": "sending",
    "queued": "sending",
    "sending": "sending",
    "sent": "sent",
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "failed",
    "canceled": "failed",
}

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})


def keyword(body: str) -> Literal["opt_out", "opt_in"] | None:
    """Twilio matches the whole message, trimmed, in any case."""
    word = body.strip().upper()
    if word in OPT_OUT_WORDS:
        return "opt_out"
    if word in OPT_IN_WORDS:
        return "opt_in"
    return None


_CODE = re.compile(r"[0-9]{6}")


def reply_code(body: str) -> str | None:
    """A reply that is exactly a 6-digit approval code, spaces ignored (`482 913`), else None."""
    compact = "".join(body.split())
    return compact if compact.isascii() and _CODE.fullmatch(compact) else None
