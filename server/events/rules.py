"""What the platform hears (contract §11): every trail event is an account event whose `data` is
the object it changed, as the API shows it after the change. Which object that is comes from the
event's type and its trail data alone, here; the domain that keeps the object renders it.
Pure: no store, no HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from server.events.types import MutationRejected

KEPT_FOR = timedelta(days=30)

# What each event's `data` is, by the first part of its type: the kind of object, the schema the
# API reference names for it, and the trail field that holds its id.
JOB, ORDER, PAYMENT, REFUND, LINK, SMS, INVOICE, PLAN_CYCLE, REJECTION, ESTIMATE, APPROVAL = (
    "job",
    "order",
    "payment",
    "refund",
    "payment_link",
    "sms",
    "invoice",
    "plan_cycle",
    "mutation_rejection",
    "estimate",
    "approval_request",
)


@dataclass(frozen=True, slots=True)
class Kind:
    name: str
    schema: str  # the component the OpenAPI document describes it with
    what: str  # in words, for the reference


KINDS: dict[str, Kind] = {
    "job": Kind(JOB, "Job", "the job, as `GET /v1/jobs/{id}` shows it (its money and orders included)"),
    "order": Kind(ORDER, "Order", "the order, as `GET /v1/orders/{id}` shows it"),
    "payment": Kind(
        PAYMENT,
        "Payment",
        "the payment, as `GET /v1/payments/{id}` shows it; a job charge spread over several "
        "orders is one event per payment",
    ),
    "refund": Kind(REFUND, "Refund", "the refund, as `GET /v1/refunds/{id}` shows it"),
    "payment_link": Kind(LINK, "PaymentLink", "the payment link, as `GET /v1/payment-links/{id}` shows it"),
    "sms": Kind(SMS, "SmsMessage", "the text message, as `GET /v1/sms/{id}` shows it"),
    "invoice": Kind(INVOICE, "Invoice", "the invoice, as `GET /v1/invoices/{id}` shows it"),
    "plan": Kind(PLAN_CYCLE, "PlanCycleEventData", "the service plan with the cycle the event is about"),
    "autopay": Kind(PLAN_CYCLE, "PlanCycleEventData", "the service plan with the cycle the event is about"),
    "mutation": Kind(REJECTION, "MutationRejectedEventData", "the device's change that was refused, and why"),
    "estimate": Kind(ESTIMATE, "Estimate", "the estimate, as `GET /v1/estimates/{id}` shows it"),
    "approval": Kind(APPROVAL, "ApprovalRequest", "the approval request, as `GET /v1/approval-requests/{id}` shows it"),
}

# Every event type the server writes, and what happened, in words.
TYPES: dict[str, str] = {
    "job.created": "A job was made.",
    "job.assigned": "A job was given to a technician, or taken from one.",
    "job.updated": "A job's title, address or time changed.",
    "job.status_changed": "A job moved to another status.",
    "job.note_added": "A technician or the office wrote a note on a job.",
    "order.created": "An order was made.",
    "order.line_item_added": "A line was added to an order.",
    "order.line_item_removed": "A line was taken off an order.",
    "order.state_changed": "An order was completed or cancelled.",
    "order.updated": "An order's metadata changed (it may have moved to another job).",
    "order.deposit_applied": "Money kept on a deposit was applied to an order, or the amount applied changed.",
    "order.deposit_lowered": "A deposit order asked less after a refund (written by earlier versions only).",
    "order.line_items_moved": "Lines an earlier version let onto a deposit order moved to the job's work order.",
    "payment.captured": "A card payment was captured.",
    "payment.declined": "A card payment was declined.",
    "payment.recorded": "Cash or a check was recorded.",
    "refund.created": "Money was given back.",
    "payment_link.created": "A payment link was made.",
    "payment_link.cancelled": "A payment link was cancelled.",
    "sms.queued": "A text was queued to be sent.",
    "sms.sent": "Twilio sent a text.",
    "sms.delivered": "A text reached the phone.",
    "sms.failed": "A text could not be sent or delivered.",
    "sms.blocked": "A text was not sent: the number opted out.",
    "invoice.created": "An invoice was made.",
    "invoice.published": "An invoice was published (and texted, with a phone).",
    "invoice.cancelled": "An invoice was cancelled.",
    "invoice.paid": "An invoice was paid in full.",
    "invoice.reminder_sent": "A payment reminder for an invoice was texted.",
    "plan.cycle_billed": "A service plan's period was billed.",
    "estimate.created": "An estimate was drafted.",
    "estimate.updated": "A draft estimate was changed.",
    "estimate.sent": "An estimate was sent (its content frozen under its hash) or texted again.",
    "estimate.viewed": "The customer opened an estimate's page for the first time.",
    "estimate.approved": "The customer approved an estimate (and paid its deposit): it became the job's work order.",
    "estimate.declined": "The customer declined an estimate.",
    "estimate.expired": "An estimate passed its expiry unanswered.",
    "estimate.voided": "An estimate was voided.",
    "approval.requested": "The customer was texted a link and a code to approve added work.",
    "approval.approved": "The customer approved added work (on the page, by code, or in person): it counts from now.",
    "approval.declined": "The customer declined added work.",
    "autopay.charged": "An autopay cycle was charged to the card on file.",
    "autopay.failed": "An autopay charge failed; the cycle says when it is tried again.",
    "plan.past_due": "An autopay plan's last retry failed: nothing more is billed until it is paid or resumed.",
    "mutation.rejected": "A technician's device sent a change the server refused.",
}
ALL = "*"


class UnknownType(Exception):
    """A trail event of a type this catalogue does not describe: a server bug, logged."""


@dataclass(frozen=True, slots=True)
class Ref:
    """An object an event carries: its kind and its id (for a plan cycle, `plan_id/periodStart`)."""

    kind: str
    id: str


def kind_of(type: str) -> Kind:
    kind = KINDS.get(type.split(".", 1)[0])
    if kind is None or type not in TYPES:
        raise UnknownType(type)
    return kind


def affected(type: str, job_id: str | None, data: Mapping[str, Any]) -> list[Ref]:
    """The objects a trail event is about: one, but a job charge applied to several orders is one
    payment per order, and so one account event per payment."""
    kind = kind_of(type).name
    if kind == JOB:
        if job_id is None:
            raise UnknownType(f"{type} without a job")
        return [Ref(JOB, job_id)]
    if kind == PAYMENT:
        if not data["parts"] and data.get("estimateId"):
            return [Ref(ESTIMATE, str(data["estimateId"]))]  # a declined deposit: no payment, the estimate
        return [Ref(PAYMENT, str(part["paymentId"])) for part in data["parts"]]
    if kind == PLAN_CYCLE:
        return [Ref(PLAN_CYCLE, f"{data['servicePlanId']}/{data['periodStart']}")]
    if kind == REJECTION:
        return [Ref(REJECTION, f"{data['clientId']}/{data['mutationId']}")]
    field = {
        ORDER: "orderId",
        REFUND: "refundId",
        LINK: "paymentLinkId",
        SMS: "smsId",
        INVOICE: "invoiceId",
        ESTIMATE: "estimateId",
        APPROVAL: "approvalRequestId",
    }[kind]
    return [Ref(kind, str(data[field]))]


def rejection(data: Mapping[str, Any], device_id: str | None) -> MutationRejected:
    """`mutation.rejected`'s `data`, from what the trail kept and the device that sent it."""
    return MutationRejected(
        mutation_id=int(data["mutationId"]),
        name=str(data["name"]),
        code=str(data["code"]),
        detail=str(data["detail"]),
        device_id=device_id,
    )


def split_cycle(object_id: str) -> tuple[str, str]:
    """`plan_id/periodStart` -> (plan_id, periodStart)."""
    plan_id, _, period_start = object_id.partition("/")
    return plan_id, period_start


def unknown_types(wanted: list[str]) -> list[str]:
    """What an endpoint asks for that is neither an event type nor `*`."""
    return [name for name in wanted if name != ALL and name not in TYPES]


def wants(subscribed: list[str], type: str) -> bool:
    return ALL in subscribed or type in subscribed
