"""Guessing the office key (contract §1, v3): a client's address is the connection's peer unless
a proxy named in FLINT_TRUSTED_PROXIES says otherwise; wrong keys (a bearer header anywhere
under /v1, or the login form) count against that address in one limiter, 10 within 10 minutes
then 429 with Retry-After; the bookkeeping is bounded and never blocks the event loop."""

from __future__ import annotations

import asyncio
import re
import secrets
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from server.config import Settings
from server.errors import ConfigError, RateLimited
from server.web.attempts import FailedAttempts, client_key
from tests.conftest import OFFICE, FakeClock
from tests.helpers import post, technician
from tests.process import ServerProcess, free_port

KEY = "key-guesses-office-key-0123456789abcdef"
CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def _guess() -> dict[str, str]:
    return {"Authorization": f"Bearer {secrets.token_urlsafe(24)}"}


async def test_thirty_wrong_bearer_keys_from_one_address_wait(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    # Guesses anywhere a bearer key means something: the office API, an unknown path, sync.
    paths = ["/v1/customers", "/v1/no-such-thing", "/v1/jobs/job_x"]
    answers = []
    for n in range(30):
        if n % 4 == 3:
            response = await client.post("/v1/sync/pull", json={"clientId": "c", "schemaVersion": 1}, headers=_guess())
        else:
            response = await client.get(paths[n % 4], headers=_guess())
        answers.append(response)
    assert [r.status_code for r in answers[:10]] == [401] * 10
    assert {r.status_code for r in answers[10:]} == {429}
    last = answers[-1]
    assert last.json()["code"] == "rate_limited"
    assert last.headers["content-type"] == "application/problem+json"
    assert 1 <= int(last.headers["retry-after"]) <= 600

    # The right key waits too: a guess that happens to be right must not be told so.
    right = await client.get("/v1/customers", headers=OFFICE)
    assert (right.status_code, right.json()["code"]) == (429, "rate_limited")
    # A request with no key is no guess, and is answered as ever.
    assert (await client.get("/v1/customers")).status_code == 401

    clock.advance(minutes=10, seconds=1)
    assert (await client.get("/v1/customers", headers=OFFICE)).status_code == 200


async def test_a_right_key_counts_for_nothing(client: AsyncTestClient[Any]) -> None:
    tech = await technician(client)
    device = await post(client, f"/v1/technicians/{tech['id']}/devices", {"label": "phone"})
    token = {"Authorization": f"Bearer {device['token']}"}
    for _ in range(30):
        assert (await client.get("/v1/customers", headers=OFFICE)).status_code == 200
        # A device token where it does not reach is a key, not a guess: 403, and a path no
        # route knows is 404 for it.
        assert (await client.get("/v1/customers", headers=token)).status_code == 403
        assert (await client.get("/v1/no-such-thing", headers=token)).status_code == 404
    assert client.app.state["web"].key_attempts.count("testclient") == 0


async def test_an_unknown_path_with_a_random_key_opens_no_connection_on_the_loop(
    client: AsyncTestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answering 401 or 404 for a path no route knows used to look a device token up on a
    blocking SQLite connection, opened on the event loop's own thread."""
    opened_on_loop = []
    connect = sqlite3.connect

    def watched(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        try:
            asyncio.get_running_loop()
            opened_on_loop.append(args)
        except RuntimeError:
            pass  # a thread of its own (aiosqlite's): fine
        return connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", watched)
    for method in ("GET", "DELETE", "PATCH"):
        response = await client.request(method, f"/v1/no-such-thing/{method}", headers=_guess())
        assert response.status_code == 401
    assert (await client.put("/v1/orders", headers=_guess())).status_code == 401  # a 405 for the office
    assert (await client.put("/v1/orders", headers=OFFICE)).status_code == 405
    assert opened_on_loop == []


def test_the_limiter_is_bounded_and_forgets_idle_addresses(clock: FakeClock) -> None:
    limiter = FailedAttempts(10, timedelta(minutes=10), clock, capacity=1000)
    for n in range(5000):
        limiter.failed(f"198.51.{n // 256}.{n % 256}")
    assert len(limiter) == 1000  # the ones that failed longest ago were forgotten
    assert limiter.count("198.51.19.135") == 1 and limiter.count("198.51.0.0") == 0

    # Once their failures leave the window, each new failure forgets idle addresses as it goes.
    clock.advance(minutes=11)
    for n in range(600):
        limiter.failed(f"203.0.113.{n % 250}")
    assert len(limiter) == 250  # the 1,000 idle ones are gone, two at a time

    with pytest.raises(RateLimited):
        for _ in range(11):
            limiter.allow("203.0.113.7")
            limiter.failed("203.0.113.7")


def test_an_ipv6_client_counts_by_its_64() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:203.0.113.9") == "203.0.113.9"
    assert client_key("203.0.113.9") == "203.0.113.9"
    assert client_key(None) == "unknown"


def test_trusted_proxies_are_addresses_or_networks() -> None:
    env = {"FLINT_API_KEY": KEY}
    assert Settings.from_env(env).trusted_proxies == ()
    chosen = Settings.from_env({**env, "FLINT_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/24 ::1"})
    assert chosen.trusted_proxies == ("127.0.0.1", "10.0.0.0/24", "::1")
    for bad in ("proxy.example.com", "0.0.0.0/0", "::/0", "10.0.0.0/33"):
        with pytest.raises(ConfigError, match="FLINT_TRUSTED_PROXIES"):
            Settings.from_env({**env, "FLINT_TRUSTED_PROXIES": bad})
    refused = subprocess.run(
        [sys.executable, "-m", "server.cli", "serve", "--port", str(free_port())],
        env={"PATH": "/usr/bin:/bin", "FLINT_API_KEY": KEY, "FLINT_TRUSTED_PROXIES": "*"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and "FLINT_TRUSTED_PROXIES" in refused.stderr


def _login_form(browser: httpx.Client) -> str:
    found = CSRF.search(browser.get("/login").text)
    assert found
    return found.group(1)


def test_no_forwarded_header_chooses_the_address(tmp_path: Path) -> None:
    """Thirty login attempts, each claiming a new X-Forwarded-For, from a server with no
    trusted proxy: the header is ignored, and the eleventh waits."""
    with (
        ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server,
        httpx.Client(base_url=server.url) as browser,
    ):
        token = _login_form(browser)
        statuses = []
        for n in range(30):
            forwarded = {"X-Forwarded-For": f"198.51.100.{n + 1}"}
            answer = browser.post("/login", data={"key": f"guess {n}", "_csrf_token": token}, headers=forwarded)
            statuses.append(answer.status_code)
        assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
        assert 1 <= int(answer.headers["retry-after"]) <= 600
        # The same address guessing bearer keys is already waiting: one limiter for both.
        api = browser.get("/v1/customers", headers={**_guess(), "X-Forwarded-For": "192.0.2.1"})
        assert api.status_code == 429 and "retry-after" in api.headers


def test_a_trusted_proxy_names_each_client(tmp_path: Path) -> None:
    env = {"FLINT_API_KEY": KEY, "FLINT_TRUSTED_PROXIES": "127.0.0.1"}
    with ServerProcess(tmp_path / "flint.db", env) as server, httpx.Client(base_url=server.url) as proxy:
        one, other = {"X-Forwarded-For": "203.0.113.1"}, {"X-Forwarded-For": "198.51.100.7, 203.0.113.2"}
        statuses = [proxy.get("/v1/customers", headers={**_guess(), **one}).status_code for _ in range(11)]
        assert statuses == [401] * 10 + [429]
        # Another client behind the proxy (the address the proxy saw, the last one it added) is not.
        assert proxy.get("/v1/customers", headers={**_guess(), **other}).status_code == 401
        office = {"Authorization": f"Bearer {KEY}"}
        assert proxy.get("/v1/customers", headers={**office, **other}).status_code == 200
        assert proxy.get("/v1/customers", headers={**office, **one}).status_code == 429


async def test_a_guess_not_shaped_like_a_device_token_reads_nothing(
    client: AsyncTestClient[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flood of random keys must not queue reads ahead of the office's: only a key shaped
    like a device token (`fdt_…`) is looked up."""
    db = client.app.state["web"].db
    reads: list[Any] = []
    read = db.read

    async def counted(unit: Any) -> Any:
        if "_identify" in getattr(unit, "__qualname__", ""):  # the key's lookups, not the text worker's
            reads.append(unit)
        return await read(unit)

    monkeypatch.setattr(db, "read", counted)
    for _ in range(5):
        assert (await client.get("/v1/no-such-thing", headers=_guess())).status_code == 401
    assert reads == []
    shaped = {"Authorization": f"Bearer fdt_{secrets.token_urlsafe(32)}"}
    assert (await client.get("/v1/no-such-thing", headers=shaped)).status_code == 401
    assert len(reads) == 1
