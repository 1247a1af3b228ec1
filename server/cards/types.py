"""Card links on the wire (contract §10): a one-use page that saves a customer's card for later
without charging it, and the text that carries it."""

from __future__ import annotations

from typing import Literal

import msgspec

from server.wire import Phone, Request, Timestamp

CardLinkStatus = Literal["active", "used", "expired"]


class CreateCardLink(Request):
    """`expiresAt` (default 7 days from now): after it the page saves nothing."""

    expires_at: Timestamp | None = None


class CardLink(msgspec.Struct, rename="camel"):
    """`url` is `FLINT_PUBLIC_URL/cards/<token>`; a link is `used` once a card was saved on it."""

    id: str
    customer_id: str
    url: str
    status: CardLinkStatus
    expires_at: Timestamp
    created_at: Timestamp
    service_plan_id: str | None = None  # an update-card link texted by a plan's dunning


class SendCardLink(Request):
    """`to` defaults to the customer's phone."""

    to: Phone | None = None
