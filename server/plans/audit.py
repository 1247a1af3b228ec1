"""`flint doctor`'s look at card on file and autopay (contract §10), pure functions over the rows
`server/store/audit.py` reads: every autopay attempt agrees with its charge, a cycle's state with
its attempts, no setup or charge left in flight, retries that are overdue, plans past due, and
saved cards that have expired or that another processor keeps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.clock import parse_time
from server.store import Row

LATE = timedelta(minutes=10)  # the billing run, every minute, makes a due retry within this


@dataclass(frozen=True, slots=True)
class Finding:
    where: str
    what: str
    fix: str = ""


def check(
    attempts: Sequence[Row],
    cycles: Sequence[Row],
    charges: Sequence[Row],
    setups: Sequence[Row],
    cards: Sequence[Row],
    now: datetime,
    processor: str | None = None,
) -> tuple[list[Finding], list[str]]:
    """(problems, notes)."""
    problems: list[Finding] = []
    notes: list[str] = []
    status_of = {c["id"]: c["status"] for c in charges}
    paid: dict[tuple[str, int], int] = defaultdict(int)
    in_flight = {(a["plan_id"], a["period"]) for a in attempts if a["status"] == "pending"}
    for attempt in attempts:
        where = f"autopay attempt {attempt['attempt']} of plan {attempt['plan_id']}, period {attempt['period']}"
        if attempt["status"] == "captured":
            paid[(attempt["plan_id"], attempt["period"])] += 1
        charge = attempt["charge_id"]
        if charge is None:
            continue  # no card on file: nothing was charged
        if charge not in status_of:
            problems.append(Finding(where, f"names charge {charge}, which does not exist", "restore it from a backup"))
        elif status_of[charge] != attempt["status"]:
            problems.append(
                Finding(
                    where,
                    f"is {attempt['status']} but its charge {charge} is {status_of[charge]}",
                    "start `flint serve` on this store: it settles the charge and its cycle together",
                )
            )
    for key, count in paid.items():
        if count > 1:
            problems.append(
                Finding(
                    f"plan {key[0]}, period {key[1]}",
                    f"was charged {count} times by autopay",
                    "refund the extra charge; compare with the processor's",
                )
            )
    for cycle in cycles:
        where = f"plan {cycle['plan_id']} ({cycle['plan_name']}), period from {cycle['period_start']}"
        key = (cycle["plan_id"], cycle["period"])
        if cycle["autopay"] == "paid" and paid[key] == 0:
            notes.append(f"{where} was paid another way than autopay")
        if cycle["autopay"] != "paid" and paid[key] > 0:
            problems.append(Finding(where, f"has a captured autopay charge but says {cycle['autopay']}"))
        due = cycle["next_attempt_at"]
        waiting = cycle["autopay"] in ("due", "retrying") and cycle["plan_status"] == "active"
        if waiting and due and key not in in_flight:
            late = now - parse_time(due)
            if late >= LATE:
                problems.append(
                    Finding(
                        where,
                        f"its autopay charge was due {due} and was not made",
                        "start `flint serve` on this store: its billing run makes every charge that is due",
                    )
                )
            elif cycle["autopay"] == "retrying":
                notes.append(f"{where}: retry {cycle['retries'] + 1} of 3 is due {due}")
    for plan_id, name in sorted({(c["plan_id"], c["plan_name"]) for c in cycles if c["plan_status"] == "past_due"}):
        notes.append(f"plan {plan_id} ({name}) is past due: its last retry failed")
    for setup in setups:
        if setup["status"] == "pending":
            age = now - parse_time(setup["created_at"])
            what = f"has been saving a card for {int(age.total_seconds() // 60)} min"
            if age >= LATE:
                problems.append(
                    Finding(f"card setup {setup['id']}", what, "start `flint serve`: it asks the processor")
                )
            else:
                notes.append(f"card setup {setup['id']} is in flight")
        if setup["status"] == "saved" and setup["saved_card_id"] is None:
            problems.append(Finding(f"card setup {setup['id']}", "is saved but names no saved card"))
    active = [c for c in cards if c["status"] == "active"]
    for card in active:
        if (card["exp_year"], card["exp_month"]) < (now.year, now.month):
            notes.append(f"customer {card['customer_id']}'s card on file ({card['last4']}) has expired")
        if processor is not None and card["processor"] != processor:
            notes.append(f"customer {card['customer_id']}'s card on file was saved with {card['processor']}")
    if active:
        notes.append(f"{len(active)} card(s) on file")
    return problems, notes
