from __future__ import annotations

from typing import Literal

import msgspec

SmsStatus = Literal["queued", "sending", "sent", "delivered", "undelivered", "failed", "blocked"]


class SmsMessage(msgspec.Struct, rename="camel", omit_defaults=True):
    id: str
    to: str
    body: str
    status: SmsStatus
    provider_sid: str | None
    error_code: int | None
    attempts: int
    created_at: str
    updated_at: str
    payment_link_id: str | None = None
    invoice_id: str | None = None
    order_id: str | None = None
    job_id: str | None = None
