"""The hosted pay page: `/pay/<token>`. Plain HTML forms, so paying needs no JavaScript. It never
offers to charge what is not due: a link with nothing to collect shows what was paid instead."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.errors import ChargeInDoubt, FlintError, InvalidRequest, ProcessorUnavailable, RateLimited
from server.links import checkout, paying
from server.links.checkout import Closed, PageModel
from server.money import display
from server.payments.card_form import ECHOED
from server.payments.desk import PaymentDesk
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
    attempts = ctx.card_attempts
    try:
        model = await ctx.read(partial(checkout.page_model, token=token))
        # A charge in flight may be another request's, about to settle: wait for it in line.
        shown = _shown(ctx, model, status=409, confirming=False)
        if shown is not None:
            return shown
        attempts.allow(model.link_id)  # card testing: too many declines or mistakes on this link
        outcome = await paying.pay(desk, token, form, ctx.public_url)
    except RateLimited as err:
        return too_many_attempts_page(ctx, err.retry_after)
    except InvalidRequest as err:
        model = await ctx.read(partial(checkout.page_model, token=token))
        attempts.failed(model.link_id)
        errors = {e.field: e.message for e in err.errors}
        return _form_page(ctx, model, 400, errors=errors, form=echoed)
    except Closed:
        return page("closed.html", ctx, 409, page=await ctx.read(partial(checkout.page_model, token=token)))
    except (ProcessorUnavailable, ChargeInDoubt):
        model = await ctx.read(partial(checkout.page_model, token=token))
        return confirming_page(ctx, display(model.amount))
    except FlintError as err:
        return problem_page(ctx, err)
    if isinstance(outcome, paying.Declined):
        if outcome.code not in NOT_THE_CARDS_FAULT:
            attempts.failed(outcome.model.link_id)
        return _form_page(ctx, outcome.model, 402, declined=decline_message(outcome.code), form=echoed)
    return page("receipt.html", ctx, page=outcome.model)


router = Router("/", route_handlers=[pay_page, pay])
