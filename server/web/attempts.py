"""Failed attempts per key in a sliding window: the card-testing limit of the customer pages
(contract §4: more than 10 declines or bad card inputs on one link or invoice within 10 minutes
answer 429) and the limit on wrong office keys per client address (contract §1: a bearer header
or the login form; 10 within 10 minutes, then 429 until the window passes).

A page or the auth layer asks `allow(key)` before it checks anything (it raises `RateLimited`,
whose `retry_after` says how long to wait) and tells `failed(key)` after a failure. Nothing else
counts: a capture, a right key, a page view, a payment being confirmed.

The bookkeeping costs the same however many keys try (an attacker with a botnet, or addresses
made up behind a trusted proxy), and never scans:
- each key keeps at most `limit` failure times (an array of floats), so a check is O(limit),
  a constant;
- keys are kept in the order of their last failure. Each `failed` forgets at most two keys at
  the old end whose last failure has left the window (each key is forgotten once, so this keeps
  up), and past `capacity` keys it forgets the one that failed longest ago. Memory is bounded
  by `capacity` (about 300 bytes a key).
Forgetting a live key early gives that address a fresh count: no worse than one more address,
which whoever can fill the table already has. Addresses come from `client_key`: an IPv6 client
counts by its /64, since one host is usually given a whole /64.

The counts live in this process's memory, right for a server of one process (`flint serve`);
a restart forgets them, and so gives a guesser at most one more window.
"""

from __future__ import annotations

import ipaddress
import math
from array import array
from collections import OrderedDict
from datetime import timedelta

from server.clock import Clock, system_clock
from server.errors import RateLimited

CARD_LIMIT = 10
CARD_WINDOW = timedelta(minutes=10)
KEY_LIMIT = 10
KEY_WINDOW = timedelta(minutes=10)
CAPACITY = 100_000  # keys remembered at most; past it, the one that failed longest ago is forgotten
FORGET_PER_FAILURE = 2  # idle keys forgotten at most per failure: more than each failure adds
UNKNOWN_CLIENT = "unknown"


class FailedAttempts:
    """At most `limit` failures per key within `window`; the next attempt waits until the
    oldest of them leaves the window."""

    def __init__(
        self,
        limit: int,
        window: timedelta,
        clock: Clock = system_clock,
        what: str = "attempts",
        capacity: int = CAPACITY,
    ) -> None:
        self.limit = limit
        self.window = window.total_seconds()
        self.clock = clock
        self.what = what
        self.capacity = capacity
        self._failures: OrderedDict[str, array[float]] = OrderedDict()  # by last failure, oldest first

    def _now(self) -> float:
        return self.clock().timestamp()

    def allow(self, key: str) -> None:
        """Raise `RateLimited` when `key` already has `limit` failures in the window."""
        failures = self._failures.get(key)
        if failures is None:
            return
        now = self._now()
        _drop_before(failures, now - self.window)
        if len(failures) >= self.limit:
            wait = failures[0] + self.window - now
            raise RateLimited(f"too many {self.what}; try again later", retry_after=math.ceil(wait))

    def failed(self, key: str) -> None:
        now = self._now()
        failures = self._failures.get(key)
        if failures is None:
            failures = self._failures[key] = array("d")
        else:
            self._failures.move_to_end(key)
            _drop_before(failures, now - self.window)
        failures.append(now)
        if len(failures) > self.limit:
            del failures[0]
        self._forget_idle(now)

    def count(self, key: str) -> int:
        failures = self._failures.get(key)
        if failures is None:
            return 0
        _drop_before(failures, self._now() - self.window)
        return len(failures)

    def __len__(self) -> int:
        """Keys remembered now (at most `capacity`)."""
        return len(self._failures)

    def _forget_idle(self, now: float) -> None:
        since = now - self.window
        for _ in range(FORGET_PER_FAILURE):
            oldest_key = next(iter(self._failures))
            if self._failures[oldest_key][-1] > since:
                break
            del self._failures[oldest_key]
        while len(self._failures) > self.capacity:
            self._failures.popitem(last=False)


def _drop_before(failures: array[float], since: float) -> None:
    """Failures at or before `since` have left the window (at most `limit` of them)."""
    while failures and failures[0] <= since:
        del failures[0]


def client_key(host: str | None) -> str:
    """Whose attempts these are: the client's address as the connection (or a trusted proxy,
    see `FLINT_TRUSTED_PROXIES`) gave it; an IPv6 address by its /64, an IPv4 address mapped
    into IPv6 as itself."""
    if not host:
        return UNKNOWN_CLIENT
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def card_attempts(clock: Clock = system_clock) -> FailedAttempts:
    """Declines and bad card inputs, keyed by link or invoice id."""
    return FailedAttempts(CARD_LIMIT, CARD_WINDOW, clock, what="declined or mistyped cards")


def key_attempts(clock: Clock = system_clock) -> FailedAttempts:
    """Wrong office keys (a bearer header or the login form), keyed by client address."""
    return FailedAttempts(KEY_LIMIT, KEY_WINDOW, clock, what="wrong keys")
