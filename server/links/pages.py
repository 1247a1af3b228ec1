"""The hosted pay page: `/pay/<token>`. Plain HTML forms, so paying needs no JavaScript."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.errors import FlintError, Gone, InvalidRequest, NotFound
from server.links import checkout, paying
from server.links.checkout import PageModel
from server.payments.desk import PaymentDesk
from server.web.context import Ctx

DECLINES = {
    "card_declined": "Your card was declined. Try another card, or call the number on the back of your card.",
    "insufficient_funds": "Your card was declined for insufficient funds. Try another card.",
}
HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
ECHOED = ("expMonth", "expYear", "postalCode")  # never the card number or the security code


def _page(name: str, ctx: Ctx, status: int = 200, **context: Any) -> Template:
    return Template(
        template_name=name,
        context={"business": ctx.settings.business_name, **context},
        status_code=status,
        headers=HEADERS,
    )


def _form_page(ctx: Ctx, model: PageModel, status: int, **context: Any) -> Template:
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return _page("pay.html", ctx, status, page=model, order=model.order, **context)


def _receipt(ctx: Ctx, model: PageModel) -> Template:
    return _page("receipt.html", ctx, page=model, order=model.order, payment=model.payment)


def _problem(ctx: Ctx, err: FlintError) -> Template:
    if isinstance(err, NotFound):
        heading, hint = "We can't find this payment request", "Check the link in your text message."
    elif isinstance(err, Gone):
        heading, hint = "This payment request is no longer active", "Ask the business for a new link."
    else:
        heading, hint = (
            "We couldn't take the payment",
            "Nothing was charged twice. Please try again in a minute.",
        )
    return _page("problem.html", ctx, err.status, heading=heading, message=err.detail, hint=hint)


@get("/pay/{token:str}", include_in_schema=False)
async def pay_page(token: FromPath[str], ctx: NamedDependency[Ctx]) -> Template:
    try:
        model = await ctx.read(partial(checkout.page_model, token=token))
        if model.status == "paid":
            return _receipt(ctx, model)
        checkout.check_payable(model.status, model.order.state)
    except FlintError as err:
        return _problem(ctx, err)
    return _form_page(ctx, model, 200)


@post("/pay/{token:str}", include_in_schema=False, status_code=200)
async def pay(
    token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Template:
    form = await _form(request)
    try:
        outcome = await paying.pay(desk, token, form)
    except InvalidRequest as err:
        model = await ctx.read(partial(checkout.page_model, token=token))
        errors = {e.field: e.message for e in err.errors}
        return _form_page(ctx, model, 400, errors=errors, form={k: form.get(k, "") for k in ECHOED})
    except FlintError as err:
        return _problem(ctx, err)
    if isinstance(outcome, paying.Declined):
        message = DECLINES.get(outcome.code, DECLINES["card_declined"])
        return _form_page(ctx, outcome.model, 402, declined=message)
    return _receipt(ctx, outcome.model)


async def _form(request: Request[Any, Any, Any]) -> Mapping[str, str]:
    try:
        data = await request.form()
    except Exception:  # a body that is not a form is an empty form: every field is missing
        return {}
    return {key: value for key, value in data.items() if isinstance(value, str)}


router = Router("/", route_handlers=[pay_page, pay])
