from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.money import Money
from server.wire import Id, Name, Timestamp, Version

JobStatus = Literal["scheduled", "dispatched", "en_route", "on_site", "completed", "cancelled"]
Address = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class CreateJob(msgspec.Struct, rename="camel"):
    customer_id: Id
    title: Name
    address: Address
    technician_id: Id | None = None
    scheduled_at: Timestamp | None = None


class UpdateJob(msgspec.Struct, rename="camel"):
    """Fields left out stay as they are; `technicianId: null` unassigns, `scheduledAt: null` unschedules."""

    version: Version
    technician_id: Id | msgspec.UnsetType | None = msgspec.UNSET
    status: JobStatus | None = None
    title: Name | None = None
    address: Address | None = None
    scheduled_at: Timestamp | msgspec.UnsetType | None = msgspec.UNSET


class PaymentSummary(msgspec.Struct, rename="camel"):
    total_money: Money
    paid_money: Money
    refunded_money: Money
    balance_money: Money


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
