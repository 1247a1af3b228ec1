"""Charging a card from a customer page (a payment link or an invoice): reserve, ask the
processor, settle, one payer at a time per job. The processor is never called inside a database
transaction; the charge's id is its idempotency key, so a charge resumed after a crash is
answered with the first result instead of charging twice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from server.errors import ProcessorUnavailable
from server.payments import service
from server.payments.desk import PaymentDesk
from server.payments.processor import CardDetails, Charge
from server.payments.service import CardAttempt
from server.store import Row, Tx
from server.wire import Actor

log = logging.getLogger("flint.pay")

SYSTEM = Actor(kind="system", id="recovery")


@dataclass(frozen=True, slots=True)
class Settled:
    charge: Row


async def charge(
    desk: PaymentDesk,
    lock: str,
    begin: Callable[[Tx], CardAttempt | None],
    card: CardDetails,
    actor: Actor,
) -> Settled | None:
    """Run `begin` (one transaction: check what is due and reserve it, or None when nothing is
    left to do), charge the card, settle. Raises the rules `begin` raises, or
    `ProcessorUnavailable` (the charge stays in flight and is settled later, never charged twice)."""
    async with desk.locks.hold(lock):
        attempt = await desk.db.write(begin)
        if attempt is None:
            return None
        try:
            result = await desk.processor.charge(card, attempt.amount, idempotency_key=attempt.charge_id)
        except Exception as exc:
            log.exception("charge %s did not complete; it stays in flight and is settled later", attempt.charge_id)
            raise ProcessorUnavailable("the card processor did not answer; you have not been charged twice") from exc
        settled = await desk.db.write(
            partial(
                service.settle_card, actor=actor, charge_id=attempt.charge_id, result=result, business=desk.business
            )
        )
        return Settled(settled)


async def settle_abandoned(desk: PaymentDesk) -> int:
    """Charges left in flight by a dead process are settled by what the processor saw; one it
    never saw is declined as `not_completed`, freeing what it reserved."""
    pending = await desk.db.read(service.pending_cards)
    for attempt in pending:
        found = await desk.processor.find_charge(attempt.charge_id)
        result = found or Charge(approved=False, brand="unknown", last4="", decline_code="not_completed")
        await desk.db.write(
            partial(
                service.settle_card, actor=SYSTEM, charge_id=attempt.charge_id, result=result, business=desk.business
            )
        )
    return len(pending)
