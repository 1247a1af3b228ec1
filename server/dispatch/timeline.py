"""A job's trail as a person reads it: each event becomes a line with a title, a few details,
the current status of what it made (a text's delivery, a link's state) and links to open it.

Written from each event's `type` and `data` alone, plus names looked up once per page. A type
this module has not met still shows: its type, and its data in words.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from server.clock import parse_time
from server.dispatch.rules import clock, status_label, when
from server.money import Money, display

MAX_DETAIL = 200


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    href: str


@dataclass(frozen=True, slots=True)
class Chip:
    """A status shown beside an event, in words; `tone` only colours it."""

    text: str
    tone: str = ""


@dataclass(frozen=True, slots=True)
class Lookup:
    """Names and current states, keyed by id, for the events of one page."""

    technicians: Mapping[str, str] = field(default_factory=dict)
    devices: Mapping[str, str] = field(default_factory=dict)
    customers: Mapping[str, str] = field(default_factory=dict)
    orders: Mapping[str, str] = field(default_factory=dict)
    text_status: Mapping[str, str] = field(default_factory=dict)
    text_errors: Mapping[str, int] = field(default_factory=dict)  # sms id -> Twilio's error code
    link_status: Mapping[str, str] = field(default_factory=dict)
    pay_pages: Mapping[str, str] = field(default_factory=dict)  # link id -> its pay page, when shown
    invoice_status: Mapping[str, str] = field(default_factory=dict)  # invoice id -> its state now
    invoice_pages: Mapping[str, str] = field(default_factory=dict)  # invoice id -> its page, when shown
    phone_page: Callable[[str], str] | None = None  # number -> the sandbox phone, when there is one
    estimate_status: Mapping[str, str] = field(default_factory=dict)  # estimate id -> its state now
    estimate_pages: Mapping[str, str] = field(default_factory=dict)  # estimate id -> its page, when shown
    approval_status: Mapping[str, str] = field(default_factory=dict)  # approval request id -> its status now
    approval_pages: Mapping[str, str] = field(default_factory=dict)  # approval request id -> its page, when shown


@dataclass(frozen=True, slots=True)
class Entry:
    seq: int
    at: str
    client_at: str | None
    type: str
    actor: str
    title: str
    tone: str = ""
    details: list[str] = field(default_factory=list)
    chips: list[Chip] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    @property
    def time(self) -> str:
        return clock(self.at)

    @property
    def device_time(self) -> str | None:
        """The device's own clock, with its day when that is not the server's day."""
        if self.client_at is None:
            return None
        try:
            same_day = parse_time(self.client_at).date() == parse_time(self.at).date()
            return clock(self.client_at) if same_day else when(self.client_at)
        except ValueError:
            return self.client_at[:40]


@dataclass(slots=True)
class Said:
    title: str
    tone: str = ""
    details: list[str] = field(default_factory=list)
    chips: list[Chip] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


Describe = Callable[[dict[str, Any], Lookup], Said]

TEXT_TONES = {"delivered": "good", "sent": "good", "failed": "bad", "undelivered": "bad", "blocked": "bad"}
LINK_TONES = {"paid": "good", "active": "info", "expired": "muted", "cancelled": "muted"}
ESTIMATE_TONES = {"approved": "good", "open": "info", "declined": "bad", "expired": "muted", "voided": "muted"}
APPROVAL_TONES = {"approved": "good", "pending": "info", "declined": "bad", "expired": "muted", "replaced": "muted",
                  "cancelled": "muted"}  # fmt: skip
CHANNELS = {"page": "on the approval page", "sms_code": "by replying the code", "device": "in person on the device"}
INVOICE_TONES = {"paid": "good", "unpaid": "info", "partially_paid": "info", "overdue": "bad", "cancelled": "muted"}
SYSTEM_NAMES = {
    "sms": "Texting",
    "recovery": "Recovery at start-up",
    "demo": "Demo data",
    "scheduler": "Scheduler",
    "billing": "Billing run",
    "invoices": "Invoices",
    "reminders": "Invoice reminders",
    "estimates": "Estimates",
    "approvals": "Approvals",
    "autopay": "Autopay",
}


def money(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("amount"), int) and isinstance(value.get("currency"), str):
        return display(Money(value["amount"], value["currency"]))
    return None


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def _words(key: str) -> str:
    """`orderTotalMoney` -> `Order total`."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in key.removesuffix("Money"))
    return spaced.replace("_", " ").strip().capitalize()


def _value(value: Any, look: Lookup) -> str:
    if (amount := money(value)) is not None:
        return amount
    if isinstance(value, dict):
        return ", ".join(f"{_words(k)} {_value(v, look)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_value(v, look) for v in value)
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def order_name(look: Lookup, order_id: Any) -> str:
    """`Order 2 · Onsite` where the page knows the job's orders; `Order` where it does not."""
    return look.orders.get(str(order_id), "Order")


def applied(data: dict[str, Any], look: Lookup) -> list[str]:
    """How one charge was spread over orders: any list of parts that carry an amount."""
    lines = []
    for value in data.values():
        if isinstance(value, list):
            for part in value:
                if isinstance(part, dict) and (amount := money(part.get("amountMoney"))) is not None:
                    where = order_name(look, part["orderId"]) if part.get("orderId") else "the job"
                    lines.append(f"{amount} applied to {where}")
    return lines


def summary(data: dict[str, Any], look: Lookup) -> list[str]:
    """Any event's data in words, one line per field."""
    lines = []
    for key, value in data.items():
        if key == "orderId" and value:
            lines.append(order_name(look, value))
        elif value not in (None, "", [], {}):
            lines.append(_clip(f"{_words(key)}: {_value(value, look)}"))
    return lines


def actor_name(kind: str, actor_id: str | None, look: Lookup) -> str:
    if kind == "office":
        return "Office"
    if kind == "device":
        return look.devices.get(actor_id or "", "A technician's device")
    if kind == "customer":
        name = look.customers.get(actor_id or "")
        return f"{name} (customer)" if name else "The customer"
    return SYSTEM_NAMES.get(actor_id or "", f"Flint ({actor_id})" if actor_id else "Flint")


def _technician(look: Lookup, technician_id: Any) -> str:
    return look.technicians.get(str(technician_id), str(technician_id))


def _job_created(d: dict[str, Any], look: Lookup) -> Said:
    details = [f"“{d['title']}”"] if d.get("title") else []
    if d.get("scheduledAt"):
        details.append(f"Scheduled for {when(d['scheduledAt'])}")
    return Said("Job created", "job", details)


def _assigned(d: dict[str, Any], look: Lookup) -> Said:
    if not d.get("technicianId"):
        return Said("Unassigned", "job")
    before = [f"was {_technician(look, d['previousTechnicianId'])}"] if d.get("previousTechnicianId") else []
    return Said(f"Assigned to {_technician(look, d['technicianId'])}", "job", before)


def _status(d: dict[str, Any], look: Lookup) -> Said:
    return Said(f"Status: {status_label(str(d.get('to')))}", "job", [f"was {status_label(str(d.get('from')))}"])


def _note(d: dict[str, Any], look: Lookup) -> Said:
    return Said("Note", "job", [f"“{d.get('text', '')}”"])  # whole: the technician wrote it for the office


def _order_created(d: dict[str, Any], look: Lookup) -> Said:
    total = money(d.get("totalMoney"))
    return Said(f"{order_name(look, d.get('orderId'))} created", "", [f"Total {total}"] if total else [])


def _line(verb: str) -> Describe:
    def said(d: dict[str, Any], look: Lookup) -> Said:
        quantity, unit = d.get("quantity", 1), money(d.get("unitPriceMoney"))
        details = [f"{quantity} × {unit}"]  # noqa: RUF001 - the sign people write if unit else []
        if total := money(d.get("orderTotalMoney")):
            details.append(f"{order_name(look, d.get('orderId'))} now totals {total}")
        if d.get("approval") == "pending":
            details.append("Waits for the customer's approval: counted in nothing until then")
        return Said(f"{verb} {d.get('name', 'a line item')}", "", details)

    return said


def _deposit_applied(d: dict[str, Any], look: Lookup) -> Said:
    amount, before = money(d.get("amountMoney")), money(d.get("previousMoney"))
    details = [f"was {before}"] if before else []
    if total := money(d.get("orderTotalMoney")):
        details.append(f"{order_name(look, d.get('orderId'))} now totals {total}")
    return Said(f"Deposit applied to {order_name(look, d.get('orderId'))}: {amount}", "money", details)


def _deposit_lowered(d: dict[str, Any], look: Lookup) -> Said:
    amount = money(d.get("amountMoney"))
    return Said(
        f"Deposit asked lowered by {amount}", "refund", [f"{order_name(look, d.get('orderId'))}, after a refund"]
    )


def _link_created(d: dict[str, Any], look: Lookup) -> Said:
    link_id = str(d.get("paymentLinkId"))
    what = "Balance link" if d.get("fixed") is False else "Payment link"
    said = Said(f"{what} for {money(d.get('amountMoney')) or 'the balance'}", "text")
    said.details = [str(d["name"])] if d.get("name") else []
    if d.get("orderId"):
        said.details.append(order_name(look, d["orderId"]))
    if status := look.link_status.get(link_id):
        said.chips.append(Chip(status.capitalize(), LINK_TONES.get(status, "")))
    if page := look.pay_pages.get(link_id):
        said.links.append(Link("Open the pay page", page))
    return said


def _text(title: str, current: bool = False) -> Describe:
    def said(d: dict[str, Any], look: Lookup) -> Said:
        to = str(d.get("to", ""))
        out = Said(title.format(to=to), "text")
        if d.get("paymentLinkId"):
            out.details.append("Carries the payment link")
        elif d.get("invoiceId"):
            out.details.append("About the invoice")
        error = d.get("errorCode") or (look.text_errors.get(str(d.get("smsId"))) if current else None)
        if error:
            out.details.append(f"Twilio error {error}")
        status = look.text_status.get(str(d.get("smsId")))
        if current and status:
            out.chips.append(Chip(status.capitalize(), TEXT_TONES.get(status, "info")))
        if current and look.phone_page is not None and to:
            out.links.append(Link("Open the customer's phone", look.phone_page(to)))
        return out

    return said


def _paid(d: dict[str, Any], look: Lookup) -> Said:
    amount = money(d.get("amountMoney"))
    method = str(d.get("method", "card"))
    said = Said(f"{'Card' if method == 'card' else method.capitalize()} payment {amount or ''}".strip(), "money")
    card = d.get("card")
    if isinstance(card, dict) and card.get("last4"):
        said.details.append(f"{str(card.get('brand', '')).title()} •••• {card['last4']}")
    parts = applied(d, look)
    said.details += parts or ([f"Paid on {order_name(look, d['orderId'])}"] if d.get("orderId") else [])
    if d.get("reference"):
        said.details.append(f"Reference {d['reference']}")
    return said


def _declined(d: dict[str, Any], look: Lookup) -> Said:
    reason = str(d.get("declineCode", "card_declined")).replace("_", " ")
    return Said(f"Card declined for {money(d.get('amountMoney')) or 'a payment'}", "bad", [f"Reason: {reason}"])


def _refund(d: dict[str, Any], look: Lookup) -> Said:
    details = [f"Reason: {_clip(str(d['reason']))}"] if d.get("reason") else []
    if d.get("orderId"):
        details.append(f"From {order_name(look, d['orderId'])}")
    return Said(f"Refund {money(d.get('amountMoney')) or ''}".strip(), "refund", details)


def _day(text: Any) -> str:
    """`2026-05-04` -> `May 4, 2026`; anything else as it is."""
    try:
        moment = parse_time(f"{text}T00:00:00Z")
    except (ValueError, IndexError):
        return str(text)
    return f"{moment:%b} {moment.day}, {moment.year}"


def _invoice(verb: str, tone: str, current: bool = False) -> Describe:
    def said(d: dict[str, Any], look: Lookup) -> Said:
        invoice_id = str(d.get("invoiceId"))
        number = d.get("number")
        out = Said(f"Invoice #{number} {verb}" if number else f"Invoice {verb}", tone)
        if total := money(d.get("totalMoney")):
            out.details.append(f"Total {total}")
        due, next_due = money(d.get("amountDueMoney")), d.get("nextDueDate")
        if due and next_due:
            out.details.append(f"{due} left; next payment due {_day(next_due)}")
        if paid := money(d.get("paidElsewhereMoney")):
            out.details.append(f"{paid} of it paid another way")
        if d.get("poNumber"):
            out.details.append(f"PO {_clip(str(d['poNumber']))}")
        if d.get("orderId"):
            out.details.append(order_name(look, d["orderId"]))
        if current and (state := look.invoice_status.get(invoice_id)):
            out.chips.append(Chip(state.replace("_", " ").capitalize(), INVOICE_TONES.get(state, "")))
        if current and (page := look.invoice_pages.get(invoice_id)):
            out.links.append(Link("Open the invoice page", page))
        return out

    return said


REMINDER_TITLES = {
    "before": "Reminder: {what} of {amount} due {day}",
    "due": "Reminder: {what} of {amount} due today",
    "after": "Reminder: {what} of {amount} overdue since {day}",
}


def _reminder(d: dict[str, Any], look: Lookup) -> Said:
    title, amount = REMINDER_TITLES[d["kind"]], money(d["amountDueMoney"])  # another shape: shown as data
    if amount is None:
        raise ValueError("a reminder without its amount")
    what = "the deposit" if d.get("type") == "deposit" else "the balance"
    said = Said(title.format(what=what, amount=amount, day=_day(d.get("dueDate"))), "text")
    said.details.append(f"Invoice #{d.get('number')}")
    return said


def _cycle(d: dict[str, Any], look: Lookup) -> Said:
    start, end = _day(d.get("periodStart")), _day(d.get("periodEnd"))
    said = Said(f"Service plan billed: {d.get('planName', 'a plan')}", "money", [f"Period {start} to {end}"])
    if total := money(d.get("totalMoney")):
        said.details.append(f"Total {total}")
    said.details.append(
        {"invoice": "By invoice", "autopay": "By autopay, to the card on file"}.get(
            str(d.get("billing")), "By a payment link texted to the customer"
        )
    )
    return said


def _autopay(verb: str, tone: str) -> Describe:
    def said(d: dict[str, Any], look: Lookup) -> Said:
        amount = money(d.get("amountMoney")) or ""
        out = Said(f"Autopay {verb} {amount}".strip() + f": {d.get('planName', 'a plan')}", tone)
        card = d.get("card")
        if isinstance(card, dict) and card.get("last4"):
            out.details.append(f"{str(card.get('brand', '')).title()} •••• {card['last4']}")
        if d.get("declineCode"):
            out.details.append(f"Reason: {str(d['declineCode']).replace('_', ' ')}")
        if d.get("nextAttemptAt"):
            again = when(str(d["nextAttemptAt"]))
            out.details.append(f"Tried again {again}; the customer was texted a link to update the card")
        elif verb == "declined":
            out.details.append("No retry left; the customer was texted a link to update the card")
        return out

    return said


def _past_due(d: dict[str, Any], look: Lookup) -> Said:
    return Said(
        f"Plan past due: {d.get('planName', 'a plan')}",
        "bad",
        ["Every retry was declined: nothing more is billed until the card is updated or the plan is resumed"],
    )


def _lines_moved(d: dict[str, Any], look: Lookup) -> Said:
    """Lines an earlier version let onto a deposit order, moved to the work when the store was brought up to date."""
    said = Said(f"Moved {len(d.get('uids', []))} line(s) from a deposit order to the work", "job")
    said.details.append(f"From {order_name(look, str(d['fromOrderId']))} to {order_name(look, str(d['toOrderId']))}")
    return said


def _estimate(verb: str, tone: str, current: bool = False) -> Describe:
    def said(d: dict[str, Any], look: Lookup) -> Said:
        estimate_id = str(d.get("estimateId"))
        number = d.get("number")
        out = Said(f"Estimate #{number} {verb}" if number else f"Estimate {verb}", tone)
        if d.get("title"):
            out.details.append(f"“{_clip(str(d['title']))}”")
        if start := money(d.get("fromMoney")):
            out.details.append(f"From {start}, {d.get('options', 1)} option(s)")
        if d.get("to"):
            out.details.append(f"Texted to {d['to']}")
        if d.get("optionName"):
            out.details.append(f"Option: {_clip(str(d['optionName']))}")
        if total := money(d.get("totalMoney")):
            out.details.append(f"Total {total}")
        if (deposit := money(d.get("depositMoney"))) and d.get("paymentId"):
            out.details.append(f"Deposit {deposit} paid")
        if d.get("signerName"):
            out.details.append(f"Signed by {_clip(str(d['signerName']))}")
        if d.get("orderId"):
            out.details.append(f"Became {order_name(look, d['orderId'])}")
        if d.get("reason"):
            out.details.append(f"Reason: {_clip(str(d['reason']))}")
        if d.get("contentHash"):
            out.details.append(f"Content hash {str(d['contentHash'])[:12]}…")
        if current and (state := look.estimate_status.get(estimate_id)):
            out.chips.append(Chip(state.capitalize(), ESTIMATE_TONES.get(state, "")))
        if current and (page := look.estimate_pages.get(estimate_id)):
            out.links.append(Link("Open the estimate page", page))
        return out

    return said


def _approval(verb: str, tone: str, current: bool = False) -> Describe:
    def said(d: dict[str, Any], look: Lookup) -> Said:
        request_id = str(d.get("approvalRequestId"))
        what = money(d.get("totalMoney"))
        out = Said(f"Added work {verb}" + (f": {what}" if what else ""), tone)
        out.details.append(f"{len(d.get('lineUids', []))} line(s) on {order_name(look, d.get('orderId'))}")
        if d.get("channel"):
            out.details.append(f"Approved {CHANNELS.get(str(d['channel']), str(d['channel']))}")
        if d.get("signerName"):
            out.details.append(f"Signed by {_clip(str(d['signerName']))}")
        if d.get("to"):
            out.details.append(f"Asked by text to {d['to']}")
        if total := money(d.get("jobTotalMoney")):
            out.details.append(f"Job total {'would be' if verb == 'put to the customer' else 'now'} {total}")
        if d.get("reason"):
            out.details.append(f"Reason: {_clip(str(d['reason']))}")
        if current and (status := look.approval_status.get(request_id)):
            out.chips.append(Chip(status.capitalize(), APPROVAL_TONES.get(status, "")))
        if current and (page := look.approval_pages.get(request_id)):
            out.links.append(Link("Open the approval page", page))
        return out

    return said


def _rejected(d: dict[str, Any], look: Lookup) -> Said:
    reason = f"{d.get('code', 'rejected')}: {d.get('detail', '')}".rstrip(": ")
    return Said(f"Device change refused: {d.get('name', 'a mutation')}", "bad", [_clip(reason)])


DESCRIBE: dict[str, Describe] = {
    "job.created": _job_created,
    "job.assigned": _assigned,
    "job.status_changed": _status,
    "job.note_added": _note,
    "order.created": _order_created,
    "order.line_item_added": _line("Added"),
    "order.line_item_removed": _line("Removed"),
    "order.deposit_applied": _deposit_applied,
    "order.deposit_lowered": _deposit_lowered,
    "order.line_items_moved": _lines_moved,
    "payment_link.created": _link_created,
    "sms.queued": _text("Text to {to}", current=True),
    "sms.blocked": _text("Text to {to} not sent: the number opted out", current=True),
    "sms.sent": _text("Text sent to {to}"),
    "sms.delivered": _text("Text delivered to {to}"),
    "sms.failed": _text("Text to {to} failed"),
    "payment.captured": _paid,
    "payment.recorded": _paid,
    "payment.declined": _declined,
    "refund.created": _refund,
    "mutation.rejected": _rejected,
    "invoice.created": _invoice("drafted", "job"),
    "invoice.published": _invoice("sent", "text", current=True),
    "invoice.paid": _invoice("paid in full", "money"),
    "invoice.cancelled": _invoice("cancelled", "bad"),
    "invoice.reminder_sent": _reminder,
    "plan.cycle_billed": _cycle,
    "estimate.created": _estimate("drafted", "job"),
    "estimate.updated": _estimate("changed", "job"),
    "estimate.sent": _estimate("sent", "text", current=True),
    "estimate.viewed": _estimate("opened by the customer", "job"),
    "estimate.approved": _estimate("approved", "money"),
    "estimate.declined": _estimate("declined", "bad"),
    "estimate.expired": _estimate("expired", "muted"),
    "estimate.voided": _estimate("voided", "muted"),
    "approval.requested": _approval("put to the customer", "text", current=True),
    "approval.approved": _approval("approved", "money"),
    "approval.declined": _approval("declined", "bad"),
    "autopay.charged": _autopay("charged", "money"),
    "autopay.failed": _autopay("declined", "bad"),
    "plan.past_due": _past_due,
}


def describe(
    seq: int,
    at: str,
    type: str,
    actor: tuple[str, str | None],
    data: dict[str, Any],
    look: Lookup,
    client_at: str | None,
) -> Entry:
    describer = DESCRIBE.get(type)
    if describer is None:
        said = Said(type, "", summary(data, look))
    else:
        try:
            said = describer(data, look)
        except (KeyError, TypeError, ValueError, AttributeError):  # data of an older or newer shape
            said = Said(type, "", summary(data, look))
    return Entry(
        seq=seq,
        at=at,
        client_at=client_at,
        type=type,
        actor=actor_name(actor[0], actor[1], look),
        title=said.title,
        tone=said.tone,
        details=said.details,
        chips=said.chips,
        links=said.links,
    )
