"""Pure rules of a service plan: the calendar of its periods, which of them are skipped, and
the moves between statuses.

The n-th period starts at `startDate + n intervals`, worked out from the start date every time,
never by adding to the previous period: a plan that starts on the 31st bills on the last day of
shorter months and on the 31st again when there is one (Jan 31, Feb 28 or 29, Mar 31, ...), and a
yearly plan from Feb 29 bills on Feb 28 in common years and Feb 29 in leap years. A quarter is
three months. Days are UTC days.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.errors import RuleViolation

MONTHS = {"month": 1, "quarter": 3, "year": 12}
ASK_AHEAD = timedelta(days=366)  # how far ahead of today a billing run may bill


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months; a day past the end of the month lands on its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_start(start: date, interval: str, n: int) -> date:
    if interval == "week":
        return start + timedelta(weeks=n)
    return add_months(start, n * MONTHS[interval])


def period_end(start: date, interval: str, n: int) -> date:
    """The period's last day: the day before the next one starts."""
    return period_start(start, interval, n + 1) - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Pause:
    paused_on: date
    resumed_on: date | None


def skipped(day: date, pauses: Sequence[Pause]) -> bool:
    """A period that started while the plan was paused (after the day it was paused, before the
    day it was resumed) is skipped: a pause is a break in the service, not a bill deferred. A
    period that started on or before the pause day is still billed, on resume; one that starts on
    the resume day is billed as usual."""
    return any(p.resumed_on is not None and p.paused_on < day < p.resumed_on for p in pauses)


def next_period(start: date, interval: str, n: int, pauses: Sequence[Pause]) -> int:
    """The first period from the n-th on that is not skipped."""
    while skipped(period_start(start, interval, n), pauses):
        n += 1
    return n


def period_containing(start: date, interval: str, day: date) -> int:
    """The number of the period that contains `day` (0 when `day` is before the start)."""
    if day <= start:
        return 0
    if interval == "week":
        return (day - start).days // 7
    months = (day.year - start.year) * 12 + day.month - start.month
    n = max(0, months // MONTHS[interval])
    while n > 0 and period_start(start, interval, n) > day:
        n -= 1
    while period_start(start, interval, n + 1) <= day:
        n += 1
    return n


DASH = "\u2013"  # an en dash, as a span of dates is written


def period_label(start: date, end: date) -> str:
    """`May 1-31, 2026`, `Jan 31 - Feb 27, 2026`, `Dec 15, 2025 - Jan 14, 2026` (with en dashes)."""
    if start.year != end.year:
        return f"{start:%b} {start.day}, {start.year} {DASH} {end:%b} {end.day}, {end.year}"
    if start.month != end.month:
        return f"{start:%b} {start.day} {DASH} {end:%b} {end.day}, {end.year}"
    if start.day == end.day:
        return f"{start:%b} {start.day}, {start.year}"
    return f"{start:%b} {start.day}{DASH}{end.day}, {start.year}"


def check_not_cancelled(status: str, plan_id: str) -> None:
    if status == "cancelled":
        raise RuleViolation("plan_cancelled", f"service plan {plan_id} is cancelled")


def check_as_of(as_of: date, today: date) -> None:
    if as_of > today + ASK_AHEAD:
        raise RuleViolation(
            "as_of_too_far", f"asOf may be at most {ASK_AHEAD.days} days from today ({today.isoformat()})"
        )


# Dunning (contract §10): a declined autopay charge is tried again 1, 3 and 7 days after the first
# decline; when the last of them fails, the plan is past due.
RETRY_AFTER = (timedelta(days=1), timedelta(days=3), timedelta(days=7))


@dataclass(frozen=True, slots=True)
class AfterDecline:
    status: str  # the cycle's autopay: `retrying` or `failed`
    retries: int  # scheduled retries made so far
    next_attempt_at: datetime | None


def after_decline(
    first_declined_at: datetime, retries: int, scheduled: bool, status: str, next_attempt_at: datetime | None
) -> AfterDecline:
    """Where a cycle stands after a declined charge. `retries`: scheduled retries made before this
    charge; `status`: the cycle's autopay before it (`due` until its first charge settles). The
    first charge's decline starts the schedule and each scheduled retry's decline moves it on; a
    charge made at once (a new card saved, the office resumed the plan) leaves it as it was."""
    if not scheduled and status in ("retrying", "failed"):
        return AfterDecline(status, retries, next_attempt_at)
    done = 0 if status == "due" else retries + 1  # the first charge is no retry
    if done >= len(RETRY_AFTER):
        return AfterDecline("failed", done, None)
    return AfterDecline("retrying", done, first_declined_at + RETRY_AFTER[done])
