"""A server in the test's process whose built-in Twilio sandbox signs with a known token, so a
test can send the inbound texts a customer would (approval codes, `YES`)."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from server.config import Settings
from sms.signature import sign
from tests.conftest import OFFICE_KEY
from tests.helpers import customer, get, item, post

TWILIO_TOKEN = "approvals-twilio-token"
PUBLIC = "http://flint.test"
CUSTOMER_PHONE = "+15555550188"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    base = Settings.from_env(
        {
            "FLINT_API_KEY": OFFICE_KEY,
            "FLINT_DB": str(db_path),
            "FLINT_PUBLIC_URL": PUBLIC,
            "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        }
    )
    return replace(base, scheduler=False)


async def inbound(client: AsyncTestClient[Any], sender: str, body: str, sid: str | None = None) -> httpx.Response:
    """A text from `sender`, as Twilio posts it, signed."""
    url = PUBLIC + "/v1/webhooks/twilio/inbound"
    sid = sid or "SM" + uuid.uuid4().hex
    params = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body}
    response = await client.post(
        "/v1/webhooks/twilio/inbound", data=params, headers={"X-Twilio-Signature": sign(TWILIO_TOKEN, url, params)}
    )
    assert response.status_code == 200, response.text
    return response


def code_in(body: str) -> str:
    found = re.search(r"Reply ([0-9]{6}) to approve", body)
    assert found is not None, body
    return found.group(1)


def page_path(url: str) -> str:
    return url.removeprefix(PUBLIC)


async def texts(client: AsyncTestClient[Any], job_id: str) -> list[dict[str, Any]]:
    return list((await get(client, f"/v1/sms?jobId={job_id}&limit=200"))["data"])


async def work_job(
    client: AsyncTestClient[Any], phone: str = CUSTOMER_PHONE, **job: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A job with a $114.00 work order."""
    who = await customer(client, phone)
    made = await post(
        client, "/v1/jobs", {"customerId": who["id"], "title": "AC not cooling", "address": "412 Birch Lane", **job}
    )
    order = await post(
        client, "/v1/orders", {"lineItems": [item("Diagnostic", 11400)], "metadata": {"jobId": made["id"]}}
    )
    return made, order


def pending(name: str, amount: int, **extra: Any) -> dict[str, Any]:
    return item(name, amount, kind="addon", approval="required", **extra)
