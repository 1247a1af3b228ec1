"""The hosted invoice page: `/invoices/<token>`. The whole invoice, as its recipient (often an
accounts-payable team) reads, prints or saves it, and a card form for the next request due, and
only while something is due. Plain HTML forms, no script; the stylesheet, print rules included,
is a static file."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.errors import ChargeInDoubt, FlintError, InvalidRequest, ProcessorUnavailable, RateLimited
from server.invoices import checkout, paying
from server.invoices.checkout import Changed, InvoicePage
from server.links.checkout import receipts
from server.money import display
from server.payments.card_form import ECHOED
from server.payments.desk import PaymentDesk
from server.store import Tx
from server.web.context import Ctx
from server.web.customer_pages import (
    NOT_THE_CARDS_FAULT,
    confirming_page,
    decline_message,
    page,
    problem_page,
    read_form,
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
    form = await read_form(request)
    echoed = {k: form.get(k, "") for k in ECHOED}
    read = partial(checkout.page_model, token=token)
    attempts = ctx.card_attempts
    invoice_id: str | None = None
    try:
        model = await ctx.read(read)
        invoice_id = model.invoice_id
        if model.next is not None and model.confirming is None:
            attempts.allow(invoice_id)  # card testing: too many declines or mistakes on this invoice
        outcome = await paying.pay(desk, token, form, ctx.public_url)
    except RateLimited as err:
        return too_many_attempts_page(ctx, err.retry_after)
    except InvalidRequest as err:
        if invoice_id is not None:
            attempts.failed(invoice_id)
        errors = {e.field: e.message for e in err.errors}
        return _page(ctx, desk, await ctx.read(read), 400, errors=errors, form=echoed)
    except Changed as err:
        return _page(ctx, desk, await ctx.read(read), 409, notice=err.detail)
    except (ProcessorUnavailable, ChargeInDoubt):
        return _confirming(ctx, await ctx.read(read))
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    if isinstance(outcome, paying.Declined):
        if outcome.code not in NOT_THE_CARDS_FAULT:
            attempts.failed(outcome.model.invoice_id)
        return _page(ctx, desk, outcome.model, 402, declined=decline_message(outcome.code), form=echoed)
    charge = outcome.charge
    if charge is None:
        return _page(ctx, desk, outcome.model, notice="This payment has been made already. Nothing more was charged.")

    def receipt_of(tx: Tx) -> list[Any]:
        return receipts(tx, [charge])

    [paid_now] = await ctx.read(receipt_of)
    return _page(ctx, desk, outcome.model, paid_now=paid_now)


router = Router("/", route_handlers=[invoice_page, pay_invoice])
