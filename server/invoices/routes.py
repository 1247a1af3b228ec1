from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from server.invoices import service
from server.invoices.types import CreateInvoice, Invoice
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post("/", dto=StrictBody, return_dto=None, status_code=201)
async def create_invoice(data: JSONBody[CreateInvoice], ctx: NamedDependency[Ctx]) -> Response[Invoice]:
    unit = partial(service.create, actor=ctx.actor, data=data, public_url=ctx.public_url)
    return await ctx.commit(unit, status=201)


@get("/{invoice_id:str}")
async def get_invoice(invoice_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Invoice:
    return await ctx.read(partial(service.get, invoice_id=invoice_id, public_url=ctx.public_url))


@get("/")
async def list_invoices(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    order_id: Annotated[str | None, QueryParameter(name="orderId")] = None,
    job_id: Annotated[str | None, QueryParameter(name="jobId")] = None,
) -> Page[Invoice]:
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


@post("/{invoice_id:str}/publish", status_code=200)
async def publish_invoice(invoice_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Response[Invoice]:
    unit = partial(
        service.publish,
        actor=ctx.actor,
        invoice_id=invoice_id,
        public_url=ctx.public_url,
        business=ctx.settings.business_name,
    )
    return await ctx.commit(unit)


@post("/{invoice_id:str}/cancel", status_code=200)
async def cancel_invoice(invoice_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Response[Invoice]:
    return await ctx.commit(partial(service.cancel, actor=ctx.actor, invoice_id=invoice_id, public_url=ctx.public_url))


router = Router(
    "/v1/invoices",
    route_handlers=[create_invoice, get_invoice, list_invoices, publish_invoice, cancel_invoice],
    tags=["invoices"],
)
