"""The office's browser session: the login form, the cookie's flags, logout, and CSRF on every
form, with the paths whose credential is something else left alone."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.config import Settings
from tests.conftest import OFFICE_KEY, FakeClock
from tests.dispatch.conftest import csrf_token, form_key, log_in
from tests.helpers import GOOD_CARD, item, job, link, order, pay_path
from tests.process import ServerProcess


async def test_pages_without_a_session_go_to_the_login_form(client: AsyncTestClient[Any]) -> None:
    made = await job(client)
    for path, back in (("/dispatch", "/dispatch"), (f"/dispatch/jobs/{made['id']}", f"/dispatch/jobs/{made['id']}")):
        response = await client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={back}"
    # What the board's script fetches answers 401 instead: a redirect is no use to it.
    for path in ("/dispatch/board", "/dispatch/events"):
        response = await client.get(path, follow_redirects=False)
        assert (response.status_code, response.json()["code"]) == (401, "unauthorized")
    form = (await client.get("/login?next=/dispatch/jobs/x")).text
    assert 'name="key"' in form and 'type="password"' in form
    assert '<label for="key">Office key</label>' in form
    assert 'name="next" value="/dispatch/jobs/x"' in form


async def test_log_in_with_the_office_key_then_out(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/login")
    token = csrf_token(page.text)
    wrong = await client.post("/login", data={"key": "guess", "_csrf_token": token})
    assert wrong.status_code == 401
    assert "That is not the office key." in wrong.text
    assert "flint_session" not in wrong.headers.get("set-cookie", "")

    right = await client.post(
        "/login",
        data={"key": OFFICE_KEY, "_csrf_token": token, "next": "/dispatch?status=on_site"},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert right.headers["location"] == "/dispatch?status=on_site"
    cookie = right.headers["set-cookie"]
    assert cookie.startswith("flint_session=")
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "samesite=lax", "path=/"} <= flags
    assert "secure" not in flags  # served over http here
    board = await client.get("/dispatch")
    assert board.status_code == 200 and "Log out" in board.text

    out = await client.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login?out=1")
    assert (await client.get("/dispatch", follow_redirects=False)).status_code == 303
    assert "You are logged out." in (await client.get("/login?out=1")).text


async def test_the_cookies_are_secure_when_served_over_https(settings: Settings, clock: FakeClock) -> None:
    https = replace(settings, public_url="https://pay.example.com")
    async with AsyncTestClient(create_app(https, clock), base_url="https://pay.example.com") as secure:
        page = await secure.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()  # the CSRF cookie
        answer = await secure.post(
            "/login", data={"key": OFFICE_KEY, "_csrf_token": csrf_token(page.text)}, follow_redirects=False
        )
        flags = {part.strip().lower() for part in answer.headers["set-cookie"].split(";")}
        assert {"secure", "httponly", "samesite=lax"} <= flags


async def test_a_login_never_keeps_a_session_id_it_did_not_make(client: AsyncTestClient[Any]) -> None:
    planted = "a" * 64  # say, set by a page on a sibling domain before the office logged in
    client.cookies.set("flint_session", planted, domain="testserver.local")
    await log_in(client)
    assert client.cookies.get("flint_session", domain="testserver.local") not in (None, planted)
    assert (await client.get("/dispatch")).status_code == 200


async def test_visitors_and_customer_pages_get_no_session(client: AsyncTestClient[Any]) -> None:
    assert "flint_session" not in (await client.get("/login")).headers.get("set-cookie", "")
    made = await link(client, (await order(client, None, item("Repair", 5000)))["id"])
    pay_page = await client.get(pay_path(made))
    assert pay_page.status_code == 200
    assert "set-cookie" not in pay_page.headers


async def test_a_form_without_its_csrf_token_is_refused(client: AsyncTestClient[Any]) -> None:
    made = await job(client)
    the_order = await order(client, made["id"], item("Repair", 5000))
    token = await log_in(client)
    page = (await client.get(f"/dispatch/jobs/{made['id']}")).text
    form = {"orderId": the_order["id"], "amount": "20.00", "method": "cash", "formKey": form_key(page, "cash")}
    path = f"/dispatch/jobs/{made['id']}/payments"

    refused = await client.post(path, data=form)
    assert refused.status_code == 403
    assert "That form was not sent" in refused.text
    forged = await client.post(path, data={**form, "_csrf_token": "0" * 128})
    assert forged.status_code == 403
    assert (
        await client.get(f"/v1/orders/{the_order['id']}", headers={"Authorization": f"Bearer {OFFICE_KEY}"})
    ).json()["paidMoney"]["amount"] == 0

    accepted = await client.post(path, data={**form, "_csrf_token": token}, follow_redirects=False)
    assert (accepted.status_code, accepted.headers["location"]) == (303, f"/dispatch/jobs/{made['id']}")
    # The login form and logout are forms too.
    assert (await client.post("/login", data={"key": OFFICE_KEY})).status_code == 403
    assert (await client.post("/logout")).status_code == 403


async def test_paths_with_their_own_credential_need_no_csrf_token(client: AsyncTestClient[Any]) -> None:
    made = await link(client, (await order(client, None, item("Repair", 5000)))["id"])
    assert (await client.post(pay_path(made), data=GOOD_CARD)).status_code == 200
    api = await client.post(
        "/v1/customers",
        json={"name": "Ann", "phone": "+15555550111", "kind": "residential"},
        headers={"Authorization": f"Bearer {OFFICE_KEY}"},
    )
    assert api.status_code == 201


async def test_next_only_leads_back_into_this_site(client: AsyncTestClient[Any]) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example"):
        page = await client.get("/login", params={"next": target})
        answer = await client.post(
            "/login",
            data={"key": OFFICE_KEY, "_csrf_token": csrf_token(page.text), "next": target},
            follow_redirects=False,
        )
        assert answer.headers["location"] == "/dispatch"
        await client.post("/logout", data={"_csrf_token": csrf_token(page.text)})


def test_a_session_survives_a_restart_of_the_server(tmp_path: Path) -> None:
    """Contract §6 v3: the sessions live in the store, so a restart logs nobody out; logging
    out still ends the session for good."""
    env = {"FLINT_API_KEY": OFFICE_KEY, "TWILIO_ACCOUNT_SID": ""}
    server = ServerProcess(tmp_path / "flint.db", env).start()
    try:
        browser = httpx.Client(base_url=server.url)
        token = csrf_token(browser.get("/login").text)
        logged_in = browser.post("/login", data={"key": OFFICE_KEY, "_csrf_token": token}, follow_redirects=True)
        assert logged_in.status_code == 200 and "Technicians" in logged_in.text
        server.stop()
        server = ServerProcess(tmp_path / "flint.db", env, port=server.port).start()
        board = browser.get("/dispatch", follow_redirects=False)
        assert board.status_code == 200 and "Technicians" in board.text
        page = browser.get("/dispatch")
        browser.post("/logout", data={"_csrf_token": csrf_token(page.text)})
        assert browser.get("/dispatch", follow_redirects=False).status_code == 303
        browser.close()
    finally:
        server.stop()
