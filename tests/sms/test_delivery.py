"""Text-to-pay against the Twilio sandbox, over real HTTP, with real signatures."""

from __future__ import annotations

import time

import httpx

from sms.bodies import segments
from sms.signature import sign
from tests.sms.conftest import FROM, TOKEN, Texting


def test_the_delivered_path_end_to_end(texting: Texting) -> None:
    link = texting.link("+15555550123")
    queued = texting.send(link["id"])
    assert queued["id"].startswith("sms_")
    assert (queued["status"], queued["to"], queued["paymentLinkId"]) == ("queued", "+15555550123", link["id"])
    assert queued["providerSid"] is None and queued["errorCode"] is None

    delivered = texting.wait_status(queued["id"], "delivered")
    [text] = texting.texts_to("+15555550123")
    assert delivered["providerSid"] == text["sid"]
    assert delivered["attempts"] == 1
    assert text["from"] == FROM
    assert text["body"] == queued["body"]
    body = text["body"]
    assert "Flint Field Services" in body and "$75.00" in body and link["url"] in body
    assert segments(body) <= 2

    trail = texting.trail(link["jobId"])
    sms_events = [t for t in trail if t.startswith("sms.")]
    assert sms_events == ["sms.queued", "sms.sent", "sms.delivered"]
    listed = texting.api.get("/v1/sms", params={"jobId": link["jobId"]}).json()["data"]
    assert [m["id"] for m in listed] == [queued["id"]]
    assert texting.api.get("/v1/sms", params={"orderId": link["orderId"]}).json()["data"][0]["status"] == "delivered"


def test_to_defaults_to_the_customer_and_can_be_given(texting: Texting) -> None:
    link = texting.link("+15555550124")
    other = texting.send(link["id"], to="+15555550125")
    texting.wait_status(other["id"], "delivered")
    assert len(texting.texts_to("+15555550125")) == 1
    assert texting.texts_to("+15555550124") == []


def test_a_bad_or_missing_signature_is_403_and_changes_nothing(texting: Texting) -> None:
    link = texting.link("+15555550126")
    message = texting.wait_status(texting.send(link["id"])["id"], "delivered")
    url = texting.server.url + "/v1/webhooks/twilio/status"
    params = {
        "MessageSid": message["providerSid"],
        "MessageStatus": "failed",
        "ErrorCode": "30008",
        "AccountSid": "AC",
    }
    for headers in (
        {},
        {"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        {"X-Twilio-Signature": sign("wrong", url, params)},
    ):
        response = httpx.post(url, data=params, headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
    # Signed for another URL: still refused.
    elsewhere = sign(TOKEN, "http://attacker.example/v1/webhooks/twilio/status", params)
    assert httpx.post(url, data=params, headers={"X-Twilio-Signature": elsewhere}).status_code == 403
    assert texting.message(message["id"])["status"] == "delivered"

    inbound = texting.server.url + "/v1/webhooks/twilio/inbound"
    stop = {"From": "+15555550126", "To": FROM, "Body": "STOP", "MessageSid": "SMx"}
    assert httpx.post(inbound, data=stop, headers={"X-Twilio-Signature": "nope"}).status_code == 403
    texting.age(message["id"])
    again = texting.send(link["id"])
    assert again["status"] == "queued"  # not opted out


def test_a_status_never_moves_back_and_a_repeat_changes_nothing(texting: Texting) -> None:
    link = texting.link("+15555550127")
    message = texting.wait_status(texting.send(link["id"])["id"], "delivered")
    events_before = texting.trail(link["jobId"])
    url = texting.server.url + "/v1/webhooks/twilio/status"
    for status in ("sent", "queued", "delivered", "delivered"):
        params = {
            "MessageSid": message["providerSid"],
            "MessageStatus": status,
            "To": "+15555550127",
            "From": FROM,
        }
        response = httpx.post(url, data=params, headers={"X-Twilio-Signature": sign(TOKEN, url, params)})
        assert response.status_code == 204
    after = texting.message(message["id"])
    assert after["status"] == "delivered"
    assert after["updatedAt"] == message["updatedAt"]
    assert texting.trail(link["jobId"]) == events_before


def test_500_then_429_then_success_sends_exactly_one_message(texting: Texting) -> None:
    texting.fault("+15555550128", {"status": 500}, {"status": 429})
    link = texting.link("+15555550128")
    message = texting.wait_status(texting.send(link["id"])["id"], "delivered")
    assert message["attempts"] == 3
    assert len(texting.texts_to("+15555550128")) == 1


def test_five_failed_attempts_and_the_text_fails(texting: Texting) -> None:
    texting.fault("+15555550129", *[{"status": 503}] * 6)
    link = texting.link("+15555550129")
    message = texting.wait_status(texting.send(link["id"])["id"], "failed")
    assert message["attempts"] == 5
    time.sleep(0.5)
    assert texting.message(message["id"])["attempts"] == 5
    assert texting.texts_to("+15555550129") == []
    assert "sms.failed" in texting.trail(link["jobId"])


def test_21211_fails_after_one_request(texting: Texting) -> None:
    link = texting.link("+15555550130")
    message = texting.send(link["id"], to="+15005550001")
    failed = texting.wait_status(message["id"], "failed")
    assert (failed["errorCode"], failed["attempts"]) == (21211, 1)
    time.sleep(0.5)
    assert texting.message(message["id"])["attempts"] == 1
    assert "sms.failed" in texting.trail(link["jobId"])


def test_21610_from_twilio_opts_the_number_out(texting: Texting) -> None:
    link = texting.link("+15555550131")
    failed = texting.wait_status(texting.send(link["id"], to="+15005550004")["id"], "failed")
    assert failed["errorCode"] == 21610
    blocked = texting.send(link["id"], to="+15005550004")
    assert (blocked["status"], blocked["errorCode"]) == ("blocked", 21610)


def test_stop_blocks_the_next_text_and_start_re_enables(texting: Texting) -> None:
    number = "+15555550132"
    link = texting.link(number)
    texting.wait_status(texting.send(link["id"])["id"], "delivered")

    texting.customer_texts(number, "stop")
    blocked = texting.send(link["id"])
    assert (blocked["status"], blocked["errorCode"]) == ("blocked", 21610)
    assert "sms.blocked" in texting.trail(link["jobId"])
    time.sleep(0.3)
    assert len(texting.texts_to(number)) == 1

    texting.customer_texts(number, " Start ")
    resumed = texting.send(link["id"])
    assert resumed["status"] == "queued"
    texting.wait_status(resumed["id"], "delivered")
    assert len(texting.texts_to(number)) == 2


def test_send_sms_needs_an_active_link_and_a_recipient(texting: Texting) -> None:
    link = texting.link("+15555550133")
    texting.api.post(f"/v1/payment-links/{link['id']}/cancel")
    response = texting.api.post(f"/v1/payment-links/{link['id']}/send-sms")
    assert response.status_code == 422
    assert response.json()["code"] == "link_not_active"
    order = texting.api.post(
        "/v1/orders",
        json={"lineItems": [{"name": "x", "quantity": 1, "unitPriceMoney": {"amount": 500, "currency": "USD"}}]},
    ).json()
    no_customer = texting.api.post("/v1/payment-links", json={"name": "x", "orderId": order["id"]}).json()
    response = texting.api.post(f"/v1/payment-links/{no_customer['id']}/send-sms")
    assert response.status_code == 422
    assert response.json()["code"] == "no_recipient"
    bad = texting.api.post(f"/v1/payment-links/{no_customer['id']}/send-sms", json={"to": "555"})
    assert bad.status_code == 400
