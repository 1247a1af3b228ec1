from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from server.links import service
from server.links.types import CreatePaymentLink, PaymentLink, SendSms
from server.messages.types import SmsMessage
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post(
    "/",
    dto=StrictBody,
    return_dto=None,
    status_code=201,
    responses={200: ResponseSpec(PaymentLink, description="The job's or order's active balance link, asked for again")},
)
async def create_link(data: JSONBody[CreatePaymentLink], ctx: NamedDependency[Ctx]) -> Response[PaymentLink]:
    unit = partial(service.create, actor=ctx.actor, data=data, public_url=ctx.public_url)
    return await ctx.commit(unit, status=201)


@get("/{link_id:str}")
async def get_link(link_id: FromPath[str], ctx: NamedDependency[Ctx]) -> PaymentLink:
    return await ctx.read(partial(service.get, link_id=link_id, public_url=ctx.public_url))


@get("/")
async def list_links(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    order_id: Annotated[str | None, QueryParameter(name="orderId")] = None,
    job_id: Annotated[str | None, QueryParameter(name="jobId")] = None,
) -> Page[PaymentLink]:
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


@post("/{link_id:str}/cancel", status_code=200)
async def cancel_link(link_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Response[PaymentLink]:
    return await ctx.commit(partial(service.cancel, actor=ctx.actor, link_id=link_id, public_url=ctx.public_url))


@post("/{link_id:str}/send-sms", dto=StrictBody, return_dto=None, status_code=202)
async def send_sms(
    link_id: FromPath[str], ctx: NamedDependency[Ctx], data: JSONBody[SendSms | None] = None
) -> Response[SmsMessage]:
    unit = partial(
        service.send_sms,
        actor=ctx.actor,
        link_id=link_id,
        to=data.to if data else None,
        public_url=ctx.public_url,
        business=ctx.settings.business_name,
    )
    return await ctx.commit(unit, status=202)


router = Router(
    "/v1/payment-links",
    route_handlers=[create_link, get_link, list_links, cancel_link, send_sms],
    tags=["payment links"],
)
