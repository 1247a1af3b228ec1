from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from server.jobs import service
from server.jobs.types import CreateJob, Job, JobStatus, UpdateJob
from server.store.paging import Page, decode_cursor
from server.trail.types import Trail
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post("/", dto=StrictBody, return_dto=None, status_code=201)
async def create_job(data: JSONBody[CreateJob], ctx: NamedDependency[Ctx]) -> Response[Job]:
    return await ctx.commit(partial(service.create, actor=ctx.actor, data=data), status=201)


@get("/{job_id:str}")
async def get_job(job_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Job:
    return await ctx.read(partial(service.get, job_id=job_id))


@get("/")
async def list_jobs(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    technician_id: Annotated[str | None, QueryParameter(name="technicianId")] = None,
    customer_id: Annotated[str | None, QueryParameter(name="customerId")] = None,
    status: FromQuery[JobStatus | None] = None,
) -> Page[Job]:
    return await ctx.read(
        partial(
            service.list_page,
            after=decode_cursor(cursor),
            limit=limit,
            technician_id=technician_id,
            customer_id=customer_id,
            status=status,
        )
    )


@patch("/{job_id:str}", dto=StrictBody, return_dto=None)
async def update_job(job_id: FromPath[str], data: JSONBody[UpdateJob], ctx: NamedDependency[Ctx]) -> Response[Job]:
    return await ctx.commit(partial(service.update, actor=ctx.actor, job_id=job_id, data=data))


@get("/{job_id:str}/trail")
async def job_trail(job_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Trail:
    return await ctx.read(partial(service.job_trail, job_id=job_id))


router = Router("/v1/jobs", route_handlers=[create_job, get_job, list_jobs, update_job, job_trail], tags=["jobs"])
