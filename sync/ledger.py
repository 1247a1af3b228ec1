"""The one rule for what every order and every job owes (contract §3), shared by the server and
both device clients, so every surface shows the same figures. Integers in minor units.

A job's orders are its *deposit orders* (their `paymentStage` says `deposit`: they ask for part
of the work early) and its *work orders* (every other order that is not cancelled).

- An order's *base* is what its client lines add up to: lines that count (not pending or
  declined approval) and are not Flint's own (`deposit_applied`, `deposit_refunded`); a
  `discount` subtracts. Money *held* on an order is what was paid, plus card money still in
  doubt (it counts as paid until it settles), less what was refunded.
- Money held on deposit orders is applied to the work orders, oldest first, each up to what it
  still owes before the deposit; what cannot be applied yet is *unapplied*.
- A work order's total is its base less the deposit applied to it; it owes its total less what
  it holds.
- A deposit order shows its ask less what was refunded of it (a `Deposit refunded` line), and
  still asks its base less what was paid on it. Until the job has a work order that is what it
  owes; after, never more than the work orders still owe: a deposit is part of the work, never
  money on top of it.
- The job's total is its work orders' bases (until it has one: its deposit orders' totals); its
  balance is what one payment for the whole job collects now: what the work orders owe (until
  there is one: what the deposit orders ask). Money paid to the job as a whole goes to the
  orders that owe, oldest first (`allocate`), and paying the balance leaves 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

DEPOSIT_APPLIED = "deposit_applied"
DEPOSIT_REFUNDED = "deposit_refunded"
SYSTEM_KINDS = frozenset({DEPOSIT_APPLIED, DEPOSIT_REFUNDED})  # lines Flint alone writes
SUBTRACTING = frozenset({"discount", DEPOSIT_APPLIED, DEPOSIT_REFUNDED})
COUNTING_APPROVALS = frozenset({"none", "approved"})  # a pending or declined change is owed by nobody
MAX_AMOUNT = 999_999_999_999  # the largest amount, line total, order or job total (contract §1)


def line_amount(quantity: int, unit_amount: int) -> int:
    return quantity * unit_amount


def signed_amount(kind: str, amount: int) -> int:
    return -amount if kind in SUBTRACTING else amount


def counts(kind: str, approval: str = "none") -> bool:
    """Whether a line is part of its order's base: a client line the customer owes."""
    return kind not in SYSTEM_KINDS and approval in COUNTING_APPROVALS


def base_of(lines: Iterable[tuple[str, int, int, str]]) -> int:
    """An order's base from its lines, each `(kind, quantity, unit amount, approval)`."""
    return sum(
        signed_amount(kind, line_amount(quantity, unit)) for kind, quantity, unit, approval in lines
        if counts(kind, approval)
    )  # fmt: skip


def balance(total: int, paid: int, refunded: int) -> int:
    return total - (paid - refunded)


def is_deposit_stage(payment_stage: str | None) -> bool:
    """A deposit order asks for money up front (`dispatch_deposit`, `deposit`, ...)."""
    return payment_stage is not None and "deposit" in payment_stage


@dataclass(frozen=True, slots=True)
class OrderMoney:
    """One order as the rule takes it; a job's orders come oldest (first made) first."""

    id: str
    base: int
    paid: int = 0  # captured
    refunded: int = 0  # given back
    pending: int = 0  # card money in doubt: counts as paid until it settles
    deposit: bool = False
    cancelled: bool = False

    @property
    def held(self) -> int:
        return self.paid + self.pending - self.refunded

    @property
    def work(self) -> bool:
        return not self.deposit and not self.cancelled


@dataclass(frozen=True, slots=True)
class OrderFigures:
    applied: int  # deposit applied to a work order (its `Deposit applied` line)
    refunded_deposit: int  # given back of a deposit order (its `Deposit refunded` line)
    total: int
    balance: int  # what the order owes now


@dataclass(frozen=True, slots=True)
class JobFigures:
    orders: dict[str, OrderFigures]
    total: int
    paid: int  # card money in doubt included
    refunded: int
    balance: int
    unapplied: int  # money held on deposit orders not applied to work (yet)
    has_work: bool

    def of(self, order_id: str) -> OrderFigures:
        return self.orders[order_id]


NOTHING = OrderFigures(0, 0, 0, 0)


def figure(orders: Sequence[OrderMoney]) -> JobFigures:
    """Every figure of a job (or of an order on no job, alone) from its orders."""
    left = sum(max(0, o.held) for o in orders if o.deposit and not o.cancelled)
    applied: dict[str, int] = {}
    for order in orders:
        if order.work:
            applied[order.id] = min(left, max(0, order.base - order.held))
            left -= applied[order.id]
    found: dict[str, OrderFigures] = {}
    work_owes = 0
    for order in orders:
        if order.work:
            total = order.base - applied[order.id]
            found[order.id] = OrderFigures(applied[order.id], 0, total, max(0, total - order.held))
            work_owes += found[order.id].balance
    has_work = bool(applied)
    deposits_ask = 0
    for order in orders:
        if order.cancelled:
            found[order.id] = NOTHING
        elif order.deposit:
            asks = max(0, order.base - order.paid - order.pending)
            deposits_ask += asks
            owes = min(asks, work_owes) if has_work else asks
            found[order.id] = OrderFigures(0, order.refunded, order.base - order.refunded, owes)
    live = [o for o in orders if not o.cancelled]
    total = sum(o.base for o in live if o.work) if has_work else sum(found[o.id].total for o in live)
    return JobFigures(
        orders={o.id: found[o.id] for o in orders},
        total=total,
        paid=sum(o.paid + o.pending for o in orders),
        refunded=sum(o.refunded for o in orders),
        balance=work_owes if has_work else deposits_ask,
        unapplied=left,
        has_work=has_work,
    )


def allocate(orders: Sequence[OrderMoney], amount: int | None = None) -> list[tuple[str, int]]:
    """Split `amount` (None: the job's balance) over the orders that owe, oldest first. Paying a
    deposit order applies more deposit to the work after it, so each step works the figures out
    again over what the earlier steps paid."""
    current = list(orders)
    parts: list[tuple[str, int]] = []
    left = amount
    for index, order in enumerate(current):
        if left == 0:
            break
        due = figure(current).of(order.id).balance
        take = due if left is None else min(left, due)
        if take <= 0:
            continue
        parts.append((order.id, take))
        current[index] = replace(order, pending=order.pending + take)
        if left is not None:
            left -= take
    return parts


def due_now(orders: Sequence[OrderMoney]) -> int:
    """What the job owes now, as one payment would collect it."""
    return figure(orders).balance


_ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_THREE_DECIMAL = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}


def decimals(currency: str) -> int:
    if currency in _ZERO_DECIMAL:
        return 0
    return 3 if currency in _THREE_DECIMAL else 2


def display(amount: int, currency: str) -> str:
    """How a person reads an amount: `$75.00`, `€1,200.50`, `12.00 CHF`, `-$5.00`."""
    sign, amount = ("-" if amount < 0 else ""), abs(amount)
    places = decimals(currency)
    if places == 0:
        number = f"{amount:,}"
    else:
        unit = 10**places
        number = f"{amount // unit:,}.{amount % unit:0{places}d}"
    symbol = _SYMBOLS.get(currency)
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
