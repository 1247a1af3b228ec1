"""Time as the contract writes it: RFC 3339 UTC with `Z`, dates as `YYYY-MM-DD`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """Millisecond precision; the text sorts in time order."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp that carries an offset; raise ValueError otherwise."""
    if len(text) < 20 or text[10] not in "Tt":
        raise ValueError("expected an RFC 3339 timestamp such as 2026-05-01T14:30:00Z")
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError("the timestamp needs a UTC offset or Z")
    return moment.astimezone(UTC)


def normalize_time(text: str) -> str:
    return format_time(parse_time(text))
