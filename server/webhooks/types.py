"""Wire types of webhook endpoints and their deliveries (contract §11)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from server.events.types import EventType
from server.wire import Request, Text, Timestamp

Url = Annotated[
    str, msgspec.Meta(min_length=1, max_length=2000, description="Where to POST events: https://, a public host.")
]
EventNames = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=64)]],
    msgspec.Meta(
        min_length=1,
        max_length=64,
        description="Event types to send (see `GET /v1/events`), or `*` for every type.",
    ),
]
EndpointStatus = Literal["enabled", "disabled"]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class CreateWebhookEndpoint(Request):
    url: Url
    events: EventNames
    description: Text | None = None


class UpdateWebhookEndpoint(Request):
    """Only what is given changes. Enabling an endpoint again clears what disabled it."""

    url: Url | None = None
    events: EventNames | None = None
    description: Text | None = None
    status: EndpointStatus | None = None


class WebhookEndpoint(msgspec.Struct, rename="camel"):
    """`disabledReason`: `office` (disabled through the API or the office page), `gone` (it
    answered 410), `failing` (every delivery failed for 3 days); null while enabled."""

    id: str
    url: str
    events: list[str]
    description: str | None
    status: EndpointStatus
    disabled_reason: Literal["office", "gone", "failing"] | None
    failing_since: Timestamp | None
    created_at: Timestamp
    updated_at: Timestamp


class WebhookEndpointWithSecret(WebhookEndpoint, rename="camel"):
    """The endpoint with its signing secret (`whsec_` + base64 of 32 random bytes), shown once:
    a replayed request (the same `Idempotency-Key`) answers `secret: null`."""

    secret: str | None
    previous_secret_expires_at: Timestamp | None


class WebhookDelivery(msgspec.Struct, rename="camel"):
    """One event to one endpoint. `attempts` counts every try, the first included;
    `nextAttemptAt` is when a pending one is tried again."""

    id: str
    endpoint_id: str
    event_id: str
    type: EventType
    job_id: str | None
    attempts: int
    status: DeliveryStatus
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: Timestamp | None
    last_attempt_at: Timestamp | None
    delivered_at: Timestamp | None
    created_at: Timestamp
