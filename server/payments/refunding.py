"""Giving money back: reserve the refund, ask the processor (cards only), complete it."""

from __future__ import annotations

import logging
from functools import partial

from server.errors import ProcessorUnavailable
from server.payments import refunds as service
from server.payments.desk import PaymentDesk
from server.payments.refunds import RefundPlan
from server.payments.types import CreateRefund, Refund
from server.wire import Actor

log = logging.getLogger("flint.refunds")


async def refund(desk: PaymentDesk, actor: Actor, data: CreateRefund, request_key: str | None) -> str:
    """Reserve and give back; returns the refund id, ready to be completed by the caller's
    transaction (which also stores the idempotent response)."""
    async with desk.locks.hold(f"refund:{data.payment_id}"):
        plan = await desk.db.write(partial(service.plan_refund, data=data, request_key=request_key))
        await _give_back(desk, plan)
        return plan.refund_id


async def _give_back(desk: PaymentDesk, plan: RefundPlan) -> None:
    if plan.status != "pending" or plan.charge_reference is None:
        return
    try:
        reference = await desk.processor.refund(plan.charge_reference, plan.amount, plan.refund_id)
    except Exception as exc:
        log.exception("refund %s failed at the processor", plan.refund_id)
        await desk.db.write(partial(service.fail_refund, refund_id=plan.refund_id))
        raise ProcessorUnavailable("the card processor did not take the refund; nothing was given back") from exc
    await desk.db.write(partial(service.note_processor_ref, refund_id=plan.refund_id, processor_ref=reference))


async def resume_pending(desk: PaymentDesk, actor: Actor) -> list[Refund]:
    """At start-up: refunds a dead process reserved are given back (same key) and completed."""
    done = []
    for plan in await desk.db.read(service.pending_refunds):
        await _give_back(desk, plan)
        done.append(await desk.db.write(partial(service.complete_refund, actor=actor, refund_id=plan.refund_id)))
    return done
