from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from server.orders import service
from server.orders.types import AddLineItems, CreateOrder, Order, UpdateOrder
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post("/", dto=StrictBody, return_dto=None, status_code=201)
async def create_order(data: JSONBody[CreateOrder], ctx: NamedDependency[Ctx]) -> Response[Order]:
    return await ctx.commit(partial(service.create, actor=ctx.actor, data=data), status=201)


@get("/{order_id:str}")
async def get_order(order_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Order:
    return await ctx.read(partial(service.get, order_id=order_id))


@get("/")
async def list_orders(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    job_id: Annotated[str | None, QueryParameter(name="jobId")] = None,
    customer_id: Annotated[str | None, QueryParameter(name="customerId")] = None,
) -> Page[Order]:
    return await ctx.read(
        partial(
            service.list_page,
            after=decode_cursor(cursor),
            limit=limit,
            job_id=job_id,
            customer_id=customer_id,
        )
    )


@post("/{order_id:str}/line-items", dto=StrictBody, return_dto=None, status_code=200)
async def add_line_items(
    order_id: FromPath[str], data: JSONBody[AddLineItems], ctx: NamedDependency[Ctx]
) -> Response[Order]:
    return await ctx.commit(
        partial(
            service.add_line_items,
            actor=ctx.actor,
            order_id=order_id,
            items=data.line_items,
            version=data.version,
        )
    )


@delete("/{order_id:str}/line-items/{uid:str}", status_code=200)
async def remove_line_item(
    order_id: FromPath[str],
    uid: FromPath[str],
    ctx: NamedDependency[Ctx],
    version: Annotated[int | None, QueryParameter(ge=1)] = None,
) -> Order:
    return await ctx.write(
        partial(service.remove_line_item, actor=ctx.actor, order_id=order_id, uid=uid, version=version)
    )


@patch("/{order_id:str}", dto=StrictBody, return_dto=None)
async def update_order(
    order_id: FromPath[str], data: JSONBody[UpdateOrder], ctx: NamedDependency[Ctx]
) -> Response[Order]:
    return await ctx.commit(partial(service.update, actor=ctx.actor, order_id=order_id, data=data))


router = Router(
    "/v1/orders",
    route_handlers=[create_order, get_order, list_orders, add_line_items, remove_line_item, update_order],
    tags=["orders"],
)
