"""Paying a link from the hosted page: begin, charge, finish, one payer at a time per link."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from server.clock import parse_time
from server.errors import ProcessorUnavailable
from server.links import checkout
from server.links.checkout import Attempt, PageModel
from server.payments.desk import PaymentDesk
from server.payments.processor import Charge
from server.store import Tx
from server.wire import Actor

log = logging.getLogger("flint.pay")

SYSTEM = Actor(kind="system", id="recovery")


@dataclass(frozen=True, slots=True)
class Paid:
    model: PageModel


@dataclass(frozen=True, slots=True)
class Declined:
    model: PageModel
    code: str


async def pay(desk: PaymentDesk, token: str, form: Mapping[str, str]) -> Paid | Declined:
    """Raises NotFound (404), Gone (410), InvalidRequest (400) or ProcessorUnavailable (502)."""
    db = desk.db
    async with desk.locks.hold(f"pay:{token}"):
        model = await db.read(partial(checkout.page_model, token=token))
        if model.status == "paid":
            return Paid(model)
        checkout.check_payable(model.status, model.order.state)
        card = checkout.parse_card(form, parse_time(db.now()).date())
        attempt = await db.write(partial(checkout.begin, token=token))
        if attempt is not None:
            try:
                charge = await desk.processor.charge(card, attempt.amount, idempotency_key=attempt.payment_id)
            except Exception as exc:
                log.exception("charge %s did not complete; it stays in flight and resumes", attempt.payment_id)
                raise ProcessorUnavailable(
                    "the card processor did not answer; you have not been charged twice"
                ) from exc
            payment = await db.write(partial(checkout.finish, attempt=attempt, charge=charge))
            model = await db.read(partial(checkout.page_model, token=token))
            if payment.status == "declined":
                return Declined(model, payment.decline_code or "card_declined")
        return Paid(model)


async def settle_abandoned(desk: PaymentDesk) -> int:
    """At start-up: card payments left in flight by a dead process are settled by what the
    processor saw; one it never saw is declined as `not_completed`, freeing the balance."""
    pending = await desk.db.read(checkout.in_flight)
    for attempt in pending:
        found = await desk.processor.find_charge(attempt.payment_id)
        charge = found or Charge(approved=False, brand="unknown", last4="", decline_code="not_completed")
        await desk.db.write(partial(_settle, attempt=attempt, charge=charge))
    return len(pending)


def _settle(tx: Tx, attempt: Attempt, charge: Charge) -> None:
    checkout.finish(tx, attempt, charge, actor=SYSTEM)
