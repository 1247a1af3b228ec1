"""Fail closed (contract §2): with no TWILIO_ACCOUNT_SID and outside `--demo`, the built-in
sandbox's pages and control routes need the office key, and the server says at start-up that
texts go nowhere. The sandbox's Messages API keeps its own credentials, which the server's own
sends use. With `--demo` it stays open."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from server.config import DEMO_API_KEY
from tests.process import ServerProcess
from tests.sms.conftest import wait_for, when

KEY = "closed-sandbox-office-key-0123456789abcdefghij"
PHONE = "+15555550199"
DEPOSIT = {"name": "Deposit", "quantity": 1, "unitPriceMoney": {"amount": 5000, "currency": "USD"}}
CONTROL = [
    ("GET", "/sandbox/messages", None),
    ("DELETE", "/sandbox/messages", None),
    ("POST", "/sandbox/faults", {"to": PHONE, "faults": [{"status": 500}]}),
    ("POST", "/sandbox/inbound", {"from": PHONE, "body": "STOP"}),
]


def serve(tmp_path: Path, *, demo: bool = False) -> ServerProcess:
    env = {"TWILIO_ACCOUNT_SID": "", "FLINT_API_KEY": "" if demo else KEY, "FLINT_SMS_RETRY_BASE": "0.05"}
    return ServerProcess(tmp_path / "flint.db", env, demo=demo)


def test_outside_the_demo_the_sandbox_needs_the_office_key(tmp_path: Path) -> None:
    with serve(tmp_path) as server, httpx.Client(base_url=server.url) as anyone:
        # Pages send a browser to the login form, and back after it.
        for method, path in (("GET", f"/sandbox/phone/{PHONE}"), ("POST", f"/sandbox/phone/{PHONE}/reply")):
            response = anyone.request(method, path, data={"Body": "STOP"} if method == "POST" else None)
            assert response.status_code == 303, (path, response.text)
            assert response.headers["location"] == f"/login?next=/sandbox/phone/%2B{PHONE[1:]}"
        # Control routes answer 401 as problem+json.
        for method, path, body in CONTROL:
            response = anyone.request(method, path, json=body)
            assert response.status_code == 401, (method, path)
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["code"] == "unauthorized"
            assert response.headers["www-authenticate"] == "Bearer"
        wrong = anyone.get("/sandbox/messages", headers={"Authorization": "Bearer not-the-key"})
        assert wrong.status_code == 401

        # Nothing reached the sandbox: no reply was taken, no fault planned.
        office = {"Authorization": f"Bearer {KEY}"}
        assert anyone.get("/sandbox/messages", headers=office).json() == []

        # The server's own sends still go through the sandbox's Messages API.
        customer = anyone.post(
            "/v1/customers", headers=office, json={"name": "Ana", "phone": PHONE, "kind": "residential"}
        ).json()
        made_job = anyone.post(
            "/v1/jobs", headers=office, json={"customerId": customer["id"], "title": "Leak", "address": "1 Elm"}
        ).json()
        made_link = anyone.post(
            "/v1/payment-links",
            headers=office,
            json={
                "name": "Deposit",
                "lineItems": [DEPOSIT],
                "metadata": {"jobId": made_job["id"]},
            },
        ).json()
        text = anyone.post(f"/v1/payment-links/{made_link['id']}/send-sms", headers=office).json()
        delivered = lambda: when(  # noqa: E731
            anyone.get(f"/v1/sms/{text['id']}", headers=office).json(), lambda m: m["status"] == "delivered"
        )
        wait_for(delivered)
        # With the key (a bearer header) the control routes and the phone answer.
        sent = anyone.get("/sandbox/messages", params={"to": PHONE}, headers=office).json()
        assert [m["to"] for m in sent] == [PHONE]
        assert anyone.get(f"/sandbox/phone/{PHONE}", headers=office).status_code == 200

    output = server.output()
    assert "texts go nowhere but the built-in Twilio sandbox" in output
    assert re.search(r"WARNING.*flint.*no TWILIO_ACCOUNT_SID: texts go nowhere", output), output


def test_a_browser_logged_in_reads_the_phone_and_replies(tmp_path: Path) -> None:
    with serve(tmp_path) as server, httpx.Client(base_url=server.url, follow_redirects=True) as browser:
        login = browser.get(f"/login?next=/sandbox/phone/%2B{PHONE[1:]}")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
        assert token
        logged_in = browser.post(
            "/login", data={"key": KEY, "next": f"/sandbox/phone/{PHONE}", "_csrf_token": token.group(1)}
        )
        assert logged_in.status_code == 200  # followed back to the phone
        assert f"Sandbox phone · {PHONE}" in logged_in.text
        # The page (it shows live pay links) carries the pages' headers, its form a CSRF token.
        assert logged_in.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
        assert "unsafe-inline" not in logged_in.headers["content-security-policy"]
        assert "<style" not in logged_in.text and 'style="' not in logged_in.text
        assert logged_in.headers["x-frame-options"] == "DENY"
        assert logged_in.headers["x-content-type-options"] == "nosniff"
        assert logged_in.headers["cache-control"] == "no-store"
        sheet = browser.get("/sandbox/phone.css")
        assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("text/css")
        form_token = re.search(r'name="_csrf_token" value="([^"]+)"', logged_in.text)
        assert form_token and form_token.group(1)

        # Without the token (a page elsewhere posting the form for the office's browser): 403.
        forged = browser.post(f"/sandbox/phone/{PHONE}/reply", data={"Body": "STOP"})
        assert forged.status_code == 403
        forged = browser.post(f"/sandbox/phone/{PHONE}/reply", data={"Body": "STOP", "_csrf_token": "x" * 128})
        assert forged.status_code == 403
        reply = browser.post(
            f"/sandbox/phone/{PHONE}/reply", data={"Body": "hello", "_csrf_token": form_token.group(1)}
        )
        assert reply.status_code == 200 and "hello" in reply.text and ">STOP<" not in reply.text
        assert browser.get("/sandbox/messages").status_code == 200
        # A change through the control routes takes the bearer key: the session alone only reads.
        assert browser.post("/sandbox/inbound", json={"from": PHONE, "body": "STOP"}).status_code == 401
        assert browser.delete("/sandbox/messages").status_code == 401


def test_the_demo_keeps_the_sandbox_open(tmp_path: Path) -> None:
    with serve(tmp_path, demo=True) as server, httpx.Client(base_url=server.url) as anyone:
        assert anyone.get(f"/sandbox/phone/{PHONE}").status_code == 200
        assert anyone.get("/sandbox/messages").status_code == 200
        assert anyone.post("/sandbox/inbound", json={"from": PHONE, "body": "hi"}).status_code == 204
        assert DEMO_API_KEY in server.output()
    assert "texts go nowhere" not in server.output()
