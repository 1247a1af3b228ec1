"""Paying an invoice from its page: begin, charge, settle, one payer at a time per job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

from server.clock import parse_time
from server.invoices import checkout, service
from server.invoices.checkout import InvoicePage
from server.payments import charging
from server.payments.card_form import parse_card
from server.payments.desk import PaymentDesk
from server.store import Row


@dataclass(frozen=True, slots=True)
class Paid:
    model: InvoicePage
    charge: Row | None  # the capture this post made; None when what it asked for was paid already


@dataclass(frozen=True, slots=True)
class Declined:
    model: InvoicePage
    code: str


def _amount(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 15 else None


async def pay(desk: PaymentDesk, token: str, form: Mapping[str, str], public_url: str) -> Paid | Declined:
    """Pay the request the form names (`request`, `amount`), or with none named the next one due.
    Raises NotFound (404), Gone (410), Changed (409), InvalidRequest (400), ChargeInDoubt or
    ProcessorUnavailable (202)."""
    db = desk.db
    model = await db.read(partial(checkout.page_model, token=token))
    checkout.check_payable(model.state)
    request_uid = form.get("request", "")[:64] or None
    shown = next((r for r in model.requests if r.uid == request_uid), None)
    if model.next is None or (shown is not None and shown.left.amount == 0):
        return Paid(model, None)
    card = parse_card(form, parse_time(db.now()).date())
    lock = await db.read(partial(checkout.lock_of, token=token))
    actor = await db.read(partial(checkout.payer, token=token))
    begin = partial(
        checkout.begin,
        token=token,
        public_url=public_url,
        request_uid=request_uid,
        amount=_amount(form.get("amount", "")),
    )
    settled = await charging.charge(desk, lock, begin, card, actor)
    if settled is not None and settled.charge["status"] == "captured":
        await db.write(partial(service.note_paid, actor=actor, invoice_id=model.invoice_id))
    model = await db.read(partial(checkout.page_model, token=token))
    if settled is not None and settled.charge["status"] == "declined":
        return Declined(model, settled.charge["decline_code"] or "card_declined")
    return Paid(model, settled.charge if settled is not None else None)
