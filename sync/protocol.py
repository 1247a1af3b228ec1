"""The sync protocol's wire types, shared by the device and the server (contract §7).

Schema evolution follows msgspec's rules: new fields get defaults, nothing is renamed or
retyped, and `SCHEMA_VERSION` moves only when an old client could no longer be served.

What a device sends is decoded strictly (contract §7, v3): a field the server does not know is
refused, since a typo (`referance`) must never quietly drop data. So the types a device sends
(`Sent`: the push and pull requests, each mutation, its arguments and their money) forbid
unknown fields. What a device pulls (the answers) stays lenient: an old app ignores the fields a
newer server adds, so the server can add them first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from sync.limits import Amount, Currency, Id, Name, Phone, PositiveAmount, Text, Uid

SCHEMA_VERSION = 1
MAX_PUSH = 500
MAX_PULL = 1000
DEFAULT_PULL = 200

MutationId = Annotated[int, msgspec.Meta(ge=1)]
ClientId = Id
Entity = Literal["job", "customer", "order", "payment", "paymentLink", "sms", "note"]
DeviceStatus = Literal["en_route", "on_site", "completed"]
# `deposit_applied` and `deposit_refunded` lines are made by the server alone (contract §3); a
# device never sends one.
LineItemKind = Literal[
    "service", "addon", "travel", "material", "deposit", "discount", "deposit_applied", "deposit_refunded"
]


class Sent(msgspec.Struct, rename="camel", forbid_unknown_fields=True):
    """Something a device sends: decoded strictly, a field the server does not know refused."""


class Money(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Money as a device sends it inside arguments, and as the server writes it everywhere:
    strict when decoded (a device reads pulled data as plain maps, never through this)."""

    amount: Amount
    currency: Currency


class PositiveMoney(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    amount: PositiveAmount
    currency: Currency


# Mutation arguments, one struct per mutation.


class SetJobStatusArgs(Sent):
    job_id: Id
    status: DeviceStatus


class AddJobNoteArgs(Sent):
    uid: Uid
    job_id: Id
    text: Text


class AddLineItemArgs(Sent, kw_only=True):
    """Exactly one of `order_id` and `job_id` (the job's one open work order; the server makes one
    when the job has none)."""

    order_id: Id | None = None
    uid: Uid
    name: Name
    quantity: Annotated[int, msgspec.Meta(ge=1, le=10000)]
    unit_price_money: Money
    kind: LineItemKind = "addon"
    job_id: Id | None = None
    needs_approval: bool | None = None  # true: a change order's line, owed by nobody until approved (§8)


class RemoveLineItemArgs(Sent):
    order_id: Id
    uid: Uid


class TextToPayArgs(Sent):
    """Exactly one of `job_id` (the job's balance) and `order_id` (the order's)."""

    uid: Uid
    order_id: Id | None = None
    amount_money: PositiveMoney | None = None
    to: Phone | None = None
    job_id: Id | None = None


class RecordOfflinePaymentArgs(Sent, kw_only=True):
    """Exactly one of `job_id` (applied oldest order first) and `order_id`."""

    uid: Uid
    order_id: Id | None = None
    amount_money: PositiveMoney
    method: Literal["cash", "check"]
    reference: Text | None = None
    job_id: Id | None = None


LineUids = Annotated[list[Uid], msgspec.Meta(min_length=1, max_length=MAX_PUSH)]
ContentHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}\Z", description="SHA-256, hex (contract §8).")]


class RequestApprovalArgs(Sent, kw_only=True):
    """Text the customer a link and a code to approve lines that wait for approval: exactly one of
    `order_id` and `job_id` (every order of the job with lines waiting: one request each);
    `line_uids`, only these."""

    uid: Uid
    order_id: Id | None = None
    job_id: Id | None = None
    line_uids: LineUids | None = None
    to: Phone | None = None


class RecordApprovalArgs(Sent, kw_only=True):
    """The customer approved these lines in person, having seen them: `content_hash` is the hash of
    the lines' canonical JSON (`sync.canonical.lines_hash`) as the device showed them."""

    uid: Uid
    order_id: Id
    line_uids: LineUids
    signer_name: Name
    content_hash: ContentHash


# Mutations: a union tagged by `name`. `id` counts 1, 2, 3, ... per `clientId`.


class BaseMutation(Sent, tag_field="name", kw_only=True):
    id: MutationId
    client_at: str | None = None


class SetJobStatus(BaseMutation, tag="job.setStatus"):
    args: SetJobStatusArgs


class AddJobNote(BaseMutation, tag="job.addNote"):
    args: AddJobNoteArgs


class AddLineItem(BaseMutation, tag="order.addLineItem"):
    args: AddLineItemArgs


class RemoveLineItem(BaseMutation, tag="order.removeLineItem"):
    args: RemoveLineItemArgs


class RequestTextToPay(BaseMutation, tag="textToPay.request"):
    args: TextToPayArgs


class RecordOfflinePayment(BaseMutation, tag="payment.recordOffline"):
    args: RecordOfflinePaymentArgs


class RequestApproval(BaseMutation, tag="approval.request"):
    args: RequestApprovalArgs


class RecordApproval(BaseMutation, tag="approval.record"):
    args: RecordApprovalArgs


Mutation = (
    SetJobStatus
    | AddJobNote
    | AddLineItem
    | RemoveLineItem
    | RequestTextToPay
    | RecordOfflinePayment
    | RequestApproval
    | RecordApproval
)
MUTATIONS: dict[str, type[BaseMutation]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (
        SetJobStatus,
        AddJobNote,
        AddLineItem,
        RemoveLineItem,
        RequestTextToPay,
        RecordOfflinePayment,
        RequestApproval,
        RecordApproval,
    )
}


class Envelope(Sent):
    """What every mutation has, whatever its name: enough to answer for it on its own. A field
    beside these is a malformed push (400); what `args` holds is the mutation's to judge."""

    id: MutationId
    name: str
    client_at: str | None = None
    args: msgspec.Raw = msgspec.Raw()


class Push(Sent):
    """What a device sends."""

    client_id: ClientId
    schema_version: int
    mutations: list[Mutation]


class PushRequest(Sent):
    """What the server reads: each mutation stays raw until it is answered for on its own, so
    one unknown or malformed mutation is rejected instead of failing the whole push."""

    client_id: ClientId
    schema_version: int
    mutations: Annotated[list[msgspec.Raw], msgspec.Meta(description="Mutations, in id order.")]


class MutationResult(msgspec.Struct, rename="camel", omit_defaults=True):
    id: int
    status: Literal["applied", "rejected"]
    code: str | None = None
    detail: str | None = None
    data: dict[str, Any] | None = None


class PushResponse(msgspec.Struct, rename="camel"):
    last_mutation_id: int
    results: list[MutationResult]


class PullRequest(Sent):
    client_id: ClientId
    schema_version: int
    cursor: str | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_PULL)] = DEFAULT_PULL


class Change(msgspec.Struct, rename="camel", omit_defaults=True):
    """`put` carries the entity as the office API shows it; `del` carries only its id."""

    op: Literal["put", "del"]
    entity: Entity
    id: str
    data: dict[str, Any] | None = None


class Rejection(msgspec.Struct, rename="camel"):
    mutation_id: int
    name: str
    code: str
    detail: str


class PullResponse(msgspec.Struct, rename="camel"):
    cursor: str
    has_more: bool
    reset: bool
    last_mutation_id: int
    changes: list[Change]
    rejections: list[Rejection]
    technician_id: str | None = None  # whose device token this is, so a device can tell on re-enrolling
