"""Giving money back: reserve the refund, ask the processor (cards only), complete it.

A processor call that fails or takes too long leaves the refund in doubt, not failed: it stays
reserved (no second refund takes the same money) until `settle_in_doubt`, run at start-up and by
the scheduler, reads it back from the processor and, only when the processor has none, asks
again under the same key: the money is given back at most once even by a processor that does
not honour keys. A refund the processor answered for is never sent again, only completed. Only a
definite no from the processor fails a refund."""

from __future__ import annotations

import asyncio
import logging
from functools import partial

from server.errors import RefundInDoubt, RuleViolation
from server.payments import refunds as service
from server.payments.desk import PaymentDesk
from server.payments.processor import RefundRefused
from server.payments.refunds import RefundPlan
from server.payments.types import CreateRefund, Refund
from server.web.idempotency import IdempotencyKey
from server.wire import Actor

log = logging.getLogger("flint.refunds")


async def refund(desk: PaymentDesk, actor: Actor, data: CreateRefund, key: IdempotencyKey | None) -> str:
    """Reserve and give back; returns the refund id, ready to be completed by the caller's
    transaction (which also stores the idempotent response). Raises `RefundInDoubt` when the
    processor did not answer."""
    async with desk.locks.hold(_lock(data.payment_id)):
        plan = await desk.db.write(partial(service.plan_refund, data=data, key=key))
        await _give_back(desk, plan)
        return plan.refund_id


def _lock(payment_id: str) -> str:
    return f"refund:{payment_id}"


async def _give_back(desk: PaymentDesk, plan: RefundPlan) -> None:
    if plan.status != "pending" or plan.charge_reference is None:
        return
    if plan.reference is not None:
        return  # the processor gave it back already (its answer is kept): only completing is left
    try:
        reference = await asyncio.wait_for(
            desk.processor.refund(plan.charge_reference, plan.amount, plan.refund_id), desk.timeout
        )
    except RefundRefused as exc:
        await desk.db.write(partial(service.fail_refund, refund_id=plan.refund_id))
        raise RuleViolation("refund_refused", f"the card processor refused the refund: {exc}") from exc
    except Exception as exc:
        log.warning("refund %s has no answer from the processor; it is in doubt", plan.refund_id, exc_info=True)
        raise RefundInDoubt("the refund is being confirmed with the card processor", refundId=plan.refund_id) from exc
    await desk.db.write(partial(service.note_processor_ref, refund_id=plan.refund_id, processor_ref=reference))


async def settle_in_doubt(desk: PaymentDesk, actor: Actor) -> list[Refund]:
    """Refunds left pending (a dead process, an unanswered call) are asked for again under their
    own key and completed; ones the processor still cannot answer for wait for the next run."""
    done = []
    for plan in await desk.db.read(service.pending_refunds):
        async with desk.locks.hold(_lock(plan.payment_id)):
            current = await desk.db.read(partial(service.plan_of, refund_id=plan.refund_id))
            if current.status != "pending":
                continue
            if current.reference is None and current.charge_reference is not None:
                # Read back before asking again: not every processor honours the key (localstripe).
                try:
                    found = await asyncio.wait_for(desk.processor.find_refund(plan.refund_id), desk.timeout)
                except Exception:
                    log.warning("could not ask the processor about refund %s; asking again later", plan.refund_id)
                    continue
                if found is not None:
                    await desk.db.write(
                        partial(service.note_processor_ref, refund_id=plan.refund_id, processor_ref=found)
                    )
                    current = await desk.db.read(partial(service.plan_of, refund_id=plan.refund_id))
            try:
                await _give_back(desk, current)
            except (RefundInDoubt, RuleViolation):
                continue
            complete = partial(service.complete_refund, actor=actor, refund_id=plan.refund_id, business=desk.business)
            done.append(await desk.db.write(complete))
    return done
