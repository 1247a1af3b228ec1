"""What the running server holds: settings, the store, and the services with I/O at their edges."""

from __future__ import annotations

from dataclasses import dataclass

from server.config import Settings
from server.store import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
