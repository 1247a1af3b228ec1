"""Pure rules of an estimate: its lines' figures, what a choice (an option and its optional
lines) comes to, the deposit approving asks, the state it reads now, and its canonical content,
the bytes its hash is taken over (contract §8). Integers only; a line's amount and sign are the
one ledger's (`sync.ledger`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.errors import FieldError, InvalidRequest, RuleViolation
from sync import ledger
from sync.canonical import canonical_json, content_hash


@dataclass(frozen=True, slots=True)
class Line:
    uid: str
    name: str
    quantity: int
    unit_amount: int
    kind: str
    optional: bool

    @property
    def amount(self) -> int:
        return ledger.line_amount(self.quantity, self.unit_amount)

    @property
    def signed(self) -> int:
        return ledger.signed_amount(self.kind, self.amount)


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    name: str
    lines: list[Line]

    @property
    def total(self) -> int:
        """What the option comes to without its optional lines."""
        return sum(line.signed for line in self.lines if not line.optional)

    def line(self, uid: str) -> Line | None:
        return next((line for line in self.lines if line.uid == uid), None)


@dataclass(frozen=True, slots=True)
class Choice:
    """An option and the optional lines ticked, and what they come to."""

    option: Option
    optional: list[Line]

    @property
    def lines(self) -> list[Line]:
        ticked = {line.uid for line in self.optional}
        return [line for line in self.option.lines if not line.optional or line.uid in ticked]

    @property
    def total(self) -> int:
        return sum(line.signed for line in self.lines)

    @property
    def optional_uids(self) -> list[str]:
        return [line.uid for line in self.optional]


def choose(options: Sequence[Option], option_id: str | None, optional_uids: Sequence[str]) -> Choice:
    """The choice a form posted; a choice the estimate does not offer is malformed."""
    option = next((o for o in options if o.id == option_id), None)
    if option is None:
        raise InvalidRequest("choose one of the estimate's options", [FieldError("optionId", "is not an option")])
    ticked: list[Line] = []
    for uid in dict.fromkeys(optional_uids):  # a box posted twice is one box
        line = option.line(uid)
        if line is None or not line.optional:
            raise InvalidRequest(
                "tick only the optional lines of the option chosen",
                [FieldError("optionalUids", f"{uid[:64]} is not an optional line of that option")],
            )
        ticked.append(line)
    return Choice(option, ticked)


def smallest(options: Sequence[Option]) -> int:
    """What the cheapest option comes to (a text says `from` it)."""
    return min(option.total for option in options)


def deposit_asked(total: int, percentage: int | None, amount: int | None) -> int:
    """What approving asks of `total` before what the job keeps: `percentage` of it rounded half
    up to the minor unit, or `amount` (never more than the total)."""
    if percentage is not None:
        return (total * percentage + 50) // 100
    if amount is not None:
        return min(amount, max(0, total))
    return 0


def deposit_due(total: int, percentage: int | None, amount: int | None, kept: int) -> int:
    """The deposit approving takes now: what is asked, less what the job already keeps on its
    deposit orders; never below 0 (and 0 takes no card)."""
    return max(0, deposit_asked(total, percentage, amount) - max(0, kept))


def state_of(stored: str, expires_at: str | None, now: str) -> str:
    """An open estimate past `expiresAt` reads `expired`."""
    if stored == "open" and expires_at is not None and expires_at <= now:
        return "expired"
    return stored


def check_options(options: Sequence[Option], currencies: Sequence[str]) -> None:
    """Every line in one currency, uids unique across the estimate, and every choice's total
    within what Flint can hold and never below zero."""
    if len(set(currencies)) > 1:
        raise RuleViolation(
            "currency_mismatch", f"an estimate is in one currency, not {', '.join(sorted(set(currencies)))}"
        )
    uids = [line.uid for option in options for line in option.lines]
    if len(uids) != len(set(uids)):
        raise InvalidRequest(
            "two lines share a uid", [FieldError("options", "line uids must be unique in an estimate")]
        )
    for index, option in enumerate(options):
        most = option.total + sum(line.signed for line in option.lines if line.optional and line.signed > 0)
        least = option.total + sum(line.signed for line in option.lines if line.optional and line.signed < 0)
        for line in option.lines:
            if line.amount > ledger.MAX_AMOUNT:
                raise RuleViolation("amount_too_large", f"a line of option {index + 1} is past the largest amount")
        if most > ledger.MAX_AMOUNT:
            raise RuleViolation("amount_too_large", f"option {index + 1} could come to more than Flint can hold")
        if least < 0:
            raise RuleViolation("negative_total", f"discounts would take option {index + 1} below zero")


def content(
    title: str,
    options: Sequence[Option],
    currency: str,
    percentage: int | None,
    amount: int | None,
    terms: str | None,
    expires_at: str | None,
) -> dict[str, Any]:
    """The estimate as its hash takes it: `{title, options, deposit, terms, expiresAt}`, every
    line with its `kind` and `optional`, `deposit` and `terms` null when absent."""
    deposit: dict[str, Any] | None = None
    if percentage is not None:
        deposit = {"percentage": percentage}
    elif amount is not None:
        deposit = {"amountMoney": {"amount": amount, "currency": currency}}
    return {
        "title": title,
        "options": [
            {
                "id": option.id,
                "name": option.name,
                "lineItems": [
                    {
                        "uid": line.uid,
                        "name": line.name,
                        "quantity": line.quantity,
                        "unitPriceMoney": {"amount": line.unit_amount, "currency": currency},
                        "kind": line.kind,
                        "optional": line.optional,
                    }
                    for line in option.lines
                ],
            }
            for option in options
        ],
        "deposit": deposit,
        "terms": terms,
        "expiresAt": expires_at,
    }


def frozen(value: dict[str, Any]) -> tuple[str, str]:
    """The canonical JSON of an estimate's content and its SHA-256."""
    return canonical_json(value), content_hash(value)
