"""Pure rules of an invoice: what each payment request asks now, what is left of it, the
invoice's state, which request is paid next, and which reminder is due. Integers only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from server.errors import FieldError, InvalidRequest, RuleViolation
from sync.ledger import display

DEFAULT_DUE = timedelta(days=30)
HUNDREDTHS = 10_000  # a percentage is kept in hundredths of a percent: 12.5% is 1250

ReminderKind = Literal["before", "due", "after"]
# Each reminder's day, counted from the due date.
REMINDER_DAYS: dict[ReminderKind, int] = {"before": -3, "due": 0, "after": 7}


@dataclass(frozen=True, slots=True)
class Ask:
    """A payment request as stored: a deposit of a fixed `amount` or a `percentage` (hundredths
    of a percent) of the order's total, or the balance."""

    uid: str
    type: str
    amount: int | None
    percentage: int | None
    due: date
    position: int


@dataclass(frozen=True, slots=True)
class Standing:
    """A request as it stands now. `paid`: taken through it, less refunds; `left`: what is still
    to pay on it, once money paid on the order some other way has counted too."""

    ask: Ask
    computed: int
    paid: int
    left: int
    in_flight: bool

    @property
    def uid(self) -> str:
        return self.ask.uid


def hundredths(percentage: float) -> int:
    """`12.5` -> 1250. More than two decimals is refused: money arithmetic stays in integers."""
    value = round(percentage * 100)
    if abs(percentage * 100 - value) > 1e-6 or not 0 < value < HUNDREDTHS:
        raise ValueError("must be more than 0 and less than 100, with at most two decimals")
    return value


def percent_of(total: int, share: int) -> int:
    """`share` hundredths of a percent of `total`, rounded to the minor unit (half up)."""
    return (total * share + HUNDREDTHS // 2) // HUNDREDTHS


def by_due_date(asks: Iterable[Ask]) -> list[Ask]:
    return sorted(asks, key=lambda a: (a.due, a.position))


def computed(asks: Sequence[Ask], total: int) -> dict[str, int]:
    """What each request asks now: deposits in the order they were given, each at most what is
    left of the total; the balance, the rest. They always add up to the total."""
    amounts: dict[str, int] = {}
    rest = total
    for ask in sorted(asks, key=lambda a: a.position):
        if ask.type == "deposit":
            want = ask.amount if ask.amount is not None else percent_of(total, ask.percentage or 0)
            amounts[ask.uid] = min(want, rest)
            rest -= amounts[ask.uid]
    for ask in asks:
        if ask.type == "balance":
            amounts[ask.uid] = rest
    return amounts


def standings(
    asks: Sequence[Ask],
    total: int,
    paid: Mapping[str, int],
    elsewhere: int,
    in_flight: Iterable[str] = (),
    cap: int | None = None,
) -> list[Standing]:
    """Each request with what is left of it, earliest due first. Money paid on the order outside
    the invoice (`elsewhere`), and money paid through a request past what it asks now (the order
    shrank), count toward the requests still open, earliest first. Together they never ask more
    than `cap`, what the order owes now (the one ledger's answer)."""
    amounts = computed(asks, total)
    flying = set(in_flight)
    ordered = by_due_date(asks)
    pool = max(0, elsewhere) + sum(max(0, paid.get(a.uid, 0) - amounts[a.uid]) for a in ordered)
    found = []
    for ask in ordered:
        asked, through = amounts[ask.uid], paid.get(ask.uid, 0)
        open_part = max(0, asked - through)
        counted = min(pool, open_part)
        pool -= counted
        left = open_part - counted
        if cap is not None:
            left = min(left, max(0, cap))
            cap -= left
        found.append(Standing(ask, asked, through, left, ask.uid in flying))
    return found


def state_of(status: str, order_state: str, requests: Sequence[Standing]) -> str:
    if status == "draft":
        return "draft"
    if status == "cancelled" or order_state == "cancelled":
        return "cancelled"
    if all(r.left == 0 for r in requests):
        return "paid"
    if any(r.left < r.computed for r in requests):
        return "partially_paid"
    return "unpaid"


def is_open(state: str) -> bool:
    return state in ("unpaid", "partially_paid")


def overdue(state: str, requests: Sequence[Standing], today: date) -> bool:
    """A request with something left is past its due date (the day after it, by UTC days)."""
    return is_open(state) and any(r.left > 0 and r.ask.due < today for r in requests)


def next_due(requests: Sequence[Standing]) -> Standing | None:
    """The request the invoice page pays next: the earliest with something left."""
    return next((r for r in requests if r.left > 0), None)


def reminder_due(due: date, published_on: date, today: date) -> ReminderKind | None:
    """The reminder for a request due on `due` that should have gone by `today`: the latest one
    whose day has come (a server that was down sends that one, not every one it missed), and
    only one whose day came after the invoice was published (the invoice's own text said it)."""
    kind: ReminderKind | None = None
    for name, offset in REMINDER_DAYS.items():
        day = due + timedelta(days=offset)
        if day <= today:
            kind = name if day > published_on else None
    return kind


# Charges through a request: one capture per request, unique in the store; a request owed again
# (a refund, or the balance grew) is collected by a second capture under its own key.


def capture_key(uid: str, captures_before: int) -> str:
    return uid if captures_before == 0 else f"{uid}:{captures_before + 1}"


def request_of(key: str) -> str:
    return key.split(":", 1)[0]


# Checking a new invoice.


@dataclass(frozen=True, slots=True)
class AskIn:
    """A payment request as given, its date and percentage already read."""

    type: str
    due: date
    amount: int | None
    currency: str | None
    percentage: int | None


def check_requests(asks: Sequence[AskIn], today: date) -> None:
    """The shape of a schedule (400 when broken): one balance, due on or after every deposit;
    each deposit with an amount or a percentage, never both; no due date in the past."""
    errors: list[FieldError] = []
    balances = [i for i, a in enumerate(asks) if a.type == "balance"]
    if len(balances) != 1:
        errors.append(FieldError("paymentRequests", "give exactly one request of type balance"))
    for index, ask in enumerate(asks):
        where = f"paymentRequests[{index}]"
        given = (ask.amount is not None) + (ask.percentage is not None)
        if ask.type == "deposit" and given != 1:
            errors.append(FieldError(where, "a deposit takes amountMoney or percentage, not both"))
        if ask.type == "balance" and given:
            errors.append(FieldError(where, "the balance is the rest of the order; it takes no amount"))
        if ask.due < today:
            errors.append(FieldError(f"{where}.dueDate", "must not be in the past"))
    if len(balances) == 1:
        balance_due = asks[balances[0]].due
        for index, ask in enumerate(asks):
            if ask.type == "deposit" and ask.due > balance_due:
                errors.append(FieldError(f"paymentRequests[{index}].dueDate", "a deposit is due before the balance"))
    if errors:
        raise InvalidRequest(errors[0].message if len(errors) == 1 else "check the payment requests", errors)


def check_deposits(asks: Sequence[AskIn], total: int, currency: str) -> None:
    """Deposits must leave something for the balance, in the order's currency (422)."""
    for ask in asks:
        if ask.currency is not None and ask.currency != currency:
            raise RuleViolation(
                "currency_mismatch", f"currency mismatch: the order is in {currency}, a deposit in {ask.currency}"
            )
    deposits = sum(
        ask.amount if ask.amount is not None else percent_of(total, ask.percentage or 0)
        for ask in asks
        if ask.type == "deposit"
    )
    if deposits >= total:
        raise RuleViolation(
            "deposit_exceeds_total",
            f"the deposits ({display(deposits, currency)}) must be less than the order's total"
            f" ({display(total, currency)})",
        )
