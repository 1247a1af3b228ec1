"""Lists: pages of rows by their position `n`, an opaque `cursor`; `{"data": [...], "nextCursor"}`.

Every domain pages its lists with these; the route parameters (`Limit`, `Cursor`) are the web
layer's (`server.web.params`)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import msgspec

from server.errors import FieldError, InvalidRequest
from server.store.db import Row

T = TypeVar("T")


class Page(msgspec.Struct, Generic[T], rename="camel"):
    data: list[T]
    next_cursor: str | None


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"n:{position}".encode()).decode().rstrip("=")


MAX_POSITION = 2**63 - 1  # SQLite's largest integer


def position(text: str) -> int:
    """A position written in a cursor: ASCII digits, within SQLite's integers; ValueError otherwise."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19 or int(text) > MAX_POSITION:
        raise ValueError(f"not a position: {text[:20]!r}")
    return int(text)


def decode_cursor(cursor: str | None) -> int:
    """The position after which the next page starts (0 for the first page)."""
    if cursor is None or cursor == "":
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "n":
            raise ValueError(text)
        return position(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("cursor is not valid", [FieldError("cursor", "is not a cursor this API gave")]) from None


def paginate(rows: Sequence[Row], limit: int, build: Callable[[Sequence[Row]], list[T]]) -> Page[T]:
    """`rows` were fetched with `LIMIT limit + 1` and carry their position in column `n`."""
    shown = rows[:limit]
    more = len(rows) > limit
    return Page(data=build(shown), next_cursor=encode_cursor(shown[-1]["n"]) if more else None)


def each(convert: Callable[[Row], T]) -> Callable[[Sequence[Row]], list[T]]:
    return lambda rows: [convert(row) for row in rows]
