"""The hosted invoice page: `/invoices/<token>`. The whole invoice, as its recipient (often an
accounts-payable team) reads, prints or saves it, and a card form for the next request due, and
only while something is due. Plain HTML forms, no script; the stylesheet, print rules included,
is a static file."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.clock import parse_time
from server.errors import FlintError
from server.invoices import checkout, service
from server.invoices.checkout import Changed, InvoicePage
from server.links.checkout import receipts
from server.money import display
from server.payments import checkout as card_checkout
from server.payments.card_form import ECHOED
from server.payments.desk import PaymentDesk
from server.store import Tx
from server.web.context import Ctx
from server.web.customer_pages import (
    confirming_page,
    decline_message,
    page,
    problem_page,
    read_form,
    started,
    too_many_attempts_page,
)

WHAT = "invoice"


def _page(ctx: Ctx, desk: PaymentDesk, model: InvoicePage, status: int = 200, **context: Any) -> Template:
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return page("invoice.html", ctx, status, page=model, **context)


def _confirming(ctx: Ctx, model: InvoicePage) -> Template:
    amount = model.confirming or (model.next.left if model.next is not None else model.due)
    return confirming_page(ctx, display(amount))


@get("/invoices/{token:str}", include_in_schema=False)
async def invoice_page(token: FromPath[str], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]) -> Template:
    try:
        model = await ctx.read(partial(checkout.page_model, token=token))
        checkout.check_payable(model.state)
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    if model.confirming is not None:
        return _confirming(ctx, model)
    return _page(ctx, desk, model)


@post("/invoices/{token:str}", include_in_schema=False, status_code=200)
async def pay_invoice(
    token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Template:
    form = dict(await read_form(request))
    if "expectedAmount" not in form and "amount" in form:
        form["expectedAmount"] = form["amount"]  # the field's name on pages served before it was renamed
    echoed = {k: form.get(k, "") for k in ECHOED}
    read = partial(checkout.page_model, token=token)
    request_uid = form.get("request", "")[:64] or None
    try:
        model = await ctx.read(read)
        checkout.check_payable(model.state)
        shown = next((r for r in model.requests if r.uid == request_uid), None)
        confirmed = bool(form.get(card_checkout.ATTEMPT))  # a charge the browser confirmed: read it back first
        if not confirmed and (model.next is None or (shown is not None and shown.left.amount == 0)):
            return _page(ctx, desk, model, notice="This payment has been made already. Nothing more was charged.")
        # A charge in flight may be another request's, about to settle: wait for it in line.
        outcome = await card_checkout.pay(
            desk,
            ctx.card_attempts,
            form,
            key=model.invoice_id,
            lock=await ctx.read(partial(checkout.lock_of, token=token)),
            actor=(actor := await ctx.read(partial(checkout.payer, token=token))),
            charging_now=partial(
                checkout.charging_now, token=token, public_url=ctx.public_url, request_uid=request_uid
            ),
            today=parse_time(ctx.db.now()).date(),
        )
        if isinstance(outcome, card_checkout.Captured):
            await ctx.write(partial(service.note_paid, actor=actor, invoice_id=model.invoice_id))
        model = await ctx.read(read)
    except Changed as err:
        return _page(ctx, desk, await ctx.read(read), 409, notice=err.detail)
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    match outcome:
        case card_checkout.TooMany(retry_after):
            return too_many_attempts_page(ctx, retry_after)
        case card_checkout.Invalid(errors):
            return _page(ctx, desk, model, 400, errors=errors, form=echoed)
        case card_checkout.Changed(amount):
            notice = f"What is due changed to {display(amount)}. Check it and pay again; nothing was charged."
            return _page(ctx, desk, model, 409, notice=notice, form=echoed)
        case card_checkout.Confirming():
            return _confirming(ctx, model)
        case card_checkout.Declined(code):
            return _page(ctx, desk, model, 402, declined=decline_message(code), form=echoed)
        case card_checkout.AlreadyPaid():
            return _page(ctx, desk, model, notice="This payment has been made already. Nothing more was charged.")
    charge = outcome.charge

    def receipt_of(tx: Tx) -> list[Any]:
        return receipts(tx, [charge])

    [paid_now] = await ctx.read(receipt_of)
    return _page(ctx, desk, model, paid_now=paid_now)


@post("/invoices/{token:str}/intent", include_in_schema=False, status_code=200)
async def start_payment(
    token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Response[Any]:
    """With Stripe: the page's script starts the charge of the request the page showed."""
    form = await read_form(request)
    request_uid = form.get("request", "")[:64] or None
    try:
        model = await ctx.read(partial(checkout.page_model, token=token))
        checkout.check_payable(model.state)
        if model.next is None or model.confirming is not None:
            return started(None, None)
        outcome = await card_checkout.start(
            desk,
            ctx.card_attempts,
            form,
            key=model.invoice_id,
            lock=await ctx.read(partial(checkout.lock_of, token=token)),
            charging_now=partial(
                checkout.charging_now, token=token, public_url=ctx.public_url, request_uid=request_uid
            ),
            what=f"Invoice #{model.number}",
        )
    except FlintError:
        return started(None, None)
    if isinstance(outcome, card_checkout.Begun):
        return started(outcome.attempt, outcome.client_secret)
    return started(None, None)


router = Router("/", route_handlers=[invoice_page, pay_invoice, start_payment])
