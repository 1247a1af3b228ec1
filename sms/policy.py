"""Pure rules of sending: what a Twilio answer means, when to try again, which way statuses move."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

MAX_ATTEMPTS = 5
OPTED_OUT = 21610  # Twilio: "Attempt to send to unsubscribed recipient"

Kind = Literal["accepted", "rejected", "retry", "in_doubt"]


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one `messages.create` came to.

    accepted  Twilio took the message (it has a sid).
    rejected  a 4xx other than 429: Twilio will never take it; not retried.
    retry     429, 5xx, or no connection at all: Twilio did not take it; safe to try again.
    in_doubt  the request may have reached Twilio but no answer came back (a timeout, a
              connection cut mid-answer): look for it at Twilio before sending again.
    """

    kind: Kind
    sid: str | None = None
    provider_status: str | None = None
    error_code: int | None = None
    http_status: int | None = None
    detail: str = ""


def classify(http_status: int, error_code: int | None) -> Kind:
    if http_status == 429 or http_status >= 500:
        return "retry"
    return "rejected"


def backoff(attempt: int, base: float, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: half the step fixed, half random, so retries spread out
    but never come back at once."""
    step: float = min(cap, base * 2.0 ** max(0, attempt - 1))
    return step / 2 + (rng or _rng).uniform(0, step / 2)


_rng = random.Random()


# Our statuses, in the only order they may move. Final ones share the last rank.
RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3, "blocked": 3}

# Twilio's message statuses in our terms.
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


def moves_forward(current: str, new: str) -> bool:
    """A status never moves backwards, and a final status never changes."""
    return RANK.get(new, -1) > RANK.get(current, 99)


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
