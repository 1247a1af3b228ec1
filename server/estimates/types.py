"""Estimates on the wire (contract §8): options (good, better, best) with optional lines, a deposit
by percentage or amount, terms and an expiry; frozen under a content hash once sent; approved
(with its deposit) or declined by the customer on its page."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money, MoneyIn, PositiveMoneyIn
from server.orders.types import Quantity
from server.wire import Id, Name, Phone, Request, Text, Timestamp, Uid, Version

EstimateState = Literal["draft", "open", "approved", "declined", "expired", "voided"]
# An estimate's lines become the job's work order's when approved: client kinds only.
EstimateLineKind = Literal["service", "addon", "travel", "material", "deposit", "discount"]
MAX_OPTIONS = 5
MAX_OPTION_LINES = 100


class EstimateLineIn(Request):
    """An option's line; an `optional` one is offered as a checkbox and left out of the option's total."""

    name: Name
    quantity: Quantity
    unit_price_money: MoneyIn
    kind: EstimateLineKind = "service"
    uid: Uid | None = None
    optional: bool = False


class EstimateOptionIn(Request):
    name: Name
    line_items: Annotated[list[EstimateLineIn], msgspec.Meta(min_length=1, max_length=MAX_OPTION_LINES)]


class DepositIn(Request):
    """Exactly one: a `percentage` of the chosen total (optional lines included, rounded half up
    to the minor unit), or a fixed `amountMoney`."""

    percentage: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    amount_money: PositiveMoneyIn | None = None


Options = Annotated[list[EstimateOptionIn], msgspec.Meta(min_length=1, max_length=MAX_OPTIONS)]


class CreateEstimate(Request):
    """One option is a single-price estimate; up to five are shown side by side."""

    job_id: Id
    title: Name
    options: Options
    deposit: DepositIn | None = None
    expires_at: Timestamp | None = None
    terms: Text | None = None


class UpdateEstimate(Request):
    """While `draft`: what is given replaces what was (`null` clears `deposit`, `expiresAt`, `terms`)."""

    version: Version
    title: Name | msgspec.UnsetType = msgspec.UNSET
    options: Options | msgspec.UnsetType = msgspec.UNSET
    deposit: DepositIn | msgspec.UnsetType | None = msgspec.UNSET
    expires_at: Timestamp | msgspec.UnsetType | None = msgspec.UNSET
    terms: Text | msgspec.UnsetType | None = msgspec.UNSET


class SendEstimate(Request):
    """Without `to`: the job's customer."""

    to: Phone | None = None


class EstimateLine(msgspec.Struct, rename="camel"):
    uid: str
    name: str
    quantity: int
    unit_price_money: Money
    kind: EstimateLineKind
    optional: bool
    total_money: Money


class EstimateOption(msgspec.Struct, rename="camel"):
    """`totalMoney` leaves the optional lines out."""

    id: str
    name: str
    line_items: list[EstimateLine]
    total_money: Money


class Deposit(msgspec.Struct, rename="camel", omit_defaults=True):
    percentage: int | None = None
    amount_money: Money | None = None


class EstimateApproval(msgspec.Struct, rename="camel"):
    """The customer's approval, as it happened: evidence, never changed. `contentHash` is the
    estimate's, so it says exactly what they were shown; `paymentId` is the deposit's (null
    without one); `orderId` the work order the approval made."""

    option_id: str
    optional_uids: list[str]
    signer_name: str
    channel: Literal["page"]
    at: Timestamp
    ip: str | None
    user_agent: str | None
    content_hash: str
    total_money: Money
    deposit_money: Money
    payment_id: str | None
    order_id: str


class Estimate(msgspec.Struct, rename="camel"):
    """`state` reads `expired` once an open estimate is past `expiresAt`. `contentHash` is the
    SHA-256 of the estimate's canonical JSON, taken at the first send and never changed; `url`
    is its page."""

    id: str
    number: int
    job_id: str
    customer_id: str | None
    title: str
    state: EstimateState
    version: int
    options: list[EstimateOption]
    deposit: Deposit | None
    expires_at: Timestamp | None
    terms: str | None
    content_hash: str | None
    url: str | None
    approval: EstimateApproval | None
    decline_reason: str | None
    sent_at: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class Quote(msgspec.Struct, rename="camel"):
    """What a choice on the estimate page comes to (for the page's own script)."""

    option_id: str
    optional_uids: list[str]
    total_money: Money
    deposit_money: Money
    total: str  # as people read it
    deposit: str
