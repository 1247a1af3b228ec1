"""Pull cursors. Opaque to devices; inside, a change-log sequence number, or a snapshot in
progress (the sequence it started at and the last job it sent)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from server.errors import FieldError, InvalidRequest


@dataclass(frozen=True, slots=True)
class Cursor:
    seq: int
    snapshot_after: int | None = None  # a snapshot in progress: the last job `n` sent

    def encode(self) -> str:
        text = f"c:{self.seq}" if self.snapshot_after is None else f"s:{self.seq}:{self.snapshot_after}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str | None) -> Cursor | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, rest = text.partition(":")
        if kind == "c" and rest.isdigit():
            return Cursor(int(rest))
        seq, _, after = rest.partition(":")
        if kind == "s" and seq.isdigit() and after.isdigit():
            return Cursor(int(seq), int(after))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidRequest("cursor is not one this server gave", [FieldError("cursor", "is not a pull cursor")])
