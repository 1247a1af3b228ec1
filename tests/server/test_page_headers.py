"""Every HTML page carries the pages' headers (contract §6, v3): a CSP with no inline script,
`nosniff`, no framing, `no-store`; the built-in Twilio sandbox's phone (which shows live pay
links) and the docs UI at `/schema` included. Every answer says `nosniff`."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.dispatch.conftest import log_in
from tests.helpers import job

PHONE = "+15555550101"


def assert_page_headers(response: Any, what: str) -> None:
    headers = response.headers
    assert headers["content-type"].startswith("text/html"), what
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy and "unsafe-eval" not in policy
    assert "script-src 'self'" in policy or "default-src 'none'" in policy, (what, policy)
    assert headers["x-content-type-options"] == "nosniff", what
    assert headers["x-frame-options"] == "DENY", what
    assert headers["cache-control"] == "no-store", what


async def test_every_html_page_carries_the_headers(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    pages = {"login": await client.get("/login"), "docs": await client.get("/schema")}
    await log_in(client)
    pages |= {
        "board": await client.get("/dispatch"),
        "trail": await client.get(f"/dispatch/jobs/{the_job['id']}"),
        "missing job": await client.get("/dispatch/jobs/job_nope"),
        "sandbox phone": await client.get(f"/sandbox/phone/{PHONE}"),
        "board rows": await client.get("/dispatch/board"),
        "unknown link": await client.get("/pay/nope"),
    }
    for what, response in pages.items():
        assert response.status_code in (200, 404), (what, response.status_code)
        assert_page_headers(response, what)
    # The customer pages keep their own, stricter policy: no script at all.
    assert pages["unknown link"].headers["content-security-policy"].startswith("default-src 'none'")

    for other in (
        await client.get("/healthz"),
        await client.get("/v1/customers", headers=OFFICE),
        await client.get("/schema/openapi.json"),
        await client.get("/v1/nothing-here", headers=OFFICE),
    ):
        assert other.headers["x-content-type-options"] == "nosniff"
        assert "content-security-policy" not in other.headers or other.headers["content-type"].startswith("text/html")
