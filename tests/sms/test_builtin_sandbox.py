"""With no TWILIO_ACCOUNT_SID, the server texts through its own sandbox, as `make run` does."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from server.config import DEMO_API_KEY
from tests.process import ServerProcess
from tests.sms.conftest import wait_for, when


def reply_from_the_phone(url: str, number: str, body: str) -> httpx.Response:
    """As a browser does: open the phone, send its reply form with the form's CSRF token."""
    with httpx.Client(base_url=url) as browser:
        page = browser.get(f"/sandbox/phone/{number}")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert token, page.text
        return browser.post(f"/sandbox/phone/{number}/reply", data={"Body": body, "_csrf_token": token.group(1)})


def test_the_demo_texts_a_working_link_to_the_sandbox_phone(tmp_path: Path) -> None:
    env = {"TWILIO_ACCOUNT_SID": "", "FLINT_SMS_RETRY_BASE": "0.05"}
    with (
        ServerProcess(tmp_path / "demo.db", env, demo=True) as server,
        httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {DEMO_API_KEY}"}) as api,
    ):
        orders = api.get("/v1/orders").json()["data"]
        order = next(o for o in orders if o["balanceMoney"]["amount"] > 0)  # the demo's deposit is paid
        customer = api.get(f"/v1/customers/{order['customerId']}").json()
        link = api.post("/v1/payment-links", json={"name": "Dispatch deposit", "orderId": order["id"]}).json()
        message = api.post(f"/v1/payment-links/{link['id']}/send-sms").json()
        wait_for(lambda: when(api.get(f"/v1/sms/{message['id']}").json(), lambda m: m["status"] == "delivered"))

        phone = httpx.get(f"{server.url}/sandbox/phone/{customer['phone']}")
        assert phone.status_code == 200
        hrefs = re.findall(r'<a href="([^"]+)"', phone.text)
        assert link["url"] in hrefs  # beside the demo's request to approve added work
        assert [href for href in hrefs if "/approvals/" not in href] == [link["url"]]
        assert all(httpx.get(href).status_code == 200 for href in hrefs)

        # The customer replies STOP from the sandbox phone; the next text is blocked.
        reply = reply_from_the_phone(server.url, customer["phone"], "STOP")
        assert reply.status_code == 303
        blocked = api.post(f"/v1/payment-links/{link['id']}/send-sms").json()
        assert (blocked["status"], blocked["errorCode"]) == ("blocked", 21610)


def test_a_restarted_demo_still_shows_its_texts_and_opt_outs(tmp_path: Path) -> None:
    """The built-in sandbox keeps what it took beside the store, as Twilio keeps its message log:
    after `make run` is stopped and started again, the phones show the same texts."""
    env = {"TWILIO_ACCOUNT_SID": "", "FLINT_SMS_RETRY_BASE": "0.05"}
    oakridge = "+15555550102"  # the demo's invoice texts go here
    with ServerProcess(tmp_path / "demo.db", env, demo=True) as server:
        before = wait_for(
            lambda: when(
                httpx.get(f"{server.url}/sandbox/messages").json(),
                lambda texts: len(texts) >= 2 and all(m["status"] == "delivered" for m in texts),
            ),
            what="the demo's texts delivered",
        )
        reply = reply_from_the_phone(server.url, oakridge, "STOP")
        assert reply.status_code == 303
        links_before = re.findall(r'<a href="([^"]+)"', httpx.get(f"{server.url}/sandbox/phone/{oakridge}").text)
        assert links_before
    assert (tmp_path / "demo.db.sandbox-twilio").exists()

    with ServerProcess(tmp_path / "demo.db", env, demo=True) as server:
        after = httpx.get(f"{server.url}/sandbox/messages").json()
        assert [(m["sid"], m["status"]) for m in after[: len(before)]] == [(m["sid"], m["status"]) for m in before]
        assert any(m["direction"] == "inbound" and m["body"] == "STOP" for m in after)
        page = httpx.get(f"{server.url}/sandbox/phone/{oakridge}").text
        assert re.findall(r'<a href="([^"]+)"', page) == links_before
        assert "This number has opted out of texts." in page
