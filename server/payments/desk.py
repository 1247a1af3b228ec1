"""The payment desk: what taking a card or giving money back needs beside the store."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from server.config import DEFAULT_BUSINESS_NAME
from server.locks import KeyedLocks
from server.payments.processor import Processor
from server.store import Database, Row, Tx


@dataclass
class PaymentDesk:
    """The store, the card processor, and a line per link or payment, so two requests about
    the same money are handled one after the other."""

    db: Database
    processor: Processor
    business: str = DEFAULT_BUSINESS_NAME  # who a receipt says was paid
    timeout: float = 20.0  # a processor call slower than this is in doubt
    locks: KeyedLocks = field(default_factory=KeyedLocks)
    # What settles a charge reserved ahead of its work order, by source (`service.Completion`):
    # the domains that reserve them sit above payments, so the app wires them in.
    completions: dict[str, Callable[..., Any]] = field(default_factory=dict)

    async def close(self) -> None:
        """Let go of what the processor holds (the sandbox's thread and file, Stripe's
        connections), if anything."""
        closing = getattr(self.processor, "close", None)
        if callable(closing):
            done = closing()
            if inspect.isawaitable(done):
                await done

    # What a domain above does in the transaction that settles a card charge of its source (the
    # plans' autopay keeps its cycle), registered at wiring time: payments sits below them.
    after_settle: dict[str, Callable[[Tx, Row], None]] = field(default_factory=dict)
    # What happens once a customer saves a card on a card page (autopay tries what is owed).
    on_card_saved: list[Callable[[str], Awaitable[object]]] = field(default_factory=list)
    # How a processor's notice about an attempt (a Stripe webhook) is followed up: by the
    # metadata field that names it (`flint_attempt`, `flint_setup`), read the attempt back.
    read_back: dict[str, Callable[[str], Awaitable[object]]] = field(default_factory=dict)

    async def card_saved(self, customer_id: str) -> None:
        for hook in self.on_card_saved:
            await hook(customer_id)

    @property
    def settled_after(self) -> timedelta:
        """A charge in doubt this long after it began, that the processor never saw, never will:
        our call gave up after `timeout`, and half as long again covers a request still on its
        way. With the scheduler's look every `settle_every` seconds (default 10), a charge in
        doubt is settled within 30 + 10 seconds of its start by default (contract §4: a minute)."""
        return timedelta(seconds=SETTLE_MARGIN * self.timeout)


SETTLE_MARGIN = 1.5  # times the processor timeout after which a charge it never saw is declined


def settled_within(timeout: float, settle_every: float) -> timedelta:
    """The longest a charge in doubt waits to be settled while the server runs."""
    return timedelta(seconds=SETTLE_MARGIN * timeout + settle_every)
