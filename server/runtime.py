"""What the running server holds: settings, the store, and the services with I/O at their edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from server.config import Settings
from server.locks import KeyedLocks
from server.payments.processor import Processor, SandboxProcessor
from server.store import Database

if TYPE_CHECKING:
    from sms.setup import Texting


@dataclass
class Runtime:
    settings: Settings
    db: Database
    texting: Texting
    processor: Processor = field(default_factory=SandboxProcessor)
    locks: KeyedLocks = field(default_factory=KeyedLocks)
