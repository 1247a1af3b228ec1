"""Account events, wired (contract §11): what each carries, the object it changed as the API
shows it, rendered by the domain that keeps it; and who must act on new events in their own
transaction (the webhook outbox). Made once per app, and for the demo's seeding: the events
domain, below every other, only calls what is registered here."""

from __future__ import annotations

from typing import Any

import msgspec

from server.approvals import service as approvals
from server.estimates import service as estimates
from server.events import rules
from server.events.service import Publisher, Renderer
from server.invoices import service as invoices
from server.jobs import service as jobs
from server.links import service as links
from server.messages import service as messages
from server.orders import service as orders
from server.payments import refunds
from server.payments import service as payments
from server.plans import service as plans
from server.store import Tx
from server.webhooks import service as webhooks


def publisher(public_url: str) -> Publisher:
    """The store's finishing step for account events (`Database.finishing`)."""
    made = Publisher(renderers(public_url))
    made.subscribe(webhooks.fan_out)
    return made


def renderers(public_url: str) -> dict[str, Renderer]:
    def link(tx: Tx, link_id: str) -> object:
        return links.get(tx, link_id, public_url)

    def invoice(tx: Tx, invoice_id: str) -> object:
        return invoices.get(tx, invoice_id, public_url)

    def estimate(tx: Tx, estimate_id: str) -> object:
        return estimates.get(tx, estimate_id, public_url)

    def approval_request(tx: Tx, request_id: str) -> object:
        return approvals.get(tx, request_id, public_url)

    return {
        rules.JOB: jobs.get,
        rules.ORDER: orders.rendered,
        rules.PAYMENT: payments.get,
        rules.REFUND: refunds.get_refund,
        rules.LINK: link,
        rules.SMS: messages.get,
        rules.INVOICE: invoice,
        rules.PLAN_CYCLE: plan_cycle,
        rules.ESTIMATE: estimate,
        rules.APPROVAL: approval_request,
    }


def plan_cycle(tx: Tx, object_id: str) -> dict[str, Any]:
    """The plan as `GET /v1/service-plans/{id}` shows it, with the cycle the event is about."""
    plan_id, period_start = rules.split_cycle(object_id)
    shown: dict[str, Any] = msgspec.to_builtins(plans.get(tx, plan_id))
    shown["cycle"] = msgspec.to_builtins(plans.cycle(tx, plan_id, period_start))
    return shown
