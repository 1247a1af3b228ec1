"""The hosted pay page: `/pay/<token>`. Plain HTML forms, so paying needs no JavaScript. It never
offers to charge what is not due: a link with nothing to collect shows what was paid instead.
Paying goes through the one customer checkout (`server.payments.checkout`); this page only says
each outcome in its words."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.clock import parse_time
from server.errors import FlintError
from server.links import checkout
from server.links.checkout import Closed, PageModel
from server.money import display
from server.payments import checkout as card_checkout
from server.payments.card_form import ECHOED
from server.payments.desk import PaymentDesk
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


def _form_page(ctx: Ctx, model: PageModel, status: int, **context: Any) -> Template:
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return page("pay.html", ctx, status, page=model, **context)


def _shown(ctx: Ctx, model: PageModel, status: int = 200, confirming: bool = True) -> Template | None:
    """The page for a link that takes no card now, or None when it does."""
    if model.status == "paid":
        return page("receipt.html", ctx, page=model)
    if model.confirming and confirming:
        return confirming_page(ctx, display(model.amount))
    if model.status == "closed":
        return page("closed.html", ctx, status, page=model)
    return None


@get("/pay/{token:str}", include_in_schema=False)
async def pay_page(token: FromPath[str], ctx: NamedDependency[Ctx]) -> Template:
    try:
        model = await ctx.read(partial(checkout.page_model, token=token))
        shown = _shown(ctx, model)
        if shown is not None:
            return shown
        checkout.check_payable(model.status)
    except FlintError as err:
        return problem_page(ctx, err)
    return _form_page(ctx, model, 200)


@post("/pay/{token:str}", include_in_schema=False, status_code=200)
async def pay(
    token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Template:
    form = await read_form(request)
    echoed = {k: form.get(k, "") for k in ECHOED}
    read = partial(checkout.page_model, token=token)
    try:
        now = await ctx.read(partial(checkout.paying, token=token))
        if now.status in ("paid", "closed"):
            # A charge in flight may be another request's, about to settle: wait for it in line.
            shown = _shown(ctx, await ctx.read(read), status=409, confirming=False)
            if shown is not None:
                return shown
        checkout.check_payable(now.status)
        outcome = await card_checkout.pay(
            desk,
            ctx.card_attempts,
            form,
            key=now.link_id,
            lock=now.lock,
            actor=now.payer,
            charging_now=partial(checkout.charging_now, token=token, public_url=ctx.public_url),
            today=parse_time(ctx.db.now()).date(),
        )
        model = await ctx.read(read)
    except Closed:
        return page("closed.html", ctx, 409, page=await ctx.read(read))
    except FlintError as err:
        return problem_page(ctx, err)
    match outcome:
        case card_checkout.TooMany(retry_after):
            return too_many_attempts_page(ctx, retry_after)
        case card_checkout.Invalid(errors):
            return _form_page(ctx, model, 400, errors=errors, form=echoed)
        case card_checkout.Changed(amount):
            notice = f"The amount due changed to {display(amount)}. Check it and pay again; nothing was charged."
            return _shown(ctx, model, status=409) or _form_page(ctx, model, 409, notice=notice, form=echoed)
        case card_checkout.Confirming():
            return confirming_page(ctx, display(model.amount))
        case card_checkout.Declined(code):
            return _form_page(ctx, model, 402, declined=decline_message(code), form=echoed)
    return page("receipt.html", ctx, page=model)


@post("/pay/{token:str}/intent", include_in_schema=False, status_code=200)
async def start_payment(
    token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Response[Any]:
    """With Stripe: the page's script starts the charge for the amount the page showed."""
    form = await read_form(request)
    try:
        model = await ctx.read(partial(checkout.page_model, token=token))
        checkout.check_payable(model.status)
        if model.status == "paid" or model.confirming:
            return started(None, None)
        outcome = await card_checkout.start(
            desk,
            ctx.card_attempts,
            form,
            key=model.link_id,
            lock=(await ctx.read(partial(checkout.paying, token=token))).lock,
            charging_now=partial(checkout.charging_now, token=token, public_url=ctx.public_url),
            what=model.name,
        )
    except FlintError:
        return started(None, None)
    if isinstance(outcome, card_checkout.Begun):
        return started(outcome.attempt, outcome.client_secret)
    return started(None, None)


router = Router("/", route_handlers=[pay_page, pay, start_payment])
