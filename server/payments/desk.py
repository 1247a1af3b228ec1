"""The payment desk: what taking a card or giving money back needs beside the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.config import DEFAULT_BUSINESS_NAME
from server.locks import KeyedLocks
from server.payments.processor import Processor, SandboxProcessor
from server.store import Database


@dataclass
class PaymentDesk:
    """The store, the card processor, and a line per link or payment, so two requests about
    the same money are handled one after the other."""

    db: Database
    business: str = DEFAULT_BUSINESS_NAME  # who a receipt says was paid
    processor: Processor = field(default_factory=SandboxProcessor)
    locks: KeyedLocks = field(default_factory=KeyedLocks)
