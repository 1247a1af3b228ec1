"""`/v1/webhook-endpoints` and `/v1/webhook-deliveries` (contract §11)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from litestar import Response, Router, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, QueryParameter

from server.errors import RuleViolation
from server.store.paging import Page, decode_cursor
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit
from server.webhooks import service
from server.webhooks.runtime import Webhooks
from server.webhooks.types import (
    CreateWebhookEndpoint,
    DeliveryStatus,
    UpdateWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointWithSecret,
)


@post("/webhook-endpoints", dto=StrictBody, return_dto=None, status_code=201)
async def create_endpoint(
    data: JSONBody[CreateWebhookEndpoint], ctx: NamedDependency[Ctx], webhooks: NamedDependency[Webhooks]
) -> Response[WebhookEndpointWithSecret]:
    replay = await ctx.replayed()
    if replay is not None:
        return replay
    try:
        await webhooks.policy.check(data.url)  # DNS, before the transaction: never inside it
    except RuleViolation as err:
        return await ctx.refuse(err)
    return await ctx.commit(partial(service.create, data=data), status=201, kept=service.without_secret)


@get("/webhook-endpoints")
async def list_endpoints(ctx: NamedDependency[Ctx], limit: Limit = 50, cursor: Cursor = None) -> Page[WebhookEndpoint]:
    return await ctx.read(partial(service.list_page, after=decode_cursor(cursor), limit=limit))


@get("/webhook-endpoints/{endpoint_id:str}")
async def get_endpoint(endpoint_id: FromPath[str], ctx: NamedDependency[Ctx]) -> WebhookEndpoint:
    return await ctx.read(partial(service.get, endpoint_id=endpoint_id))


@patch("/webhook-endpoints/{endpoint_id:str}", dto=StrictBody, return_dto=None)
async def update_endpoint(
    endpoint_id: FromPath[str],
    data: JSONBody[UpdateWebhookEndpoint],
    ctx: NamedDependency[Ctx],
    webhooks: NamedDependency[Webhooks],
) -> Response[WebhookEndpoint]:
    if data.url is not None:
        try:
            await webhooks.policy.check(data.url)
        except RuleViolation as err:
            return await ctx.refuse(err)
    return await ctx.commit(partial(service.update, endpoint_id=endpoint_id, data=data))


@delete("/webhook-endpoints/{endpoint_id:str}", status_code=204)
async def delete_endpoint(endpoint_id: FromPath[str], ctx: NamedDependency[Ctx]) -> None:
    await ctx.write(partial(service.delete, endpoint_id=endpoint_id))


@post("/webhook-endpoints/{endpoint_id:str}/rotate-secret", status_code=200)
async def rotate_secret(endpoint_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Response[WebhookEndpointWithSecret]:
    return await ctx.commit(partial(service.rotate_secret, endpoint_id=endpoint_id), kept=service.without_secret)


@get("/webhook-endpoints/{endpoint_id:str}/deliveries")
async def list_deliveries(
    endpoint_id: FromPath[str],
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    status: Annotated[DeliveryStatus | None, QueryParameter(description="Only deliveries in this status.")] = None,
) -> Page[WebhookDelivery]:
    return await ctx.read(
        partial(
            service.deliveries_page, endpoint_id=endpoint_id, before=decode_cursor(cursor), limit=limit, status=status
        )
    )


@get("/webhook-deliveries/{delivery_id:str}")
async def get_delivery(delivery_id: FromPath[str], ctx: NamedDependency[Ctx]) -> WebhookDelivery:
    return await ctx.read(partial(service.get_delivery, delivery_id=delivery_id))


@post("/webhook-deliveries/{delivery_id:str}/retry", status_code=200)
async def retry_delivery(delivery_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Response[WebhookDelivery]:
    return await ctx.commit(partial(service.retry, delivery_id=delivery_id))


router = Router(
    "/v1",
    route_handlers=[
        create_endpoint,
        list_endpoints,
        get_endpoint,
        update_endpoint,
        delete_endpoint,
        rotate_secret,
        list_deliveries,
        get_delivery,
        retry_delivery,
    ],
    tags=["webhooks"],
)
