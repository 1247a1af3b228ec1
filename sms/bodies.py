"""Message texts: short, with the business, the amount and the link, in one or two segments."""

from __future__ import annotations

from collections.abc import Callable

# The GSM 03.38 basic set and its extension (extension characters take two septets).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")
MAX_SEGMENTS = 2


def is_gsm(text: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in text)


def segments(text: str) -> int:
    """How many SMS segments the carrier bills for `text`."""
    if is_gsm(text):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        single, multi = 160, 153
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi = 70, 67
    return 1 if units <= single else -(-units // multi)


def _plain(text: str) -> str:
    """Names typed with curly quotes or dashes would turn the whole text into 70-character
    segments; say them in GSM characters instead."""
    swaps = {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
    text = "".join(swaps.get(ch, ch) for ch in text)
    return "".join(ch for ch in text if ch in _GSM_BASIC and ch not in "\r\n") or "your service"


def payment_request(business: str, what: str, amount: str, url: str) -> str:
    """`Flint Field Services: Dispatch deposit, $75.00. Pay securely: https://…/pay/…`"""
    business, what = _plain(business), _plain(what)
    while True:
        text = f"{business}: {what}, {amount}. Pay securely: {url}"
        if segments(text) <= MAX_SEGMENTS or len(what) <= 8:
            return text
        what = what[: max(8, len(what) - 10)].rstrip() + "..."


def plan_catch_up(business: str, plan: str, count: int, span: str, total: str, each: str, url: str) -> str:
    """Several periods of a plan billed at once, in one text:
    `Flint Field Services: Monthly maintenance, 3 periods billed (Jan 1 - Mar 31, 2026), $297.00 in all
    ($99.00 each). View and pay the latest: https://…`"""
    business, plan, span = _plain(business), _plain(plan), _plain(span)
    while True:
        text = f"{business}: {plan}, {count} periods billed ({span}), {total} in all ({each} each). " + (
            f"View and pay the latest: {url}"
        )
        if segments(text) <= MAX_SEGMENTS or len(plan) <= 8:
            return text
        plan = plan[: max(8, len(plan) - 10)].rstrip() + "..."


def _fit(build: Callable[[str], str], what: str) -> str:
    """The text `build(what)` makes, with `what` shortened until it fits in two segments."""
    what = _plain(what)
    while True:
        text = build(what)
        if segments(text) <= MAX_SEGMENTS or len(what) <= 8:
            return text
        what = what[: max(8, len(what) - 10)].rstrip() + "..."


def _still(owed: str | None) -> str:
    return f"Still owed: {owed}." if owed else "Nothing more is owed."


def receipt(business: str, amount: str, how: str, what: str, owed: str | None, url: str = "") -> str:
    """`Flint Field Services: receipt for $75.00 paid with card ending 4242 for AC not cooling.
    Still owed: $1,125.00. https://…` (`how`: `with card ending 4242`, `in cash`, `by check`)."""
    business = _plain(business)
    return _fit(lambda w: f"{business}: receipt for {amount} paid {how} for {w}. {_still(owed)} {url}".rstrip(), what)


def refund(business: str, amount: str, what: str, owed: str | None) -> str:
    """`Flint Field Services: we refunded $20.00 for AC not cooling. Still owed: $1,145.00.`"""
    business = _plain(business)
    return _fit(lambda w: f"{business}: we refunded {amount} for {w}. {_still(owed)}", what)


def invoice(business: str, number: int, total: str, url: str, due: str | None = None, when: str | None = None) -> str:
    """`Flint Field Services: invoice #12 for $1,500.00, $300.00 due May 4, 2026. View and pay: https://…`"""
    if due is None or when is None:
        return f"{_plain(business)}: invoice #{number} for {total}, paid in full. View it: {url}"
    return f"{_plain(business)}: invoice #{number} for {total}, {due} due {when}. View and pay: {url}"


REMINDER_WORDS = {
    "before": "is due {when}",
    "due": "is due today",
    "after": "was due {when} and is overdue",
}


def invoice_reminder(business: str, number: int, what: str, amount: str, kind: str, when: str, url: str) -> str:
    """`Flint Field Services: reminder, the deposit of $300.00 on invoice #12 is due May 4, 2026. Pay: https://…`"""
    state = REMINDER_WORDS[kind].format(when=when)
    return f"{_plain(business)}: reminder, the {_plain(what)} of {amount} on invoice #{number} {state}. Pay: {url}"


def estimate(business: str, number: int, title: str, amount: str, url: str) -> str:
    """`Flint Field Services: estimate #3, Water heater replacement, from $1,450.00. View and
    approve: https://…` (`amount`: the total, or `from` the smallest option's)."""
    business = _plain(business)
    return _fit(lambda w: f"{business}: estimate #{number}, {w}, {amount}. View and approve: {url}", title)


def approval_request(business: str, what: str, lines: list[tuple[str, str]], total: str, code: str, url: str) -> str:
    """`Flint Field Services: please approve added work on AC not cooling: Condensate pump $185.00.
    Job total would be $299.00. Reply 482913 to approve, or see: https://…` Several lines are each
    named with their price while they fit in two segments, else counted."""
    business = _plain(business)
    named = ", ".join(f"{_plain(name)} {price}" for name, price in lines)

    def build(w: str, added: str) -> str:
        return f"{business}: please approve added work on {w}: {added}. Job total would be {total}. " + (
            f"Reply {code} to approve, or see: {url}"
        )

    if segments(build(_plain(what), named)) > MAX_SEGMENTS and len(lines) > 1:
        named = f"{len(lines)} items"
    return _fit(lambda w: build(w, named), what)


def approval_confirmed(business: str, what: str, added: str, total: str) -> str:
    """`Flint Field Services: approved, thank you. $185.00 added to AC not cooling; the job's total is now $299.00.`"""
    business = _plain(business)
    return _fit(
        lambda w: f"{business}: approved, thank you. {added} added to {w}; the job's total is now {total}.", what
    )


def approval_code_mismatch(business: str) -> str:
    return (
        f"{_plain(business)}: that code did not match an approval request sent to this number, so nothing was"
        " approved. Check the code in our text, or open its link."
    )


def approval_codes_paused(business: str) -> str:
    return (
        f"{_plain(business)}: too many codes from this number did not match, so codes from it are paused for"
        " 24 hours and nothing was approved. Open the link in our text to approve instead."
    )


def approval_not_possible(business: str) -> str:
    return (
        f"{_plain(business)}: that request can no longer be approved by text (the work or its price changed)."
        " Nothing was approved; we will send you a new one."
    )


def save_card(business: str, url: str) -> str:
    """`Flint Field Services: save a card for your visits and plan payments. Securely: https://…/cards/…`"""
    return f"{_plain(business)}: save a card for your visits and plan payments. Securely: {url}"


def update_card(business: str, amount: str, what: str, url: str) -> str:
    """`Flint Field Services: your card was declined for $49.00 for Monthly maintenance. Update your
    card: https://…/cards/…`"""
    business = _plain(business)
    return _fit(lambda w: f"{business}: your card was declined for {amount} for {w}. Update your card: {url}", what)
