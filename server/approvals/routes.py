from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from server.approvals import service
from server.approvals.types import ApprovalRequest, AskForApproval
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post("/orders/{order_id:str}/approval-requests", dto=StrictBody, return_dto=None, status_code=201)
async def ask_for_approval(
    order_id: FromPath[str], ctx: NamedDependency[Ctx], data: JSONBody[AskForApproval | None] = None
) -> Response[ApprovalRequest]:
    """Text the customer a link and a 6-digit code to approve lines of the order that wait for
    approval (default: every one)."""
    unit = partial(
        service.ask_office,
        actor=ctx.actor,
        order_id=order_id,
        uids=data.line_uids if data else None,
        to=data.to if data else None,
        public_url=ctx.public_url,
        business=ctx.settings.business_name,
    )
    return await ctx.commit(unit, status=201)


@get("/approval-requests/{request_id:str}")
async def get_approval_request(request_id: FromPath[str], ctx: NamedDependency[Ctx]) -> ApprovalRequest:
    return await ctx.read(partial(service.get, request_id=request_id, public_url=ctx.public_url))


@get("/approval-requests")
async def list_approval_requests(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    order_id: Annotated[str | None, QueryParameter(name="orderId")] = None,
    job_id: Annotated[str | None, QueryParameter(name="jobId")] = None,
) -> Page[ApprovalRequest]:
    return await ctx.read(
        partial(
            service.list_page,
            after=decode_cursor(cursor),
            limit=limit,
            order_id=order_id,
            job_id=job_id,
            public_url=ctx.public_url,
        )
    )


router = Router(
    "/v1", route_handlers=[ask_for_approval, get_approval_request, list_approval_requests], tags=["approvals"]
)
