"""Wire types of `/v1/dispatch/*` (contract §6)."""

from __future__ import annotations

import msgspec

from server.jobs.types import JobStatus
from server.money import Money
from server.webhooks.types import WebhookEndpoint
from server.wire import Actor, Timestamp


class BoardTechnician(msgspec.Struct, rename="camel"):
    id: str
    name: str
    last_sync_at: Timestamp | None


class BoardJob(msgspec.Struct, rename="camel"):
    id: str
    title: str
    status: JobStatus
    technician_id: str | None
    customer_name: str
    scheduled_at: Timestamp | None
    total_money: Money
    paid_money: Money
    balance_money: Money
    last_event_at: Timestamp | None


class PastDuePlan(msgspec.Struct, rename="camel"):
    """An autopay plan whose last retry failed: its customer is past due."""

    service_plan_id: str
    name: str
    customer_id: str
    customer_name: str


class Board(msgspec.Struct, rename="camel"):
    """One page of the board: `jobs` in its order (by when they are due, unscheduled last),
    `nextCursor` for the next page (null on the last); every technician on each page.
    `disabledWebhookEndpoints`: endpoints Flint switched off after 3 days of failed deliveries
    (enable one again with `PATCH /v1/webhook-endpoints/{id}`). `pastDuePlans`: autopay plans
    past due (`POST /v1/service-plans/{id}/resume` tries the owed cycle again)."""

    technicians: list[BoardTechnician]
    jobs: list[BoardJob]
    disabled_webhook_endpoints: list[WebhookEndpoint]
    next_cursor: str | None = None
    past_due_plans: list[PastDuePlan] = []


class TrailNotice(msgspec.Struct, rename="camel"):
    """The `data` of each `event: trail` message on the stream; its `id` is `seq`."""

    job_id: str | None
    seq: int
    type: str
    at: Timestamp
    actor: Actor
