from __future__ import annotations

from typing import Literal

import msgspec

from server.money import Money
from server.wire import Id, Name, Request, Text, Timestamp, Version

JobStatus = Literal["scheduled", "dispatched", "en_route", "on_site", "completed", "cancelled"]


class CreateJob(Request):
    customer_id: Id
    title: Name
    address: Text
    technician_id: Id | None = None
    scheduled_at: Timestamp | None = None


class UpdateJob(Request):
    """Fields left out stay as they are; `technicianId: null` unassigns, `scheduledAt: null` unschedules."""

    version: Version
    technician_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    status: JobStatus | None = None
    title: Name | None = None
    address: Text | None = None
    scheduled_at: Timestamp | msgspec.UnsetType | None = msgspec.UNSET


class PaymentSummary(msgspec.Struct, rename="camel"):
    """What the customer owes on the job: sums over its orders; `balance = total - (paid -
    refunded)`; deposit money not applied to any order yet."""

    total_money: Money
    paid_money: Money
    refunded_money: Money
    balance_money: Money
    deposit_unapplied_money: Money


class JobOrder(msgspec.Struct, rename="camel"):
    id: str
    payment_stage: str | None
    total_money: Money
    balance_money: Money
    state: str


class Job(msgspec.Struct, rename="camel"):
    id: str
    customer_id: str
    technician_id: str | None
    title: str
    address: str
    status: JobStatus
    scheduled_at: Timestamp | None
    version: int
    created_at: Timestamp
    updated_at: Timestamp
    payment: PaymentSummary
    orders: list[JobOrder]
