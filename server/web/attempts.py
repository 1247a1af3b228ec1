"""Failed attempts per key in a sliding window: the card-testing limit of the customer pages
(contract §4: more than 10 declines or bad card inputs on one link or invoice within 10 minutes
answer 429) and the login form's limit per client address.

A page asks `allow(key)` before it charges (it raises `RateLimited`, whose `retry_after` says
how long to wait) and tells `failed(key)` after a decline or a bad card input. Nothing else
counts: a capture, a page view, a payment being confirmed.

The counts live in this process's memory, which is right for a server of one process
(`flint serve`); a restart forgets them, and so gives a card tester at most one more window.
"""

from __future__ import annotations

import math
from collections import deque
from datetime import datetime, timedelta

from server.clock import Clock, system_clock
from server.errors import RateLimited

CARD_LIMIT = 10
CARD_WINDOW = timedelta(minutes=10)
LOGIN_LIMIT = 10
LOGIN_WINDOW = timedelta(minutes=10)
MAX_KEYS = 100_000  # past this many keys, those with nothing in their window are forgotten


class FailedAttempts:
    """At most `limit` failures per key within `window`; the next attempt waits until the
    oldest of them leaves the window."""

    def __init__(self, limit: int, window: timedelta, clock: Clock = system_clock, what: str = "attempts") -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.what = what
        self._failures: dict[str, deque[datetime]] = {}

    def allow(self, key: str) -> None:
        """Raise `RateLimited` when `key` already has `limit` failures in the window."""
        now = self.clock()
        failures = self._recent(key, now)
        if len(failures) >= self.limit:
            wait = (failures[0] + self.window - now).total_seconds()
            raise RateLimited(f"too many {self.what}; try again later", retry_after=math.ceil(wait))

    def failed(self, key: str) -> None:
        now = self.clock()
        failures = self._recent(key, now)
        if not failures and len(self._failures) >= MAX_KEYS:
            self._forget_idle(now)
        failures.append(now)
        self._failures[key] = failures

    def count(self, key: str) -> int:
        return len(self._recent(key, self.clock()))

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        since = now - self.window
        while failures and failures[0] <= since:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def _forget_idle(self, now: datetime) -> None:
        since = now - self.window
        for key in [k for k, failures in self._failures.items() if not failures or failures[-1] <= since]:
            del self._failures[key]


def card_attempts(clock: Clock = system_clock) -> FailedAttempts:
    """Declines and bad card inputs, keyed by link or invoice id."""
    return FailedAttempts(CARD_LIMIT, CARD_WINDOW, clock, what="declined or mistyped cards")


def login_attempts(clock: Clock = system_clock) -> FailedAttempts:
    """Wrong office keys, keyed by client address."""
    return FailedAttempts(LOGIN_LIMIT, LOGIN_WINDOW, clock, what="wrong keys")
