"""Outside `--demo` (and without `FLINT_WEBHOOK_ALLOW_PRIVATE=1`) Flint calls only https:// URLs on
public addresses, checked when an endpoint is saved and again at every delivery, so DNS cannot
be used to reach inside."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import WEBHOOKS, create_app
from server.config import Settings
from server.webhooks.rules import address_refused
from tests.conftest import OFFICE, FakeClock
from tests.helpers import get, job
from tests.webhooks.conftest import Hooks

PUBLIC = "93.184.215.14"


@dataclass
class Dns:
    """The resolver the server asks: names the test sets, and nothing else."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host in self.answers:
            return self.answers[host]
        if host.replace(".", "").isdigit() or ":" in host:
            return [host]  # an address resolves to itself
        if host == "localhost":
            return ["127.0.0.1", "::1"]
        raise OSError(f"unknown host {host}")


@pytest.fixture
def dns() -> Dns:
    return Dns()


@pytest.fixture
async def strict(settings: Settings, clock: FakeClock, dns: Dns) -> AsyncIterator[Hooks]:
    """A server as it runs for real: neither `--demo` nor `FLINT_WEBHOOK_ALLOW_PRIVATE`."""
    assert not settings.demo and not settings.webhook_allow_private
    async with AsyncTestClient(create_app(settings, clock, resolver=dns)) as client:
        yield Hooks(client, clock)


async def _create(client: AsyncTestClient[Any], url: str) -> Any:
    return await client.post("/v1/webhook-endpoints", json={"url": url, "events": ["*"]}, headers=OFFICE)


REFUSED = [
    ("http://hooks.example.com/flint", "https://"),
    ("https://127.0.0.1/hooks", "loopback"),
    ("https://localhost:8443/hooks", "loopback"),
    ("https://[::1]/hooks", "loopback"),
    ("https://10.20.30.40/hooks", "private"),
    ("https://192.168.1.20/hooks", "private"),
    ("https://172.16.5.4/hooks", "private"),
    ("https://169.254.169.254/latest/meta-data", "link-local"),
    ("https://[fe80::1]/hooks", "link-local"),
    ("https://[::ffff:10.0.0.1]/hooks", "private"),
    ("https://0.0.0.0/hooks", "not a public address"),
    ("https://inside.example.com/hooks", "private"),
    ("https://nowhere.example.com/hooks", "does not resolve"),
]


async def test_private_and_plain_http_urls_are_refused(strict: Hooks, dns: Dns) -> None:
    dns.answers["inside.example.com"] = [PUBLIC, "10.0.0.7"]  # one inside answer is enough to refuse
    for url, why in REFUSED:
        refused = await _create(strict.client, url)
        assert refused.status_code == 422, (url, refused.text)
        assert refused.json()["code"] == "url_not_allowed" and why in refused.json()["detail"], url
    assert (await get(strict.client, "/v1/webhook-endpoints"))["data"] == []


async def test_malformed_urls_are_bad_requests(strict: Hooks) -> None:
    for url in ("hooks.example.com", "ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "https://"):
        answer = await _create(strict.client, url)
        assert answer.status_code == 400, url
        assert answer.json()["errors"][0]["field"] == "url"


async def test_a_host_that_turns_private_is_refused_at_delivery(strict: Hooks, dns: Dns) -> None:
    dns.answers["hooks.example.com"] = [PUBLIC]
    made = await _create(strict.client, "https://hooks.example.com/flint")
    assert made.status_code == 201, made.text
    endpoint = made.json()

    dns.answers["hooks.example.com"] = ["10.1.2.3"]  # the name now points inside
    await job(strict.client)
    await strict.settle()
    [delivery] = (await get(strict.client, f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"))["data"]
    assert delivery["status"] == "pending" and delivery["attempts"] == 1 and delivery["lastStatusCode"] is None
    assert delivery["lastError"] == "url_not_allowed: hooks.example.com resolves to 10.1.2.3, a private address"
    assert dns.asked.count("hooks.example.com") == 2  # when saved, and at the delivery

    # A change of URL is checked like a new one.
    moved = await strict.client.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}", json={"url": "https://10.9.9.9/x"}, headers=OFFICE
    )
    assert (moved.status_code, moved.json()["code"]) == (422, "url_not_allowed")


async def test_demo_lifts_the_rules(settings: Settings, clock: FakeClock, dns: Dns) -> None:
    async with AsyncTestClient(create_app(replace(settings, demo=True), clock, resolver=dns)) as client:
        assert client.app.state[WEBHOOKS].policy.allow_private
        made = await _create(client, "http://127.0.0.1:9/hooks")
        assert made.status_code == 201


def test_addresses() -> None:
    for address in ("127.0.0.1", "::1", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.1.1", "fe80::1",
                    "fc00::1", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::ffff:127.0.0.1", "192.0.2.1"):  # fmt: skip
        assert address_refused(address) is not None, address
    for address in (PUBLIC, "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert address_refused(address) is None, address
