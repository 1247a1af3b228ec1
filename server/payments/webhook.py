"""`POST /v1/webhooks/stripe` (contract §10): Stripe telling Flint that a PaymentIntent or a
SetupIntent moved. The call only prompts Flint to read that attempt back from Stripe
(`PaymentDesk.read_back`); what Flint records is what it reads, never what the webhook says, so a
forged, duplicated, late or out-of-order webhook changes nothing it should not. The signature
(`Stripe-Signature`, with `STRIPE_WEBHOOK_SECRET`) must verify, else 400."""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from litestar import Request, Response, Router, post
from litestar.di import NamedDependency

from server.errors import InvalidRequest
from server.payments.desk import PaymentDesk
from server.web.context import Ctx

log = logging.getLogger("flint.stripe")
TOLERANCE = 300  # seconds a signed timestamp may be old (Stripe's own default)


@post("/v1/webhooks/stripe", status_code=200, include_in_schema=False)
async def stripe_webhook(
    request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Response[Any]:
    stripe_settings = ctx.settings.stripe
    if stripe_settings is None:
        raise InvalidRequest("this server does not use Stripe")
    payload = (await request.body()).decode("utf-8", errors="replace")
    try:
        stripe.WebhookSignature.verify_header(
            payload, request.headers.get("stripe-signature", ""), stripe_settings.webhook_secret, TOLERANCE
        )
        event = json.loads(payload)
        found = event["data"]["object"]
        metadata = found.get("metadata") or {}
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError, AttributeError):
        raise InvalidRequest("the Stripe-Signature does not verify for this body") from None
    for field, read_back in desk.read_back.items():
        key = metadata.get(field)
        if isinstance(key, str) and 0 < len(key) <= 64:
            log.info("Stripe webhook %s: reading %s back", str(event.get("type"))[:60], key)
            try:
                await read_back(key)
            except Exception:  # the attempt is read back again by the next settling run
                log.warning("reading back %s %s after a webhook failed", field, key, exc_info=True)
    return Response({"received": True}, status_code=200)


router = Router("/", route_handlers=[stripe_webhook])
