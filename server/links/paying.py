"""Paying a link from the hosted page: begin, charge, settle, one payer at a time per job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from server.clock import parse_time
from server.links import checkout
from server.links.checkout import PageModel
from server.payments import charging
from server.payments.card_form import parse_card
from server.payments.desk import PaymentDesk


@dataclass(frozen=True, slots=True)
class Paid:
    model: PageModel


@dataclass(frozen=True, slots=True)
class Declined:
    model: PageModel
    code: str


async def pay(desk: PaymentDesk, token: str, form: Mapping[str, str], public_url: str) -> Paid | Declined:
    """Raises NotFound (404), Gone (410), Closed (409), InvalidRequest (400) or ProcessorUnavailable."""
    db = desk.db
    model = await db.read(partial(checkout.page_model, token=token))
    if model.status == "paid":
        return Paid(model)
    checkout.check_payable(model.status)
    card = parse_card(form, parse_time(db.now()).date())
    lock = await db.read(partial(checkout.lock_of, token=token))
    actor = await db.read(partial(checkout.payer, token=token))
    begin = partial(checkout.begin, token=token, public_url=public_url)
    settled = await charging.charge(desk, lock, begin, card, actor)
    model = await db.read(partial(checkout.page_model, token=token))
    if settled is not None and settled.charge["status"] == "declined":
        return Declined(model, settled.charge["decline_code"] or "card_declined")
    return Paid(model)
