from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import WEBHOOKS, create_app
from server.config import Settings
from server.webhooks.runtime import Webhooks
from tests.conftest import OFFICE, FakeClock
from tests.helpers import get, post
from tests.webhooks.receiver import Receiver, verifying_at


@pytest.fixture
def receiver(clock: FakeClock) -> Iterator[Receiver]:
    made = Receiver()
    with verifying_at(clock):
        yield made
    made.close()


@dataclass
class Hooks:
    """An app whose webhooks may go to loopback (`FLINT_WEBHOOK_ALLOW_PRIVATE=1`), and its worker."""

    client: AsyncTestClient[Any]
    clock: FakeClock

    @property
    def running(self) -> Webhooks:
        hooks: Webhooks = self.client.app.state[WEBHOOKS]
        return hooks

    async def settle(self) -> None:
        """Every attempt due by the app's clock made and recorded (the worker runs on the app's loop)."""
        await asyncio.to_thread(self.client.blocking_portal.call, self.running.worker.settle)

    async def endpoint(self, receiver: Receiver, events: list[str] | None = None) -> dict[str, Any]:
        made = await post(self.client, "/v1/webhook-endpoints", {"url": receiver.url, "events": events or ["*"]})
        receiver.secrets.append(made["secret"])
        return dict(made)

    async def deliveries(self, endpoint_id: str, **params: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        page = await get(self.client, f"/v1/webhook-endpoints/{endpoint_id}/deliveries?limit=200&{query}")
        return list(page["data"])

    async def events(self, **params: str) -> list[dict[str, Any]]:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        page = await get(self.client, f"/v1/events?limit=200&{query}")
        return list(page["data"])

    async def later(self, **delta: float) -> None:
        """Move the clock on, then let every attempt now due run."""
        self.clock.advance(**delta)
        await self.settle()


@pytest.fixture
async def hooks(settings: Settings, clock: FakeClock) -> AsyncIterator[Hooks]:
    app = create_app(replace(settings, webhook_allow_private=True), clock)
    async with AsyncTestClient(app) as client:
        yield Hooks(client, clock)


async def api(client: AsyncTestClient[Any], method: str, path: str, body: Any = None, **headers: str) -> Any:
    return await client.request(method, path, json=body, headers={**OFFICE, **headers})
