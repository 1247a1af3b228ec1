"""The payment desk: what taking a card or giving money back needs beside the store."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

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
        """A charge in doubt this long after it began, that the processor never saw, never will."""
        return timedelta(seconds=2 * self.timeout)
