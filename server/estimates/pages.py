"""The estimate page: `/estimates/<token>`, on a phone. The options side by side (stacked on a
narrow screen), optional lines as checkboxes, the total and the deposit of the choice shown, the
terms before the consent, a typed name, and the card form when a deposit is asked. It works
with scripts off: the server works every amount out, and a post whose `expectedAmount` is not
the deposit for the choice posted is the page again (409) with that choice's deposit, nothing
charged. The page's own script (`/static/estimate.js`) asks `/estimates/<token>/quote` as the
customer chooses and keeps the amounts and `expectedAmount` current. With Stripe the card is
typed into Stripe.js's field: the card script (`/static/stripe-checkout.js`) starts the deposit
of the form's choice (`/estimates/<token>/intent`), confirms it, and posts the form with the
attempt, which is read back from Stripe and approves as the sandbox's capture does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath
from litestar.response import Template

from server.approvals.rules import clean_reason
from server.clock import parse_time
from server.errors import FlintError, InvalidRequest, RuleViolation
from server.estimates import answers, checkout
from server.estimates.checkout import EstimatePage
from server.estimates.types import Quote
from server.money import display
from server.payments import checkout as card_checkout
from server.payments.card_form import ECHOED
from server.payments.checkout import Charging
from server.payments.desk import PaymentDesk
from server.store import Tx
from server.web.context import Ctx
from server.web.customer_pages import (
    Consent,
    confirming_page,
    decline_message,
    page,
    problem_page,
    read_consent,
    started,
    too_many_attempts_page,
)

WHAT = "estimate"
MAX_REASON = 2000
MAX_TICKED = 100  # optional lines a form may post


def _changed(deposit: str) -> str:
    return f"The deposit for this choice is {deposit}. Check it and approve again; nothing was charged."


def _page(ctx: Ctx, model: EstimatePage, status: int = 200, **context: Any) -> Template:
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return page("estimate.html", ctx, status, page=model, **context)


async def _form(request: Request[Any, Any, Any]) -> tuple[dict[str, str], list[str]]:
    """The form's fields, and every `optionalUids` ticked (the field repeats)."""
    try:
        data = await request.form()
    except HTTPException as exc:
        if exc.status_code == 413:
            raise
        return {}, []
    except Exception:  # not a form: every field is missing
        return {}, []
    fields = {key: value for key, value in data.items() if isinstance(value, str)}
    ticked = [value[:64] for value in data.getall("optionalUids", []) if isinstance(value, str)][:MAX_TICKED]
    return fields, ticked


def _choice(fields: dict[str, str], ticked: Sequence[str]) -> tuple[str | None, Sequence[str]]:
    return fields.get("optionId", "")[:64] or None, ticked


@get("/estimates/{token:str}", include_in_schema=False)
async def estimate_page(token: FromPath[str], ctx: NamedDependency[Ctx]) -> Template:
    read = partial(checkout.page_model, token=token, public_url=ctx.public_url)
    try:
        model = await ctx.read(read)
        checkout.check_shown_state(model.state)
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    if model.confirming is not None:
        return confirming_page(ctx, display(model.confirming))
    if model.state == "open" and not model.viewed:  # the first look goes on the trail
        await ctx.write(partial(checkout.viewed, token=token))
    return _page(ctx, model)


@get("/estimates/{token:str}/quote", include_in_schema=False)
async def quote(token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]) -> Quote:
    """What a choice comes to, and the deposit approving it takes now."""
    ticked = [value[:64] for value in request.query_params.getall("optionalUids", [])][:MAX_TICKED]
    option_id = (request.query_params.get("optionId") or "")[:64] or None
    return await ctx.read(partial(checkout.quote, token=token, option_id=option_id, optional_uids=ticked))


@post("/estimates/{token:str}", include_in_schema=False, status_code=200)
async def approve(
    token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Template:
    fields, ticked = await _form(request)
    option_id, optional = _choice(fields, ticked)
    echoed = {k: fields.get(k, "") for k in (*ECHOED, "signerName")}
    echoed["signerName"] = echoed["signerName"][:200]
    read = partial(checkout.page_model, token=token, public_url=ctx.public_url)
    chosen = partial(read, choice=(option_id, optional))
    # A deposit the browser confirmed (Stripe.js) is read back first, whatever the page shows
    # meanwhile (being confirmed, or approved by the scheduler's settling): its choice and
    # signature were checked and kept beside its charge when it was started (`start_deposit`).
    confirmed = bool(fields.get(card_checkout.ATTEMPT))
    try:
        shown = await ctx.read(read)
        checkout.check_shown_state(shown.state)
        if shown.state == "approved" and not confirmed:
            return _page(ctx, shown, 409, notice="This estimate was approved already. Nothing more was charged.")
        if shown.state not in ("open", "approved"):
            return _page(ctx, shown, 409)
        if shown.confirming is not None and not confirmed:
            return confirming_page(ctx, display(shown.confirming))
        try:
            model = await ctx.read(chosen)
        except InvalidRequest as err:
            return _page(ctx, shown, 400, notice=err.detail, form=echoed)
        charging_now: Callable[[Tx], Charging | None] = _read_back_only
        if not confirmed:
            consent = read_consent(fields, request)
            if not isinstance(consent, Consent):
                return _page(ctx, model, 400, errors=consent, form=echoed)
            expected = card_checkout.expected_amount(fields)
            if expected is not None and expected != model.deposit.amount:
                return _page(ctx, model, 409, notice=_changed(display(model.deposit)), form=echoed)
            if model.deposit.amount == 0:
                await ctx.write(
                    partial(
                        checkout.approve_without_deposit,
                        token=token,
                        option_id=option_id,
                        optional_uids=optional,
                        consent=consent,
                        expected=expected,
                    )
                )
                return _page(ctx, await ctx.read(read))
            charging_now = partial(
                checkout.charging_now,
                token=token,
                option_id=option_id,
                optional_uids=optional,
                consent=consent,
                public_url=ctx.public_url,
            )
        outcome = await card_checkout.pay(
            desk,
            ctx.card_attempts,
            fields,
            key=model.estimate.id,
            lock=await ctx.read(partial(checkout.lock_of, token=token)),
            actor=await ctx.read(_payer(token)),
            charging_now=charging_now,
            today=parse_time(ctx.db.now()).date(),
        )
        after = await ctx.read(chosen)
    except card_checkout.AmountChanged as err:
        return _page(ctx, await ctx.read(chosen), 409, notice=_changed(display(err.amount)), form=echoed)
    except answers.AlreadyApproved:
        return _page(
            ctx, await ctx.read(read), 409, notice="This estimate was approved already. Nothing more was charged."
        )
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    match outcome:
        case card_checkout.TooMany(retry_after):
            return too_many_attempts_page(ctx, retry_after)
        case card_checkout.Invalid(errors):
            return _page(ctx, after, 400, errors=errors, form=echoed)
        case card_checkout.Changed(amount):
            return _page(ctx, after, 409, notice=_changed(display(amount)), form=echoed)
        case card_checkout.Confirming():
            return confirming_page(ctx, display(model.deposit))
        case card_checkout.Declined(code):
            return _page(ctx, after, 402, declined=decline_message(code) + " Nothing was approved.", form=echoed)
    return _page(ctx, after)


def _read_back_only(tx: Tx) -> None:
    """What a post naming a confirmed deposit would charge anew: nothing, it is only read back."""
    return None


@post("/estimates/{token:str}/intent", include_in_schema=False, status_code=200)
async def start_deposit(
    token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Response[Any]:
    """With Stripe: the page's script starts the deposit of the choice its form posts, checked as
    the form's post checks it, and reserved with the signature beside it; anything else (a choice
    or name to correct, the deposit changed, none due) is the form's post to say."""
    fields, ticked = await _form(request)
    option_id, optional = _choice(fields, ticked)
    read = partial(checkout.page_model, token=token, public_url=ctx.public_url)
    try:
        shown = await ctx.read(read)
        checkout.check_shown_state(shown.state)
        if shown.state != "open" or shown.confirming is not None:
            return started(None, None)
        model = await ctx.read(partial(read, choice=(option_id, optional)))
        consent = read_consent(fields, request)
        if not isinstance(consent, Consent) or model.deposit.amount == 0:
            return started(None, None)
        outcome = await card_checkout.start(
            desk,
            ctx.card_attempts,
            fields,
            key=model.estimate.id,
            lock=await ctx.read(partial(checkout.lock_of, token=token)),
            charging_now=partial(
                checkout.charging_now,
                token=token,
                option_id=option_id,
                optional_uids=optional,
                consent=consent,
                public_url=ctx.public_url,
            ),
            what=f"Estimate #{model.estimate.number} deposit",
        )
    except FlintError:
        return started(None, None)
    if isinstance(outcome, card_checkout.Begun):
        return started(outcome.attempt, outcome.client_secret)
    return started(None, None)


def _payer(token: str) -> Any:
    def unit(tx: Tx) -> Any:
        return answers.customer_of(tx, checkout.estimate_by_token(tx, token))

    return unit


@post("/estimates/{token:str}/decline", include_in_schema=False, status_code=200)
async def decline(token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]) -> Template:
    fields, _ = await _form(request)
    reason = clean_reason(fields.get("reason", "")[:MAX_REASON])
    read = partial(checkout.page_model, token=token, public_url=ctx.public_url)
    try:
        shown = await ctx.read(read)
        checkout.check_shown_state(shown.state)
        await ctx.write(partial(checkout.decline, token=token, reason=reason))
    except answers.AlreadyApproved:
        return _page(ctx, await ctx.read(read), 409, notice="This estimate was approved already.")
    except answers.InFlight:
        return confirming_page(ctx, display(shown.deposit))
    except RuleViolation as err:
        return _page(ctx, await ctx.read(read), 409, notice=err.detail)
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    return _page(ctx, await ctx.read(read))


router = Router("/", route_handlers=[estimate_page, quote, approve, start_deposit, decline])
