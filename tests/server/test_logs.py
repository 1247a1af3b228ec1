"""No secret in a log line (contract §1): a real `flint serve`'s whole output (uvicorn's access
log, the server's own lines) after a customer pays, a device syncs and the office logs in
holds no pay or invoice token, no device token and not the office key."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from server.logs import Redact, redact
from tests.process import ServerProcess

KEY = "office-key-that-must-not-be-logged"


def big_chunks() -> Iterator[bytes]:
    for _ in range(12):
        yield b"cardNumber=" + b"4" * 100_000 + b"&"


def test_a_real_servers_output_holds_no_secret(tmp_path: Path) -> None:
    office = {"Authorization": f"Bearer {KEY}"}
    env = {"FLINT_API_KEY": KEY, "TWILIO_ACCOUNT_SID": "", "FLINT_SMS_RETRY_BASE": "0.05"}
    env["FLINT_WEBHOOK_ALLOW_PRIVATE"] = "1"
    with ServerProcess(tmp_path / "flint.db", env) as server, httpx.Client(base_url=server.url) as http:
        customer = http.post(
            "/v1/customers", headers=office, json={"name": "Ana", "phone": "+15555550123", "kind": "residential"}
        ).json()
        job = http.post(
            "/v1/jobs", headers=office, json={"customerId": customer["id"], "title": "Leak", "address": "1 Elm"}
        ).json()
        item = {"name": "Repair", "quantity": 1, "unitPriceMoney": {"amount": 20000, "currency": "USD"}}
        order = http.post("/v1/orders", headers=office, json={"lineItems": [item], "metadata": {"jobId": job["id"]}})
        link = http.post(
            "/v1/payment-links", headers=office, json={"name": "Repair", "orderId": order.json()["id"]}
        ).json()
        token = link["url"].rsplit("/pay/", 1)[1]
        assert http.post(f"/v1/payment-links/{link['id']}/send-sms", headers=office).status_code == 202

        # A webhook endpoint nobody answers at, its secret rotated: every event fails to reach it.
        hook = http.post(
            "/v1/webhook-endpoints", headers=office, json={"url": "http://127.0.0.1:9/hooks", "events": ["*"]}
        ).json()
        rotated = http.post(f"/v1/webhook-endpoints/{hook['id']}/rotate-secret", headers=office).json()
        hook_secrets = [hook["secret"], rotated["secret"]]

        # The customer opens the page, mistypes, is declined, pays; and some odd addresses.
        card = {"cardNumber": "4242424242424242", "expMonth": "12", "expYear": "2034", "cvc": "123"}
        card["postalCode"] = "94110"
        assert http.get(f"/pay/{token}").status_code == 200
        assert http.post(f"/pay/{token}", data={**card, "cardNumber": "1234"}).status_code == 400
        assert http.post(f"/pay/{token}", data={**card, "cardNumber": "4000000000000002"}).status_code == 402
        assert http.post(f"/pay/{token}", data=card).status_code == 200
        assert http.get(f"/pay/{token}/extra?x=1").status_code == 404
        invoice_token = "inv" + uuid.uuid4().hex
        assert http.get(f"/invoices/{invoice_token}").status_code == 404
        # A card link texted and its page used: its token is the customer's credential too.
        card_link = http.post(f"/v1/customers/{customer['id']}/card-links", headers=office, json={}).json()
        card_token = card_link["url"].rsplit("/cards/", 1)[1]
        assert http.post(f"/v1/card-links/{card_link['id']}/send-sms", headers=office).status_code == 202
        assert http.post(f"/cards/{card_token}", data=card).status_code == 200
        # A body too large, sent in chunks with no length announced: refused as it arrives.
        too_large = http.post(
            f"/pay/{token}", content=big_chunks(), headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert too_large.status_code == 413 and "too much to send" in too_large.text

        # A technician's device enrols and syncs; the office logs in through the form.
        tech = http.post("/v1/technicians", headers=office, json={"name": "Sam"}).json()
        device = http.post(f"/v1/technicians/{tech['id']}/devices", headers=office, json={}).json()
        device_token = device["token"]
        pull = http.post(
            "/v1/sync/pull",
            headers={"Authorization": f"Bearer {device_token}"},
            json={"clientId": str(uuid.uuid4()), "schemaVersion": 1, "cursor": None},
        )
        assert pull.status_code == 200
        login = http.get("/login")
        csrf = re.search(r'name="_csrf_token" value="([^"]+)"', login.text)
        assert csrf
        assert http.post("/login", data={"key": KEY, "_csrf_token": csrf.group(1)}).status_code == 303

    output = server.output()
    assert '"GET /pay/… HTTP/1.1" 200' in output  # the access log is there, cleaned
    assert '"POST /pay/… HTTP/1.1" 402' in output
    assert "/invoices/…" in output and '"POST /cards/… HTTP/1.1" 200' in output
    assert "could not connect" in output  # the failed deliveries are logged, without their signatures
    for secret in (token, invoice_token, card_token, device_token, KEY, *hook_secrets, *(s[6:] for s in hook_secrets)):
        assert secret not in output, secret


def test_redact_keeps_what_is_not_a_secret() -> None:
    line = '127.0.0.1:5 - "GET /pay/AbC-_9?x=1 HTTP/1.1" 200; /v1/invoices/inv_1/publish; /invoices/t0k; fdt_abc123xyz'
    assert redact(line, ["office-key-1"]) == (
        '127.0.0.1:5 - "GET /pay/…?x=1 HTTP/1.1" 200; /v1/invoices/inv_1/publish; /invoices/…; fdt_…'
    )
    assert redact("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw+/5= for we_1") == "secret whsec_… for we_1"
    pages = '"POST /estimates/Xk2v9QmB/decline" /estimates/Xk2v9QmB/quote?optionId=opt_1; /approvals/Qz7mK2pL'
    assert redact(pages) == '"POST /estimates/…/decline" /estimates/…/quote?optionId=opt_1; /approvals/…'
    kept = "/v1/estimates/est_1/send; /v1/orders/ord_1/approval-requests; /v1/approval-requests/apr_1"
    assert redact(kept) == kept
    assert redact("the key office-key-1 and short", ["office-key-1", "short"]) == "the key … and short"


def test_the_filter_cleans_arguments_and_tracebacks() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "%s %s %d", ("GET", "/pay/tok123", 5), None)
    try:
        raise RuntimeError("failed at /invoices/secret-token")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert Redact().filter(record)
    assert record.getMessage() == "GET /pay/… 5"
    assert record.exc_text and "secret-token" not in record.exc_text and "/invoices/…" in record.exc_text
