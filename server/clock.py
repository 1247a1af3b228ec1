"""Time as the contract writes it: RFC 3339 UTC with `Z`, dates as `YYYY-MM-DD`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """Millisecond precision; the text sorts in time order."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


FIRST_YEAR, LAST_YEAR = 2000, 2999  # times and dates outside these years are refused (contract §1)


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp that carries an offset, within the years Flint accepts;
    raise ValueError otherwise."""
    if not 20 <= len(text) <= 40 or text[10] not in "Tt" or not text.isascii():
        raise ValueError("expected an RFC 3339 timestamp such as 2026-05-01T14:30:00Z")
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ValueError("expected an RFC 3339 timestamp such as 2026-05-01T14:30:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("the timestamp needs a UTC offset or Z")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the timestamp is out of range") from None
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise ValueError(f"the timestamp must fall in the years {FIRST_YEAR}-{LAST_YEAR}")
    return moment


def normalize_time(text: str) -> str:
    return format_time(parse_time(text))


def parse_date(text: str) -> date:
    """A `YYYY-MM-DD` day within the years Flint accepts; ValueError otherwise."""
    try:
        plain = len(text) == 10 and text[4] == text[7] == "-" and (text[:4] + text[5:7] + text[8:]).isdigit()
        day = date.fromisoformat(text) if plain and text.isascii() else None
    except ValueError:
        day = None
    if day is None:
        raise ValueError("expected a date such as 2026-05-01")
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"the date must fall in the years {FIRST_YEAR}-{LAST_YEAR}")
    return day


def today(now: str) -> date:
    """The UTC day of a time Flint wrote (`tx.now`): due dates and billing periods are UTC days."""
    return parse_time(now).date()
