"""What the office does from a job's trail page, through the same services the API routes call,
each in one write transaction with the office as actor: text the job's balance link, record
cash or a check for the job (applied to its orders oldest first), refund part of a payment."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from functools import partial

from server.cards import service as cards
from server.dispatch import rules
from server.errors import FieldError, InvalidRequest, NotFound
from server.jobs import store as jobs_store
from server.links import service as links
from server.money import Money, PositiveMoneyIn, display
from server.orders import store as orders_store
from server.payments import refunding, refunds
from server.payments import service as payments
from server.payments import store as payments_store
from server.payments.desk import PaymentDesk
from server.payments.service import Target
from server.payments.types import CreateRefund, OfflineMethod, RecordPayment
from server.store import Tx
from server.store import idempotency as answers
from server.web.idempotency import IdempotencyKey
from server.wire import Actor

FORM_SCOPE = "office-pages"  # where a page form's first answer is kept, beside the API's keys
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def form_key(form: Mapping[str, str]) -> str | None:
    """The page renders each form with a random `formKey`; the same key with the same fields
    is the same post sent twice. Changed fields are a new request."""
    key = form.get("formKey", "")
    if not 8 <= len(key) <= 64:
        return None
    fields = sorted((k, v) for k, v in form.items() if k not in ("formKey", "_csrf_token"))
    return f"{key}:{hashlib.sha256(repr(fields).encode()).hexdigest()[:32]}"


def once(tx: Tx, key: str | None, unit: Callable[[Tx], str]) -> str:
    """Run `unit` unless this post already ran; its notice is kept in the same transaction, so a
    double click or a page sent again acts once and says the same thing."""
    if key is not None and (earlier := answers.find(tx, FORM_SCOPE, key)) is not None:
        return bytes(earlier["body"]).decode()
    notice = unit(tx)
    if key is not None:
        answers.save(tx, FORM_SCOPE, key, "", 200, notice.encode())
    return notice


def _text(form: Mapping[str, str], name: str, max_length: int) -> str:
    """A one-line field as typed, without control characters (a form can be forged)."""
    value = "".join(c for c in form.get(name, "") if c.isprintable()).strip()
    if len(value) > max_length:
        raise InvalidRequest(f"{name}: too long", [FieldError(name, f"Keep it under {max_length} characters.")])
    return value


def _phone(form: Mapping[str, str]) -> str | None:
    to = re.sub(r"[\s().-]", "", form.get("to", ""))
    if to and not _PHONE.match(to):
        hint = "Enter the number with its country code, such as +15551234567."
        raise InvalidRequest("to: not E.164", [FieldError("to", hint)])
    return to or None


def text_balance(tx: Tx, actor: Actor, job_id: str, form: Mapping[str, str], public_url: str, business: str) -> str:
    """The job's balance link (the active one, or a new one), texted to the customer or to the
    number given; it asks for what is due when the customer pays."""
    to = _phone(form)
    job = jobs_store.get(tx, job_id)
    name = f"Balance for {job['title'] if job else 'your job'}"[:200]
    link = links.open_link(tx, actor, Target(job_id=job_id), name=name, amount=None).link
    text = links.text_link(tx, actor, link, to, public_url, business)
    due = links.state_of(tx, link).amount
    return f"Texted a payment link for {display(Money(due, link['currency']))} to {text.to}."


def text_card_link(tx: Tx, actor: Actor, job_id: str, form: Mapping[str, str], public_url: str, business: str) -> str:
    """A card link for the job's customer (contract §10), texted to them or to the number given;
    the text shows on this job's trail."""
    to = _phone(form)
    job = jobs_store.get(tx, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    link = cards.open_link(tx, job["customer_id"], job_id=job_id)
    text = cards.text_link(tx, actor, link, to, public_url, business)
    return f"Texted a link to save a card to {text.to}."


def record_offline(tx: Tx, actor: Actor, job_id: str, form: Mapping[str, str], business: str) -> str:
    """Cash or a check the office took for the job, applied to its orders oldest first."""
    currency = payments.owed(tx, Target(job_id=job_id)).currency
    amount = rules.parse_amount(form.get("amount", ""), currency)
    method: OfflineMethod
    if form.get("method") == "check":
        method = "check"
    elif form.get("method") == "cash":
        method = "cash"
    else:
        raise InvalidRequest("method: cash or check", [FieldError("method", "Choose cash or check.")])
    reference = _text(form, "reference", 100) or None
    data = RecordPayment(
        job_id=job_id, amount_money=PositiveMoneyIn(amount, currency), method=method, reference=reference
    )
    payment = payments.record_offline(tx, actor, data, business=business)
    return f"Recorded {display(payment.amount_money)} {'in cash' if method == 'cash' else 'by check'}."


def ask_refund(tx: Tx, job_id: str, form: Mapping[str, str]) -> CreateRefund:
    """The refund form, checked against this job's payments."""
    payment = payments_store.get(tx, form.get("paymentId", "")) if form.get("paymentId") else None
    order = orders_store.get(tx, payment["order_id"]) if payment is not None else None
    if payment is None or order is None or order["job_id"] != job_id:
        message = "Choose one of this job's payments."
        raise InvalidRequest("paymentId: not this job's", [FieldError("paymentId", message)])
    amount = PositiveMoneyIn(rules.parse_amount(form.get("amount", ""), payment["currency"]), payment["currency"])
    reason = _text(form, "reason", 500)
    if not reason:
        raise InvalidRequest("reason: missing", [FieldError("reason", "Say why the money goes back.")])
    return CreateRefund(payment_id=payment["id"], amount_money=amount, reason=reason)


async def refund(desk: PaymentDesk, actor: Actor, job_id: str, form: Mapping[str, str], key: str | None) -> str:
    """Part or all of a payment back, as `POST /v1/refunds` does it: reserved, given back by the
    processor (cards), completed. The form key is the refund's request key, so a refund form
    posted twice gives back once."""
    asked = await desk.db.read(partial(ask_refund, job_id=job_id, form=form))
    fingerprint = hashlib.sha256(f"{asked.payment_id}:{asked.amount_money.amount}".encode()).hexdigest()
    request_key = None if key is None else IdempotencyKey(FORM_SCOPE, key, fingerprint)
    refund_id = await refunding.refund(desk, actor, asked, request_key)
    done = await desk.db.write(
        partial(refunds.complete_refund, actor=actor, refund_id=refund_id, business=desk.business)
    )
    return f"Refunded {display(done.amount_money)}."
