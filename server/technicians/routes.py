from __future__ import annotations

from functools import partial

from litestar import Response, Router, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from server.store.paging import Page, decode_cursor
from server.technicians import service
from server.technicians.types import CreateTechnician, Device, EnrolDevice, EnrolledDevice, Technician
from server.web.body import StrictBody
from server.web.context import Ctx
from server.web.params import Cursor, Limit


@post("/technicians", dto=StrictBody, return_dto=None, status_code=201)
async def create_technician(data: JSONBody[CreateTechnician], ctx: NamedDependency[Ctx]) -> Response[Technician]:
    return await ctx.commit(partial(service.create, data=data), status=201)


@get("/technicians/{technician_id:str}")
async def get_technician(technician_id: FromPath[str], ctx: NamedDependency[Ctx]) -> Technician:
    return await ctx.read(partial(service.get, technician_id=technician_id))


@get("/technicians")
async def list_technicians(ctx: NamedDependency[Ctx], limit: Limit = 50, cursor: Cursor = None) -> Page[Technician]:
    return await ctx.read(partial(service.list_page, after=decode_cursor(cursor), limit=limit))


@post("/technicians/{technician_id:str}/devices", dto=StrictBody, return_dto=None, status_code=201)
async def enrol_device(
    technician_id: FromPath[str], ctx: NamedDependency[Ctx], data: JSONBody[EnrolDevice | None] = None
) -> Response[EnrolledDevice]:
    return await ctx.commit(
        partial(service.enrol_device, technician_id=technician_id, data=data or EnrolDevice()),
        status=201,
        kept=service.without_token,
    )


@get("/technicians/{technician_id:str}/devices")
async def list_devices(
    technician_id: FromPath[str], ctx: NamedDependency[Ctx], limit: Limit = 50, cursor: Cursor = None
) -> Page[Device]:
    return await ctx.read(
        partial(service.devices_page, technician_id=technician_id, after=decode_cursor(cursor), limit=limit)
    )


@delete("/devices/{device_id:str}", status_code=204)
async def revoke_device(device_id: FromPath[str], ctx: NamedDependency[Ctx]) -> None:
    await ctx.write(partial(service.revoke_device, device_id=device_id))


router = Router(
    "/v1",
    route_handlers=[
        create_technician,
        get_technician,
        list_technicians,
        enrol_device,
        list_devices,
        revoke_device,
    ],
    tags=["technicians"],
)
