"""The card page: `/cards/<token>`. It saves the customer's card for later without charging it,
through the one customer checkout (`server.payments.checkout.save`): the same attempt limit,
card form and in-doubt page as the pay and invoice pages; this page only says each outcome in
its words. Once a card is saved, the owed autopay cycles of the customer's plans are tried at
once (`PaymentDesk.on_card_saved`, wired by the app)."""

from __future__ import annotations

from functools import partial
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.cards import service
from server.clock import parse_time
from server.errors import FlintError
from server.payments import checkout
from server.payments.card_form import ECHOED
from server.payments.desk import PaymentDesk
from server.store import Row
from server.web.context import Ctx
from server.web.customer_pages import (
    decline_message,
    page,
    problem_page,
    read_form,
    started,
    too_many_attempts_page,
)

WHAT = "card request"


def _form(ctx: Ctx, model: service.CardPage, status: int = 200, **context: Any) -> Template:
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return page("card.html", ctx, status, page=model, stripe_mode="setup", **context)


def _confirming(ctx: Ctx) -> Template:
    """A card whose save the processor has not confirmed yet: say so, save nothing twice."""
    return page(
        "problem.html",
        ctx,
        202,
        heading="Your card is being confirmed",
        message="We are confirming your card with the card processor.",
        hint="Nothing is charged. Check back in a minute.",
    )


def _saved(ctx: Ctx, model: service.CardPage, card: Row | None) -> Template:
    return page("card_saved.html", ctx, page=model, card=card)


@get("/cards/{token:str}", include_in_schema=False)
async def card_page(token: FromPath[str], ctx: NamedDependency[Ctx]) -> Template:
    try:
        model = await ctx.read(partial(service.page_model, token=token))
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    if model.status == "used":
        return _saved(ctx, model, model.saved)
    if model.status == "expired":
        return problem_page(ctx, service.expired(), WHAT)
    if model.confirming:
        return _confirming(ctx)
    return _form(ctx, model)


@post("/cards/{token:str}", include_in_schema=False, status_code=200)
async def save_card(
    token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Template:
    form = await read_form(request)
    echoed = {k: form.get(k, "") for k in ECHOED}
    read = partial(service.page_model, token=token)
    processor = desk.processor.name
    try:
        model = await ctx.read(read)
        if model.status == "expired":
            return problem_page(ctx, service.expired(), WHAT)
        if model.confirming and not form.get(checkout.ATTEMPT):
            return _confirming(ctx)  # a setup in flight, not this post's: it is read back, never made twice
        outcome = await checkout.save(
            desk,
            ctx.card_attempts,
            form,
            key=f"card:{token}",
            lock=service.lock_of(token),
            begin=partial(service.begin_setup, token=token, processor=processor),
            settle=partial(service.settle_setup, processor=processor),
            read_back=partial(service.read_back, desk, token),
            today=parse_time(ctx.db.now()).date(),
        )
        model = await ctx.read(read)
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    match outcome:
        case checkout.TooMany(retry_after):
            return too_many_attempts_page(ctx, retry_after)
        case checkout.Invalid(errors):
            return _form(ctx, model, 400, errors=errors, form=echoed)
        case checkout.Confirming():
            return _confirming(ctx)
        case checkout.Declined(code):
            return _form(ctx, model, 402, declined=decline_message(code), form=echoed)
        case checkout.Saved(card):
            await desk.card_saved(card["customer_id"])
            return _saved(ctx, model, card)
    return _saved(ctx, model, model.saved)  # saved before this post: nothing more was done


@post("/cards/{token:str}/intent", include_in_schema=False, status_code=200)
async def start_setup(
    token: FromPath[str], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Response[Any]:
    """With Stripe: the page's script starts the setup its browser confirms."""
    try:
        model = await ctx.read(partial(service.page_model, token=token))
        if model.status != "active" or model.confirming:
            return started(None, None)
        outcome = await checkout.start_setup(
            desk,
            ctx.card_attempts,
            key=f"card:{token}",
            lock=service.lock_of(token),
            begin=partial(service.begin_setup, token=token, processor=desk.processor.name),
            note=service.note_reference,
            customer_name=model.name,
        )
    except FlintError:
        return started(None, None)
    if isinstance(outcome, checkout.Begun):
        return started(outcome.attempt, outcome.client_secret)
    return started(None, None)


router = Router("/", route_handlers=[card_page, save_card, start_setup])
