"""Abuse: card testing on a link (contract §4), guessing the office key at the login form, and
request bodies over 1 MiB (contract §1)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.errors import RateLimited
from server.web.attempts import FailedAttempts
from tests.conftest import OFFICE, OFFICE_KEY, FakeClock
from tests.dispatch.conftest import csrf_token
from tests.helpers import item, link, order, pay, pay_path

DECLINED = "4000000000000002"
BAD = "4242424242424241"  # not Luhn-valid: bad input
BIG = "x" * (1024 * 1024 + 1)


async def test_the_eleventh_bad_attempt_on_a_link_waits(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    the_order = await order(client, None, item("Repair", 50000))
    target = await link(client, the_order["id"], 100)
    other = await link(client, the_order["id"], 200)

    # A success in between does not count, and nor does a plain page view.
    statuses = []
    for n in range(10):
        card = DECLINED if n % 2 else BAD
        statuses.append((await pay(client, target, cardNumber=card)).status_code)
        await client.get(pay_path(target))
    assert statuses == [400, 402] * 5

    eleventh = await pay(client, target, cardNumber=DECLINED)
    assert eleventh.status_code == 429
    assert 1 <= int(eleventh.headers["retry-after"]) <= 600
    assert "Too many attempts" in eleventh.text and "Nothing was charged" in eleventh.text
    assert eleventh.headers["cache-control"] == "no-store"
    # Not even a good card goes through while it waits: nothing is charged.
    assert (await pay(client, target)).status_code == 429
    payments = (await client.get(f"/v1/payments?orderId={the_order['id']}", headers=OFFICE)).json()["data"]
    assert {p["status"] for p in payments} == {"declined"}

    # Another link is not affected.
    assert (await pay(client, other)).status_code == 200

    # Ten minutes after the first failure, one more attempt is allowed again.
    clock.advance(minutes=10, seconds=1)
    assert (await pay(client, target)).status_code == 200


async def test_successes_do_not_count(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 50000))
    made = await link(client, the_order["id"], 100)
    attempts = client.app.state["web"].card_attempts
    for _ in range(9):
        assert (await pay(client, made, cardNumber=DECLINED)).status_code == 402
    assert (await pay(client, made)).status_code == 200
    assert attempts.count(made["id"]) == 9  # the capture was not counted
    # Once paid, the page shows the receipt to everyone, whatever is posted to it.
    for _ in range(3):
        assert (await pay(client, made, cardNumber=DECLINED)).status_code == 200
    assert attempts.count(made["id"]) == 9


def test_the_window_slides(clock: FakeClock) -> None:
    limiter = FailedAttempts(3, window=timedelta(minutes=10), clock=clock)
    for _ in range(3):
        limiter.allow("k")
        limiter.failed("k")
        clock.advance(minutes=4)
    # Failures at 0, 4 and 8 minutes; now 12: the first has left the window.
    limiter.allow("k")
    limiter.failed("k")
    with pytest.raises(RateLimited) as limited:
        limiter.allow("k")
    assert limited.value.retry_after == 120  # the failure at 4 minutes leaves the window at 14
    limiter.allow("another key")


async def test_login_attempts_are_limited_per_address(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/login")
    token = csrf_token(page.text)
    for _ in range(10):
        wrong = await client.post("/login", data={"key": "guess", "_csrf_token": token})
        assert wrong.status_code == 401
    limited = await client.post("/login", data={"key": "guess", "_csrf_token": token})
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 600
    assert "Too many wrong keys" in limited.text
    # Even the right key waits: a guess that happens to be right must not be told so.
    right = await client.post("/login", data={"key": OFFICE_KEY, "_csrf_token": token}, follow_redirects=False)
    assert right.status_code == 429


async def test_bodies_over_a_mebibyte_are_413(client: AsyncTestClient[Any]) -> None:
    the_order = await order(client, None, item("Repair", 50000))
    made = await link(client, the_order["id"], 100)

    api = await client.post(
        "/v1/customers", content=BIG.encode(), headers={**OFFICE, "content-type": "application/json"}
    )
    assert api.status_code == 413
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "too_large"

    page = await client.post(pay_path(made), data={"cardNumber": BIG})
    assert page.status_code == 413
    assert page.headers["content-type"].startswith("text/html")
    assert "too much to send" in page.text

    for path in ("/v1/webhooks/twilio/inbound", "/v1/webhooks/twilio/status"):
        hook = await client.post(path, data={"Body": BIG})
        assert hook.status_code == 413, path
        assert hook.json()["code"] == "too_large"

    login = await client.post("/login", data={"key": BIG})
    assert login.status_code == 413
    assert login.headers["content-type"].startswith("text/html")

    # A body of a type the page does not read is refused by its announced length all the same.
    odd = await client.post(pay_path(made), content=BIG.encode(), headers={"content-type": "text/plain"})
    assert odd.status_code == 413

    # Just under the limit is read as usual.
    fits = await client.post(pay_path(made), data={"cardNumber": "4", "pad": "x" * (1024 * 1024 - 200)})
    assert fits.status_code == 400
