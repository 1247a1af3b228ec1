from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import msgspec
from litestar import Router, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from server.clock import parse_time
from server.errors import Conflict, TooLarge, UpdateRequired
from server.replication import pull, push
from server.replication.mutations import Device
from server.technicians import store as technicians_store
from server.web.auth import device_guard
from server.web.body import StrictBody
from server.web.context import Ctx
from sync import protocol as p

T = TypeVar("T")

# A pull records `lastSyncAt` for dispatch only when the one on file is older than this, so an
# idle device polling does not cost a disk flush per poll.
SYNC_MARK_EVERY = timedelta(seconds=15)


def _check_version(version: int) -> None:
    if version != p.SCHEMA_VERSION:
        raise UpdateRequired(f"this server speaks sync schema {p.SCHEMA_VERSION}; update the app")


class _Version(msgspec.Struct, rename="camel"):
    schema_version: int | None = None


class SyncBody(StrictBody[T]):
    """Strict, like every body (an unknown field is 400), but the schema version is read first:
    an app newer than this server may send fields it does not know, and must be told to wait
    for the server (426), not that its request is malformed."""

    def decode_bytes(self, value: bytes) -> Any:
        try:
            version = msgspec.json.decode(value, type=_Version).schema_version
        except (msgspec.ValidationError, msgspec.DecodeError):
            version = None
        if version is not None:
            _check_version(version)
        return super().decode_bytes(value)


def _device(ctx: Ctx) -> tuple[Device, str]:
    caller = ctx.authenticated
    assert caller.device_id is not None and caller.technician_id is not None
    device = Device(
        actor=ctx.actor,
        technician_id=caller.technician_id,
        public_url=ctx.public_url,
        business=ctx.settings.business_name,
    )
    return device, caller.device_id


@post("/sync/push", dto=SyncBody, return_dto=None, status_code=200)
async def sync_push(data: JSONBody[p.PushRequest], ctx: NamedDependency[Ctx]) -> p.PushResponse:
    await ctx.idempotency_key()  # a key is checked, not stored: mutation ids already make a push safe to repeat
    _check_version(data.schema_version)
    if len(data.mutations) > p.MAX_PUSH:
        raise TooLarge(f"at most {p.MAX_PUSH} mutations a push; send the rest in the next one")
    found = push.envelopes(data)
    device, device_id = _device(ctx)
    outcome = await ctx.write(partial(push.push, request=data, found=found, device=device, device_id=device_id))
    if outcome.gap:
        raise Conflict(
            f"mutations must follow {outcome.last_mutation_id}; push again from {outcome.last_mutation_id + 1}",
            code="mutation_gap",
            lastMutationId=outcome.last_mutation_id,
        )
    return p.PushResponse(last_mutation_id=outcome.last_mutation_id, results=outcome.results)


@post("/sync/pull", dto=SyncBody, return_dto=None, status_code=200)
async def sync_pull(data: JSONBody[p.PullRequest], ctx: NamedDependency[Ctx]) -> p.PullResponse:
    await ctx.idempotency_key()  # checked; a pull changes nothing to replay
    _check_version(data.schema_version)
    device, device_id = _device(ctx)
    response, last_sync = await ctx.read(
        partial(
            pull.pull,
            request=data,
            technician_id=device.technician_id,
            device_id=device_id,
            public_url=ctx.public_url,
        )
    )
    now = parse_time(ctx.db.now())
    if last_sync is None or parse_time(last_sync) + SYNC_MARK_EVERY <= now:
        await ctx.write(partial(technicians_store.mark_synced, technician_id=device.technician_id))
    return response


router = Router("/v1", route_handlers=[sync_push, sync_pull], guards=[device_guard], tags=["sync"])
