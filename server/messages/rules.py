"""Pure rules of the outbox: how often a text is tried, how long between tries, and which way
its status may move."""

from __future__ import annotations

import random

MAX_ATTEMPTS = 5


def backoff(attempt: int, base: float, cap: float = 300.0, rng: random.Random | None = None) -> float:
    """Exponential backoff with jitter: half the step fixed, half random, so retries spread out
    but never come back at once."""
    step: float = min(cap, base * 2.0 ** max(0, attempt - 1))
    return step / 2 + (rng or _rng).uniform(0, step / 2)


_rng = random.Random()

# Statuses, in the only order they may move. Final ones share the last rank.
RANK = {"queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3, "blocked": 3}


def moves_forward(current: str, new: str) -> bool:
    """A status never moves backwards, and a final status never changes."""
    return RANK.get(new, -1) > RANK.get(current, 99)
