"""Pure rules of the office's pages: how a status, a time, a sync and an error read to a
person, and how an amount typed by one becomes minor units."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.clock import parse_time
from server.errors import FieldError, FlintError, InvalidRequest
from server.money import Currency, Money, display
from server.store import Row
from server.store.paging import position
from server.web.problems import clip
from sync import ledger

STATUSES = ("scheduled", "dispatched", "en_route", "on_site", "completed", "cancelled")
STATUS_LABELS = {
    "scheduled": "Scheduled",
    "dispatched": "Dispatched",
    "en_route": "En route",
    "on_site": "On site",
    "completed": "Completed",
    "cancelled": "Cancelled",
}
STALE_AFTER = timedelta(minutes=15)  # a device that syncs at all does so every few minutes


@dataclass(frozen=True, slots=True)
class BoardKey:
    """Where a row sits in the board's order: unscheduled ones last, then by when it is due,
    then by when it was made. A page's cursor is the key of its last row."""

    unscheduled: int
    due: str
    n: int

    def encode(self) -> str:
        text = f"b:{self.unscheduled}:{self.n}:{self.due}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def of(cls, row: Row) -> BoardKey:
        return cls(int(row["unscheduled"]), row["due"], int(row["n"]))

    @classmethod
    def decode(cls, cursor: str | None) -> BoardKey | None:
        """None for the first page; a cursor this board did not give is 400."""
        if not cursor:
            return None
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
            prefix, unscheduled, n, due = text.split(":", 3)
            if prefix != "b" or unscheduled not in ("0", "1") or len(due) > 40:
                raise ValueError(text)
            return cls(int(unscheduled), due, position(n))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            problem = FieldError("cursor", "is not a cursor this API gave")
            raise InvalidRequest("cursor is not valid", [problem]) from None

    def row(self) -> tuple[int, str, int]:
        return (self.unscheduled, self.due, self.n)


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


@dataclass(frozen=True, slots=True)
class SyncState:
    stale: bool
    text: str


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"


def sync_state(last_sync_at: str | None, now: datetime) -> SyncState:
    """`Synced 3 min ago`, or, past `STALE_AFTER`, `Not synced for 42 minutes`."""
    if last_sync_at is None:
        return SyncState(stale=True, text="Never synced")
    since = now - parse_time(last_sync_at)
    if since >= STALE_AFTER:
        return SyncState(stale=True, text=f"Not synced for {_span(since)}")
    return SyncState(stale=False, text=f"Synced {ago(last_sync_at, now)}")


def ago(at: str, now: datetime) -> str:
    seconds = int((now - parse_time(at)).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def when(at: str) -> str:
    """`May 1, 14:02 UTC`: the server keeps UTC and knows no office's time zone."""
    moment = parse_time(at)
    return f"{moment:%b} {moment.day}, {moment:%H:%M} UTC"


def clock(at: str) -> str:
    """`14:02:07`, for a timeline where the day is a heading."""
    return f"{parse_time(at):%H:%M:%S}"


def day(at: str) -> str:
    moment = parse_time(at)
    return f"{moment:%A}, {moment:%B} {moment.day}, {moment.year}"


# ASCII digits only (contract §1, v3): `\d` would also take full-width digits and other scripts'.
_AMOUNT = re.compile(r"^(?P<units>[0-9]{1,12})(?:\.(?P<fraction>[0-9]*))?\Z")


def parse_amount(text: str, currency: Currency, field: str = "amount") -> int:
    """`1,500`, `$1,500.5` or `1500.50` in USD is 150050 minor units; more decimals than the
    currency has, or anything that is not a positive amount, is refused in words."""
    cleaned = re.sub(r"[\s,$€£¥]", "", text or "")
    match = _AMOUNT.match(cleaned)
    places = ledger.decimals(currency)
    fraction = (match.group("fraction") or "") if match else ""
    if match is None or len(fraction) > places:
        example = display(Money(150000, currency))
        raise InvalidRequest(f"{field}: not an amount", [FieldError(field, f"Enter an amount such as {example}.")])
    amount: int = int(match.group("units")) * 10**places + int(fraction.ljust(places, "0") or 0)
    if amount <= 0:
        raise InvalidRequest(f"{field}: zero", [FieldError(field, "Enter an amount above zero.")])
    if amount > ledger.MAX_AMOUNT:
        raise InvalidRequest(f"{field}: too large", [FieldError(field, "That amount is too large.")])
    return amount


def in_words(err: FlintError, currency: Currency) -> str:
    """A refusal as the office should read it: amounts as money, not minor units."""
    extra = err.extra
    if err.code == "amount_exceeds_balance" and isinstance(extra.get("balance"), int):
        return f"That is more than the {display(Money(extra['balance'], currency))} still due."
    if err.code == "refund_exceeds_payment" and isinstance(extra.get("refundable"), int):
        return f"At most {display(Money(extra['refundable'], currency))} of that payment can still be refunded."
    words = {
        "nothing_due": "Nothing is due on this job.",
        "payment_in_progress": "The customer is paying right now; try again in a minute.",
        "payment_not_refundable": "Only a captured payment can be refunded.",
        "order_closed": "That order is closed.",
        "no_recipient": "The customer has no phone number; enter one.",
        "link_not_active": "That payment link can no longer be paid.",
        "currency_mismatch": "That amount is in another currency than the order.",
    }
    detail = clip(err.detail)
    return words.get(err.code, detail[:1].upper() + detail[1:] + ("" if detail.endswith(".") else "."))


# What a job's line on the board calls its last event: its last money or status event, never a
# text's delivery receipt or Flint's own bookkeeping behind a payment.
QUIET_ON_THE_BOARD = ("sms.*", "job.note_added", "mutation.rejected", "order.deposit_applied", "order.updated")

# A text's trail events after the first (`sms.queued`, `sms.blocked`) say how it went: the trail
# page shows one event per text, whose state follows them.
LATER_TEXT_EVENTS = frozenset({"sms.sent", "sms.delivered", "sms.failed"})
