"""The calendar of a service plan: each period from the start date, month ends and leap years."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.invoices import rules as invoice_rules
from server.plans import rules

D = date.fromisoformat


def starts(start: str, interval: str, count: int) -> list[str]:
    return [rules.period_start(D(start), interval, n).isoformat() for n in range(count)]


def test_the_31st_bills_on_the_last_day_of_shorter_months_and_the_31st_again() -> None:
    assert starts("2026-01-31", "month", 5) == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]
    assert starts("2028-01-31", "month", 3) == ["2028-01-31", "2028-02-29", "2028-03-31"]  # a leap year
    assert starts("2026-01-30", "month", 3) == ["2026-01-30", "2026-02-28", "2026-03-30"]


def test_yearly_from_february_29() -> None:
    assert starts("2028-02-29", "year", 5) == ["2028-02-29", "2029-02-28", "2030-02-28", "2031-02-28", "2032-02-29"]


def test_quarters_and_weeks() -> None:
    assert starts("2026-11-30", "quarter", 4) == ["2026-11-30", "2027-02-28", "2027-05-30", "2027-08-30"]
    assert starts("2026-12-29", "week", 3) == ["2026-12-29", "2027-01-05", "2027-01-12"]


def test_a_period_ends_the_day_before_the_next_begins() -> None:
    assert rules.period_end(D("2026-01-31"), "month", 0) == D("2026-02-27")
    assert rules.period_end(D("2026-01-31"), "month", 1) == D("2026-03-30")
    assert rules.period_end(D("2026-05-01"), "week", 0) == D("2026-05-07")
    assert rules.period_end(D("2028-02-29"), "year", 0) == D("2029-02-27")


def test_periods_read_as_people_write_them() -> None:
    assert rules.period_label(D("2026-05-01"), D("2026-05-31")) == "May 1\u201331, 2026"
    assert rules.period_label(D("2026-01-31"), D("2026-02-27")) == "Jan 31 \u2013 Feb 27, 2026"
    assert rules.period_label(D("2025-12-15"), D("2026-01-14")) == "Dec 15, 2025 \u2013 Jan 14, 2026"


def test_periods_started_while_paused_are_skipped() -> None:
    pauses = [rules.Pause(D("2026-02-10"), D("2026-04-01")), rules.Pause(D("2026-06-01"), None)]
    start = D("2026-01-01")
    skipped = [
        starts("2026-01-01", "month", 8)[n]
        for n in range(8)
        if rules.skipped(rules.period_start(start, "month", n), pauses)
    ]
    # Mar 1 started while paused; Apr 1 is the resume day and Feb 1 came before the pause. The pause
    # still open skips nothing yet: a paused plan bills nothing at all.
    assert skipped == ["2026-03-01"]
    assert rules.next_period(start, "month", 1, pauses) == 1
    assert rules.next_period(start, "month", 2, pauses) == 3


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2999, 1, 1)),
    st.sampled_from(["week", "month", "quarter", "year"]),
    st.integers(min_value=0, max_value=200),
)
def test_periods_tile_the_calendar(start: date, interval: str, n: int) -> None:
    """Every day from the start belongs to exactly one period: each begins the day after the last ends,
    and a month-based period never starts later in its month than the start date's day."""
    begins = rules.period_start(start, interval, n)
    following = rules.period_start(start, interval, n + 1)
    assert following > begins
    assert rules.period_end(start, interval, n) == following - timedelta(days=1)
    if interval != "week":
        assert begins.day == start.day or (begins.day < start.day and (begins + timedelta(days=1)).day == 1)


@pytest.mark.parametrize(
    ("total", "percentage", "expected"),
    [(33333, 12.5, 4167), (100, 33.33, 33), (1, 50, 1), (999_999_999_999, 99.99, 999_899_999_999)],
)
def test_a_percentage_deposit_rounds_to_the_minor_unit(total: int, percentage: float, expected: int) -> None:
    assert invoice_rules.percent_of(total, invoice_rules.hundredths(percentage)) == expected


def test_reminder_days() -> None:
    due, published = D("2026-05-10"), D("2026-05-01")
    kinds = {d: invoice_rules.reminder_due(due, published, D(d)) for d in ("2026-05-06", "2026-05-07", "2026-05-09")}
    assert kinds == {"2026-05-06": None, "2026-05-07": "before", "2026-05-09": "before"}
    assert invoice_rules.reminder_due(due, published, D("2026-05-10")) == "due"
    assert invoice_rules.reminder_due(due, published, D("2026-05-16")) == "due"
    assert invoice_rules.reminder_due(due, published, D("2026-05-17")) == "after"
    assert invoice_rules.reminder_due(due, D("2026-05-10"), D("2026-05-10")) is None
