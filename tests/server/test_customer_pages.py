"""Customer pages (contract §4 v2): every answer under `/pay/` and `/invoices/`, error pages
included, carries the group's headers; the pages use the stylesheet, never inline style or
script; and while the card processor is the sandbox, each says that no money moves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.config import Settings
from server.errors import ConfigError
from tests.conftest import OFFICE
from tests.helpers import GOOD_CARD, item, job, link, order, pay, pay_path

EXPECTED = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def assert_customer_headers(response: Any) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.status_code, name, dict(response.headers))
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy
    assert directives["default-src"] == "'none'"  # so no script at all, inline or not
    assert "script-src" not in directives
    assert directives["style-src"] == "'self'"


def assert_no_inline_code(html: str) -> None:
    assert "<script" not in html
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)


async def test_every_customer_page_and_error_page_carries_the_headers(client: AsyncTestClient[Any]) -> None:
    the_job = await job(client)
    the_order = await order(client, the_job["id"], item("Repair", 20000))
    made = await link(client, the_order["id"], 7500)
    cancelled = await link(client, the_order["id"], 5000)
    assert (await client.post(f"/v1/payment-links/{cancelled['id']}/cancel", headers=OFFICE)).status_code == 200

    answers = {
        "the form": await client.get(pay_path(made)),
        "bad input": await pay(client, made, cardNumber="4242424242424241"),
        "a decline": await pay(client, made, cardNumber="4000000000000002"),
        "unknown link": await client.get("/pay/no-such-token"),
        "cancelled link": await client.get(pay_path(cancelled)),
        "no route": await client.get("/pay/a/b"),
        "wrong method": await client.delete(pay_path(made)),
        "too large": await client.post(pay_path(made), data={"cardNumber": "4" * (1024 * 1024 + 1)}),
        "invoice page": await client.get("/invoices/no-such-token"),
        "receipt": await pay(client, made),
    }
    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == {
        "the form": 200,
        "bad input": 400,
        "a decline": 402,
        "unknown link": 404,
        "cancelled link": 410,
        "no route": 404,
        "wrong method": 405,
        "too large": 413,
        "invoice page": 404,
        "receipt": 200,
    }
    for response in answers.values():
        assert_customer_headers(response)
        if response.headers["content-type"].startswith("text/html"):
            assert_no_inline_code(response.text)

    # The office API is not a customer page: its invoices path names an id, not a token.
    api = await client.get("/v1/invoices/inv_x", headers=OFFICE)
    assert "content-security-policy" not in api.headers


async def test_pages_use_the_stylesheet_and_say_the_processor_is_a_sandbox(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 20000))
    made = await link(client, the_order["id"], 7500)
    for response in (await client.get(pay_path(made)), await client.get("/pay/no-such-token"), await pay(client, made)):
        sheet = re.search(r'<link rel="stylesheet" href="(/static/customer\.css\?v=[0-9a-f]+)">', response.text)
        assert sheet, response.text[:400]
        assert "Sandbox: no money moves." in response.text
    css = await client.get(sheet.group(1))
    assert css.status_code == 200 and ".card" in css.text and ".sandbox" in css.text


def test_the_processor_is_the_sandbox_or_stripe_with_its_keys() -> None:
    env = {"FLINT_API_KEY": "k" * 32}
    assert Settings.from_env(env).processor == "sandbox"
    assert Settings.from_env({**env, "FLINT_PROCESSOR": "sandbox"}).sandbox_processor
    with pytest.raises(ConfigError, match="FLINT_PROCESSOR must be one of sandbox, stripe"):
        Settings.from_env({**env, "FLINT_PROCESSOR": "square"})
    with pytest.raises(ConfigError, match="needs STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET"):
        Settings.from_env({**env, "FLINT_PROCESSOR": "stripe"})
    keys = {"STRIPE_SECRET_KEY": "sk_test_1", "STRIPE_PUBLISHABLE_KEY": "pk_test_1", "STRIPE_WEBHOOK_SECRET": "whsec_1"}
    stripe = Settings.from_env({**env, "FLINT_PROCESSOR": "stripe", **keys})
    assert not stripe.sandbox_processor and stripe.stripe is not None
    assert (stripe.stripe.api_base, stripe.stripe.js_url) == ("https://api.stripe.com", "https://js.stripe.com/v3/")


async def test_a_page_keeps_working_without_inline_style(client: AsyncTestClient[Any]) -> None:
    """The form a browser fills in is unchanged: fields, the button, the kept expiry."""
    the_order = await order(client, None, item("Repair", 20000))
    made = await link(client, the_order["id"], 7500)
    declined = await pay(client, made, cardNumber="4000000000000002")
    assert declined.status_code == 402
    assert f'value="{GOOD_CARD["expYear"]}"' in declined.text
    assert '<button type="submit">Pay $75.00</button>' in declined.text
