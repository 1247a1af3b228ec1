"""Webhooks (contract §5 v2): an inbound message is handled once per `MessageSid`, so a replayed
signed STOP never opts a customer out again after a START; callbacks held for sids no text of
ours ever got are purged by the scheduler after a week."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.config import Settings
from server.scheduler import PURGE_EARLY_CALLBACKS, Scheduler
from sms.signature import sign
from tests.conftest import OFFICE_KEY, FakeClock
from tests.sms.conftest import FROM, SID, TOKEN, Texting

PHONE = "+15555550142"


def inbound(texting: Texting, sid: str, body: str) -> httpx.Response:
    url = texting.server.url + "/v1/webhooks/twilio/inbound"
    params = {"AccountSid": SID, "MessageSid": sid, "SmsSid": sid, "From": PHONE, "To": FROM, "Body": body}
    return httpx.post(url, data=params, headers={"X-Twilio-Signature": sign(TOKEN, url, params)})


def test_a_replayed_stop_after_a_start_changes_nothing(texting: Texting) -> None:
    link = texting.link(phone=PHONE)
    stop, start = "SM" + "1" * 32, "SM" + "2" * 32

    first = inbound(texting, stop, "STOP")
    assert first.status_code == 200 and "<Response></Response>" in first.text
    assert texting.send(link["id"])["status"] == "blocked"

    assert inbound(texting, start, "START").status_code == 200
    replayed = inbound(texting, stop, "STOP")
    assert (replayed.status_code, replayed.text) == (first.status_code, first.text)
    texting.wait_status(texting.send(link["id"])["id"], "delivered")  # still opted in

    # A replayed START after a fresh STOP does not opt back in either.
    assert inbound(texting, "SM" + "3" * 32, "stop").status_code == 200
    assert inbound(texting, start, "START").status_code == 200
    assert texting.send(link["id"])["status"] == "blocked"


async def test_early_callbacks_are_purged_after_a_week(tmp_path: Path, clock: FakeClock) -> None:
    env = {
        "FLINT_API_KEY": OFFICE_KEY,
        "FLINT_DB": str(tmp_path / "flint.db"),
        "FLINT_PUBLIC_URL": "http://flint.test",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": FROM,
    }
    settings = replace(Settings.from_env(env), scheduler=False)
    async with AsyncTestClient(create_app(settings, clock)) as client:

        async def callback(sid: str) -> Any:
            url = "http://flint.test/v1/webhooks/twilio/status"
            params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": SID}
            response = await client.post(
                "/v1/webhooks/twilio/status", data=params, headers={"X-Twilio-Signature": sign(TOKEN, url, params)}
            )
            assert response.status_code == 204

        await callback("SM" + "a" * 32)  # no text of ours has this sid: held
        clock.advance(days=6, hours=23)
        await callback("SM" + "b" * 32)
        clock.advance(hours=2)  # the first is now older than a week, the second is not

        scheduler = Scheduler(client.app.state["web"].db)
        scheduler.start()
        try:
            await scheduler.run_now(PURGE_EARLY_CALLBACKS)
        finally:
            scheduler.shutdown()

    conn = sqlite3.connect(tmp_path / "flint.db")
    held = [row[0] for row in conn.execute("SELECT sid FROM sms_early_callbacks")]
    conn.close()
    assert held == ["SM" + "b" * 32]


async def test_an_inbound_text_without_a_message_sid_is_400(tmp_path: Path, clock: FakeClock) -> None:
    """Contract §5 (v3): handled once per MessageSid, so a signed text without one (which a
    replay could apply again) is refused, and changes nothing."""
    env = {
        "FLINT_API_KEY": OFFICE_KEY,
        "FLINT_DB": str(tmp_path / "flint.db"),
        "FLINT_PUBLIC_URL": "http://flint.test",
        "TWILIO_ACCOUNT_SID": SID,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_FROM_NUMBER": FROM,
    }
    settings = replace(Settings.from_env(env), scheduler=False)
    url = "http://flint.test/v1/webhooks/twilio/inbound"
    async with AsyncTestClient(create_app(settings, clock)) as client:

        async def inbound_text(**params: str) -> Any:
            params = {"AccountSid": SID, "From": PHONE, "To": FROM, "Body": "STOP", **params}
            signed = {"X-Twilio-Signature": sign(TOKEN, url, params)}
            return await client.post("/v1/webhooks/twilio/inbound", data=params, headers=signed)

        for params in ({}, {"MessageSid": ""}, {"MessageSid": "SM" + "x" * 100}):
            refused = await inbound_text(**params)
            assert refused.status_code == 400, params
            assert refused.json()["code"] == "invalid_request"
        unsigned = await client.post("/v1/webhooks/twilio/inbound", data={"From": PHONE, "Body": "STOP"})
        assert unsigned.status_code == 403  # the signature is checked first, as ever

    conn = sqlite3.connect(tmp_path / "flint.db")
    opted_out = conn.execute("SELECT count(*) FROM sms_opt_outs").fetchone()[0]
    conn.close()
    assert opted_out == 0
