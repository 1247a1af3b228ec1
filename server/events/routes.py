"""`/v1/events`: the account's event feed (contract §11)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from server.events import service
from server.events.types import Event, EventType
from server.store.paging import Page, decode_cursor
from server.web.context import Ctx
from server.web.params import Cursor, Limit

After = Annotated[
    str | None,
    QueryParameter(max_length=64, description="An event's `id`: list the events after it (oldest first)."),
]
Type = Annotated[EventType | None, QueryParameter(name="type", description="Only events of this type.")]
JobId = Annotated[str | None, QueryParameter(name="jobId", max_length=64, description="Only events of this job.")]


@get("/")
async def list_events(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    after: After = None,
    event_type: Type = None,
    job_id: JobId = None,
) -> Page[Event]:
    return await ctx.read(
        partial(
            service.list_page,
            position=decode_cursor(cursor),
            limit=limit,
            after=after,
            type=event_type,
            job_id=job_id,
        )
    )


@get("/{event_id:str}")
async def get_event(event_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Event:
    return await ctx.read(partial(service.get, event_id=event_id))


router = Router("/v1/events", route_handlers=[list_events, get_event], tags=["events"])
