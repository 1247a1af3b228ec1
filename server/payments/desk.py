"""The payment desk: what taking a card or giving money back needs beside the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from server.config import DEFAULT_BUSINESS_NAME
from server.locks import KeyedLocks
from server.payments.processor import Processor
from server.store import Database


@dataclass
class PaymentDesk:
    """The store, the card processor, and a line per link or payment, so two requests about
    the same money are handled one after the other."""

    db: Database
    processor: Processor
    business: str = DEFAULT_BUSINESS_NAME  # who a receipt says was paid
    timeout: float = 20.0  # a processor call slower than this is in doubt
    locks: KeyedLocks = field(default_factory=KeyedLocks)

    @property
    def settled_after(self) -> timedelta:
        """A charge in doubt this long after it began, that the processor never saw, never will."""
        return timedelta(seconds=2 * self.timeout)
