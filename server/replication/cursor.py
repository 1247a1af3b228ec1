"""Pull cursors. Opaque to devices; inside, a change-log sequence number, or a snapshot in
progress: the sequence it started at, the job to resume at, and the last entity of that job's
bundle already sent (by its kind and row number, so a bundle that shrinks between pages never
makes the next page skip one)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from server.errors import FieldError, InvalidRequest
from server.store.paging import position


@dataclass(frozen=True, slots=True)
class Snapshot:
    job_n: int  # resume at the first job in scope whose `n` is at least this
    after: tuple[int, int] | None = None  # in that job's bundle, the (kind, n) of the last entity sent


@dataclass(frozen=True, slots=True)
class Cursor:
    seq: int
    snapshot: Snapshot | None = None

    def encode(self) -> str:
        at = self.snapshot
        if at is None:
            text = f"c:{self.seq}"
        elif at.after is None:
            text = f"k:{self.seq}:{at.job_n}"
        else:
            text = f"k:{self.seq}:{at.job_n}:{at.after[0]}:{at.after[1]}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode(cursor: str | None) -> Cursor | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, *parts = text.split(":")
        numbers = [position(part) for part in parts]
        if kind == "c" and len(numbers) == 1:
            return Cursor(numbers[0])
        if kind == "s" and len(numbers) == 2:  # written by an earlier server: the last job sent
            return Cursor(numbers[0], Snapshot(numbers[1] + 1))
        if kind == "s" and len(numbers) == 3:  # an earlier server's count into the job: send it whole again
            return Cursor(numbers[0], Snapshot(numbers[1]))
        if kind == "k" and len(numbers) == 2:
            return Cursor(numbers[0], Snapshot(numbers[1]))
        if kind == "k" and len(numbers) == 4:
            return Cursor(numbers[0], Snapshot(numbers[1], (numbers[2], numbers[3])))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidRequest("cursor is not one this server gave", [FieldError("cursor", "is not a pull cursor")])
