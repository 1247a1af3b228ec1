from __future__ import annotations

from functools import partial

from litestar import Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.customers import service
from server.customers.types import CreateCustomer, Customer
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post("/", dto=StrictBody, return_dto=None, status_code=201)
async def create_customer(data: JSONBody[CreateCustomer], ctx: NamedDependency[Ctx]) -> Response[Customer]:
    return await ctx.commit(partial(service.create, data=data), status=201)


@get("/{customer_id:str}")
async def get_customer(customer_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Customer:
    return await ctx.read(partial(service.get, customer_id=customer_id))


@get("/")
async def list_customers(ctx: NamedDependency[Ctx], limit: Limit = 50, cursor: Cursor = None) -> Page[Customer]:
    return await ctx.read(partial(service.list_page, after=decode_cursor(cursor), limit=limit))


router = Router("/v1/customers", route_handlers=[create_customer, get_customer, list_customers], tags=["customers"])
