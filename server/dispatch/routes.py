"""`/v1/dispatch/*`: the board and the event stream, for the office key (contract §6)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import Stream

from server.dispatch import events, service
from server.dispatch.events import TrailFeed
from server.dispatch.types import Board
from server.jobs.types import JobStatus
from server.web.context import Ctx
from server.web.params import Cursor, Limit

LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        max_length=64,
        description="Resume after this event (`id` of the last one received): the missed ones are sent first.",
    ),
]
After = Annotated[
    int | None, QueryParameter(ge=0, description="Start after this `seq` (ignored with `Last-Event-ID`).")
]


@get("/board")
async def dispatch_board(
    ctx: NamedDependency[Ctx],
    technician_id: Annotated[str | None, QueryParameter(name="technicianId", max_length=64)] = None,
    status: Annotated[JobStatus | None, QueryParameter()] = None,
    limit: Limit = service.PAGE,
    cursor: Cursor = None,
) -> Board:
    """A page of jobs (`limit`, `cursor`) with their money and last event, by when they are
    due, and every technician with their last sync. Follow `GET /v1/dispatch/events` to keep a
    copy current: each event names its job, whose row `GET /v1/jobs/{job_id}` gives anew."""
    return await ctx.read(
        partial(service.api_board, technician_id=technician_id, status=status, cursor=cursor, limit=limit)
    )


@get("/events", media_type="text/event-stream")
async def dispatch_events(
    feed: NamedDependency[TrailFeed], last_event_id: LastEventId = None, after: After = None
) -> Stream:
    """Server-sent events: each new trail event as `event: trail`, `id: <seq>`, and
    `data: {jobId, seq, type, at, actor}`, within a second of its commit; a comment now and
    then keeps the connection open. A reconnect (`Last-Event-ID` or `after`) gets what it
    missed, at most 1,000 events: further behind, the stream starts with `event: reset` (id and
    `data: {seq}` the trail's last event), after which the client reads the board again."""
    return events.response(feed, events.start_after(last_event_id, after))


router = Router("/v1/dispatch", route_handlers=[dispatch_board, dispatch_events], tags=["dispatch"])
