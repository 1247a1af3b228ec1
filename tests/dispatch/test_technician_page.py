"""A technician's page enrols a phone by QR code: the code reads back as the app's link with the
new token in its fragment, the token works for sync, it is shown once however often the form is
sent, and a phone turned off there stops syncing."""

from __future__ import annotations

import html
import re
from typing import Any

from litestar.testing import AsyncTestClient

from tests.dispatch.conftest import form_key, log_in
from tests.dispatch.test_qr import read
from tests.dispatch.test_trail_page import text_of
from tests.helpers import get, post


def code_in(page: str) -> list[str]:
    """What a camera reads from the page's QR code."""
    svg = re.search(r"<svg class=\"qr\".*?</svg>", page, re.DOTALL)
    assert svg, "no QR code on the page"
    side = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg.group(0)).group(1))  # type: ignore[union-attr]
    modules = [[False] * (side - 8) for _ in range(side - 8)]
    for x, y, width in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\d+z", svg.group(0)):
        for dx in range(int(width)):
            modules[int(y) - 4][int(x) - 4 + dx] = True
    return read(modules)


async def pull(client: AsyncTestClient[Any], token: str) -> int:
    body = {"clientId": "page-test", "schemaVersion": 1, "cursor": None}
    response = await client.post("/v1/sync/pull", json=body, headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_enrol_a_phone_by_qr_code(client: AsyncTestClient[Any]) -> None:
    sam = await post(client, "/v1/technicians", {"name": "Sam Ortiz", "phone": "+15555550201"})
    csrf = await log_in(client)
    board = await client.get("/dispatch")
    assert f'href="/dispatch/technicians/{sam["id"]}"' in board.text

    page = await client.get(f"/dispatch/technicians/{sam['id']}")
    assert page.status_code == 200
    assert "No phones yet." in text_of(page.text)
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    key = form_key(page.text, "enrol")

    form = {"label": "Sam's Pixel", "formKey": key, "_csrf_token": csrf}
    enrolled = await client.post(f"/dispatch/technicians/{sam['id']}/devices", data=form)
    assert enrolled.status_code == 201
    token = html.unescape(re.search(r'id="device-token">([^<]+)<', enrolled.text).group(1))  # type: ignore[union-attr]
    assert code_in(enrolled.text) == [f"http://flint.test/tech#token={token}"]
    assert "Sam's Pixel" in html.unescape(enrolled.text)
    assert "<script>" not in enrolled.text and " style=" not in enrolled.text
    assert await pull(client, token) == 200

    # The same form again: one phone, and the token is not shown again.
    again = await client.post(f"/dispatch/technicians/{sam['id']}/devices", data=form, follow_redirects=False)
    assert again.status_code == 303
    shown = await client.get(f"/dispatch/technicians/{sam['id']}")
    assert "That phone was enrolled already; its code was shown then." in html.unescape(shown.text)
    assert token not in shown.text and "<svg" not in shown.text
    devices = await get(client, f"/v1/technicians/{sam['id']}/devices")
    assert [d["label"] for d in devices["data"]] == ["Sam's Pixel"]

    # Turned off from the page, the token stops working.
    device_id = devices["data"][0]["id"]
    off = await client.post(
        f"/dispatch/technicians/{sam['id']}/devices/{device_id}/off",
        data={"formKey": form_key(shown.text, f"device-{device_id}"), "_csrf_token": csrf},
        follow_redirects=False,
    )
    assert off.status_code == 303
    assert await pull(client, token) == 401
    after = await client.get(f"/dispatch/technicians/{sam['id']}")
    assert "Phone turned off: its token no longer works." in html.unescape(after.text)


async def test_the_page_refuses_what_it_cannot_do(client: AsyncTestClient[Any]) -> None:
    sam = await post(client, "/v1/technicians", {"name": "Sam Ortiz"})
    priya = await post(client, "/v1/technicians", {"name": "Priya Nair"})
    theirs = await post(client, f"/v1/technicians/{priya['id']}/devices", {"label": "Priya's phone"})
    csrf = await log_in(client)

    assert (await client.get("/dispatch/technicians/tech_nobody")).status_code == 404
    long_label = {"label": "x" * 201, "formKey": "k" * 16, "_csrf_token": csrf}
    refused = await client.post(f"/dispatch/technicians/{sam['id']}/devices", data=long_label)
    assert refused.status_code == 400 and "Keep it under 200 characters." in refused.text
    # Another technician's phone cannot be turned off from this page.
    other = await client.post(
        f"/dispatch/technicians/{sam['id']}/devices/{theirs['id']}/off",
        data={"formKey": "k" * 16, "_csrf_token": csrf},
    )
    assert other.status_code == 404
    assert await pull(client, theirs["token"]) == 200
    # Without the CSRF token nothing is enrolled.
    forged = await client.post(f"/dispatch/technicians/{sam['id']}/devices", data={"formKey": "k" * 16})
    assert forged.status_code == 403
    assert (await get(client, f"/v1/technicians/{sam['id']}/devices"))["data"] == []
    # Logged out, the page sends the browser to log in.
    client.cookies.clear()
    page = await client.get(f"/dispatch/technicians/{sam['id']}", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
