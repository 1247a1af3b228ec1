from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from server.clock import parse_date, today
from server.errors import FieldError, FlintError, InvalidRequest, RuleViolation
from server.invoices import reminders
from server.invoices.types import RemindersRun
from server.payments.desk import PaymentDesk
from server.plans import autopay, rules, service
from server.plans.types import BillingRun, BillingRunResult, CreateServicePlan, Cycle, ServicePlan
from server.store import Tx
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post("/", dto=StrictBody, return_dto=None, status_code=201)
async def create_plan(data: JSONBody[CreateServicePlan], ctx: NamedDependency[Ctx]) -> Response[ServicePlan]:
    return await ctx.commit(partial(service.create, actor=ctx.actor, data=data), status=201)


@get("/{plan_id:str}")
async def get_plan(plan_id: FromPath[str], ctx: NamedDependency[Ctx]) -> ServicePlan:
    return await ctx.read(partial(service.get, plan_id=plan_id))


@get("/")
async def list_plans(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    customer_id: Annotated[str | None, QueryParameter(name="customerId")] = None,
) -> Page[ServicePlan]:
    return await ctx.read(partial(service.list_page, after=decode_cursor(cursor), limit=limit, customer_id=customer_id))


@post("/{plan_id:str}/pause", status_code=200)
async def pause_plan(plan_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Response[ServicePlan]:
    return await ctx.commit(partial(service.pause, actor=ctx.actor, plan_id=plan_id))


@post("/{plan_id:str}/resume", status_code=200)
async def resume_plan(
    plan_id: FromPath[str], ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk]
) -> Response[ServicePlan]:
    """A paused plan bills again. A past-due autopay plan too, and its owed cycle is charged at
    once: the answer is the plan after that charge."""
    replay = await ctx.replayed()
    if replay is not None:
        return replay
    try:
        await ctx.write(partial(service.resume, actor=ctx.actor, plan_id=plan_id))
    except FlintError as err:
        if err.status >= 500:
            raise
        return await ctx.refuse(err)
    await autopay.try_owed(desk, ctx.public_url, plan_id)
    return await ctx.commit(partial(service.get, plan_id=plan_id))


@post("/{plan_id:str}/cancel", status_code=200)
async def cancel_plan(plan_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Response[ServicePlan]:
    return await ctx.commit(partial(service.cancel, actor=ctx.actor, plan_id=plan_id))


@get("/{plan_id:str}/cycles")
async def list_cycles(
    plan_id: FromPath[str], ctx: NamedDependency[Ctx], limit: Limit = 50, cursor: Cursor = None
) -> Page[Cycle]:
    return await ctx.read(partial(service.cycles_page, plan_id=plan_id, after=decode_cursor(cursor), limit=limit))


plans = Router(
    "/v1/service-plans",
    route_handlers=[create_plan, get_plan, list_plans, pause_plan, resume_plan, cancel_plan, list_cycles],
    tags=["service plans"],
)


# The runs the scheduler makes every minute, on demand. Each is many transactions (one per cycle,
# one per invoice reminded), so with an `Idempotency-Key` the answer is stored once the run is done.


@post("/run", dto=StrictBody, return_dto=None, status_code=200)
async def run_billing(
    ctx: NamedDependency[Ctx], desk: NamedDependency[PaymentDesk], data: JSONBody[BillingRun | None] = None
) -> Response[BillingRunResult]:
    """Bill every period due, then charge every autopay cycle whose charge is due (new cycles
    and retries whose day came), once each however many runs overlap."""
    replay = await ctx.replayed()
    if replay is not None:
        return replay
    as_of = None
    if data is not None and data.as_of is not None:
        try:
            as_of = parse_date(data.as_of)
        except ValueError as exc:
            raise InvalidRequest(f"asOf: {exc}", [FieldError("asOf", str(exc))]) from None
        try:
            rules.check_as_of(as_of, today(ctx.db.now()))
        except RuleViolation as err:
            return await ctx.refuse(err)
    settings = ctx.settings
    created = await service.run_billing(ctx.db, as_of, settings.public_url, settings.business_name)
    await autopay.run_due(desk, settings.public_url)

    def answer(tx: Tx) -> BillingRunResult:
        return BillingRunResult(cycles_created=created)

    return await ctx.commit(answer)


@post("/reminders", status_code=200)
async def send_reminders(ctx: NamedDependency[Ctx]) -> Response[RemindersRun]:
    replay = await ctx.replayed()
    if replay is not None:
        return replay
    sent = await reminders.run(ctx.db, ctx.settings.public_url, ctx.settings.business_name)

    def answer(tx: Tx) -> RemindersRun:
        return RemindersRun(reminders_sent=sent)

    return await ctx.commit(answer)


billing = Router("/v1/billing", route_handlers=[run_billing, send_reminders], tags=["billing"])
