"""The customer's page for added work: `/approvals/<token>`. The lines with their prices, what the
job's total would be, and one form: the name typed and the box ticked approve them; or a
decline, with a reason if the customer wants. Plain HTML, no script."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from server.approvals import answers, rules, service, store
from server.approvals.service import Evidence
from server.approvals.types import ApprovalRequest
from server.errors import FlintError, Gone, NotFound, RuleViolation
from server.jobs import store as jobs_store
from server.money import Money
from server.orders import ledger
from server.orders import store as orders_store
from server.store import Row, Tx
from server.web.context import Ctx
from server.web.customer_pages import Consent, page, problem_page, read_consent, read_form

WHAT = "approval request"
MAX_REASON = 2000


@dataclass(frozen=True, slots=True)
class ApprovalPage:
    token: str
    request: ApprovalRequest
    job_title: str | None
    job_address: str | None
    job_total: Money  # the job's total once these lines are approved (or now, if they are)


def _row(tx: Tx, token: str) -> Row:
    row = store.request_by_token(tx, token) if token else None
    if row is None:
        raise NotFound("there is no approval request at this address")
    return row


def page_model(tx: Tx, token: str, public_url: str) -> ApprovalPage:
    row = _row(tx, token)
    request = service.views(tx, [row], public_url)[0]
    order = orders_store.get(tx, row["order_id"])
    assert order is not None
    job = jobs_store.get(tx, order["job_id"]) if order["job_id"] else None
    adds = row["total_amount"] if request.status == "pending" else 0
    figures = ledger.preview(tx, order, base=order["base"] + adds)
    return ApprovalPage(
        token=token,
        request=request,
        job_title=job["title"] if job else None,
        job_address=job["address"] if job else None,
        job_total=Money(figures.total, order["currency"]),
    )


def _shown(ctx: Ctx, model: ApprovalPage, status: int = 200, **context: Any) -> Template:
    """The page for the request as it is now: its form while it waits, else what became of it."""
    state = model.request.status
    if state in ("expired", "replaced", "cancelled"):
        return problem_page(ctx, Gone(_gone[state]), WHAT)
    context.setdefault("form", {})
    context.setdefault("errors", {})
    return page("approval.html", ctx, status, page=model, **context)


_gone = {
    "expired": "This approval request has expired (requests last 24 hours).",
    "replaced": "A newer request replaced this one; use the link in the latest text.",
    "cancelled": "The work in this request changed; the business will send a new one.",
}


@get("/approvals/{token:str}", include_in_schema=False)
async def approval_page(token: FromPath[str], ctx: NamedDependency[Ctx]) -> Template:
    try:
        model = await ctx.read(partial(page_model, token=token, public_url=ctx.public_url))
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    return _shown(ctx, model)


@post("/approvals/{token:str}", include_in_schema=False, status_code=200)
async def approve(token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]) -> Template:
    form = await read_form(request)
    read = partial(page_model, token=token, public_url=ctx.public_url)
    try:
        model = await ctx.read(read)
        if model.request.status == "approved":
            return _shown(ctx, model, 409, notice="This work was approved already. Nothing more was recorded.")
        if model.request.status != "pending":
            return _shown(ctx, model)
        consent = read_consent(form, request)
        if not isinstance(consent, Consent):
            echoed = {"signerName": form.get("signerName", "")[:200]}
            return _shown(ctx, model, 400, errors=consent, form=echoed)

        def unit(tx: Tx) -> str:
            row = _row(tx, token)
            evidence = Evidence("page", consent.signer_name, consent.ip, consent.user_agent)
            return answers.approve(tx, row, evidence, answers.customer_of(tx, row))

        await ctx.write(unit)
        model = await ctx.read(read)
    except RuleViolation as err:
        return _shown(ctx, await ctx.read(read), 409, notice=err.detail)
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    return _shown(ctx, model)


@post("/approvals/{token:str}/decline", include_in_schema=False, status_code=200)
async def decline(token: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]) -> Template:
    form = await read_form(request)
    reason = form.get("reason", "").strip()[:MAX_REASON] or None
    read = partial(page_model, token=token, public_url=ctx.public_url)
    try:
        model = await ctx.read(read)
        if model.request.status != "pending":
            return _shown(ctx, model, 409 if model.request.status in ("approved", "declined") else 200)

        def unit(tx: Tx) -> None:
            row = _row(tx, token)
            answers.decline(tx, row, rules.clean_reason(reason), answers.customer_of(tx, row))

        await ctx.write(unit)
        model = await ctx.read(read)
    except RuleViolation as err:
        return _shown(ctx, await ctx.read(read), 409, notice=err.detail)
    except FlintError as err:
        return problem_page(ctx, err, WHAT)
    return _shown(ctx, model)


router = Router("/", route_handlers=[approval_page, approve, decline])
