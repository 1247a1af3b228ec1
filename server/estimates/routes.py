from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from server.estimates import drafting, service
from server.estimates.types import CreateEstimate, Estimate, SendEstimate, UpdateEstimate
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post("/", dto=StrictBody, return_dto=None, status_code=201)
async def create_estimate(data: JSONBody[CreateEstimate], ctx: NamedDependency[Ctx]) -> Response[Estimate]:
    return await ctx.commit(partial(drafting.create, actor=ctx.actor, data=data, public_url=ctx.public_url), status=201)


@get("/{estimate_id:str}")
async def get_estimate(estimate_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Estimate:
    return await ctx.read(partial(service.get, estimate_id=estimate_id, public_url=ctx.public_url))


@get("/")
async def list_estimates(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    job_id: Annotated[str | None, QueryParameter(name="jobId")] = None,
) -> Page[Estimate]:
    return await ctx.read(
        partial(service.list_page, after=decode_cursor(cursor), limit=limit, job_id=job_id, public_url=ctx.public_url)
    )


@patch("/{estimate_id:str}", dto=StrictBody, return_dto=None)
async def update_estimate(
    estimate_id: FromPath[str], data: JSONBody[UpdateEstimate], ctx: NamedDependency[Ctx]
) -> Response[Estimate]:
    unit = partial(drafting.update, actor=ctx.actor, estimate_id=estimate_id, data=data, public_url=ctx.public_url)
    return await ctx.commit(unit)


@post("/{estimate_id:str}/send", dto=StrictBody, return_dto=None, status_code=200)
async def send_estimate(
    estimate_id: FromPath[str], ctx: NamedDependency[Ctx], data: JSONBody[SendEstimate | None] = None
) -> Response[Estimate]:
    unit = partial(
        service.send,
        actor=ctx.actor,
        estimate_id=estimate_id,
        to=data.to if data else None,
        public_url=ctx.public_url,
        business=ctx.settings.business_name,
    )
    return await ctx.commit(unit)


@post("/{estimate_id:str}/void", status_code=200)
async def void_estimate(estimate_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Response[Estimate]:
    return await ctx.commit(partial(service.void, actor=ctx.actor, estimate_id=estimate_id, public_url=ctx.public_url))


router = Router(
    "/v1/estimates",
    route_handlers=[create_estimate, get_estimate, list_estimates, update_estimate, send_estimate, void_estimate],
    tags=["estimates"],
)
