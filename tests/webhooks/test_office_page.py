"""The office's webhook pages: add an endpoint (its secret shown once), see its deliveries, send
one again; behind the browser session, every form with its CSRF token, the pages' headers."""

from __future__ import annotations

import re

from tests.dispatch.conftest import csrf_token, form_key, log_in
from tests.dispatch.test_trail_page import text_of
from tests.helpers import get, job
from tests.webhooks.conftest import Hooks
from tests.webhooks.receiver import Receiver

SECRET = re.compile(r'id="secret">(whsec_[A-Za-z0-9+/=]+)<')


async def test_add_an_endpoint_see_its_deliveries_and_send_one_again(hooks: Hooks, receiver: Receiver) -> None:
    client = hooks.client
    away = await client.get("/dispatch/webhooks", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/login")
    await log_in(client)

    page = await client.get("/dispatch/webhooks")
    assert page.status_code == 200 and "No endpoints yet." in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    token, key = csrf_token(page.text), form_key(page.text, "add")
    form = {"_csrf_token": token, "formKey": key, "url": receiver.url, "description": "Dispatch app",
            "events": ["job.created", "order.created"]}  # fmt: skip

    forged = await client.post("/dispatch/webhooks", data={k: v for k, v in form.items() if k != "_csrf_token"})
    assert forged.status_code == 403
    assert (await get(client, "/v1/webhook-endpoints"))["data"] == []

    added = await client.post("/dispatch/webhooks", data=form)
    assert added.status_code == 201
    [secret] = SECRET.findall(added.text)
    assert "Endpoint added." in added.text and "shows it this once" in text_of(added.text)
    [endpoint] = (await get(client, "/v1/webhook-endpoints"))["data"]
    assert endpoint["events"] == ["job.created", "order.created"] and endpoint["description"] == "Dispatch app"

    again = await client.post("/dispatch/webhooks", data=form, follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] == f"/dispatch/webhooks/{endpoint['id']}"
    shown = await client.get(again.headers["location"])
    assert "was added already" in shown.text and "whsec_" not in shown.text
    assert len((await get(client, "/v1/webhook-endpoints"))["data"]) == 1

    receiver.secrets.append(secret)
    await job(client)
    await hooks.settle()
    [first] = receiver.received
    assert first.verified_by == [secret]  # the secret the page showed signs the deliveries

    page = await client.get(f"/dispatch/webhooks/{endpoint['id']}")
    words = text_of(page.text)
    assert "job.created" in words and "Delivered" in words and first.id in words
    retry = re.search(r'action="(/dispatch/webhooks/[^"]+/retry)".*?name="formKey" value="([^"]+)"', page.text, re.S)
    assert retry is not None
    sent = await client.post(
        retry.group(1), data={"_csrf_token": csrf_token(page.text), "formKey": retry.group(2)}, follow_redirects=False
    )
    assert sent.status_code == 303
    await hooks.settle()
    assert [d.id for d in receiver.received] == [first.id, first.id]
    assert receiver.received[1].verified_by == [secret]
    after = await client.get(f"/dispatch/webhooks/{endpoint['id']}")
    assert "Sending the job.created event again now." in after.text


async def test_the_form_says_what_is_wrong(hooks: Hooks) -> None:
    client = hooks.client
    await log_in(client)
    page = await client.get("/dispatch/webhooks")
    base = {"_csrf_token": csrf_token(page.text), "formKey": form_key(page.text, "add")}
    no_url = await client.post("/dispatch/webhooks", data={**base, "events": "*"})
    assert no_url.status_code == 400 and "Enter the URL to send events to." in no_url.text
    no_events = await client.post("/dispatch/webhooks", data={**base, "url": "https://hooks.example.com/x"})
    assert no_events.status_code == 400 and "Choose at least one event." in no_events.text
    assert 'value="https://hooks.example.com/x"' in no_events.text  # what was typed stays
    assert (await get(client, "/v1/webhook-endpoints"))["data"] == []


async def test_turn_off_and_rotate_from_the_page(hooks: Hooks, receiver: Receiver) -> None:
    client = hooks.client
    endpoint = await hooks.endpoint(receiver, ["job.created"])
    await log_in(client)
    page = await client.get(f"/dispatch/webhooks/{endpoint['id']}")
    token = csrf_token(page.text)
    keys = re.findall(r'name="formKey" value="([^"]+)"', page.text)
    off = await client.post(
        f"/dispatch/webhooks/{endpoint['id']}/switch", data={"_csrf_token": token, "formKey": keys[0], "on": "0"}
    )
    assert off.status_code == 200 and "Turned off." in off.text
    assert (await get(client, f"/v1/webhook-endpoints/{endpoint['id']}"))["status"] == "disabled"

    rotated = await client.post(
        f"/dispatch/webhooks/{endpoint['id']}/rotate-secret", data={"_csrf_token": token, "formKey": keys[1]}
    )
    [secret] = SECRET.findall(rotated.text)
    assert secret != endpoint["secret"] and "24 hours" in rotated.text
    missing = await client.get("/dispatch/webhooks/we_nothing")
    assert missing.status_code == 404 and "webhook endpoint" in missing.text
