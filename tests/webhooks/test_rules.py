"""The pure rules: secrets and signatures as Standard Webhooks 1.0 has them (checked against the
reference library), the retry schedule, and what an answer means."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta

import msgspec
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from server.webhooks import rules
from server.webhooks.rules import Attempt

NOW = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)


def test_a_secret_is_whsec_and_32_random_bytes() -> None:
    made = {rules.new_secret() for _ in range(50)}
    assert len(made) == 50
    for secret in made:
        assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:], validate=True)) == 32


def test_signatures_are_the_reference_librarys() -> None:
    old, new = rules.new_secret(), rules.new_secret()
    body = rules.body("payment.captured", "2026-05-01T14:00:00.000Z", msgspec.Raw(b'{"id":"pay_1"}'))
    assert body == b'{"type":"payment.captured","timestamp":"2026-05-01T14:00:00.000Z","data":{"id":"pay_1"}}'
    stamp = int(datetime.now(UTC).timestamp())
    assert rules.sign(new, "evt_1", stamp, body) == Webhook(new).sign(
        "evt_1", datetime.fromtimestamp(stamp, UTC), body.decode()
    )
    headers = rules.headers("evt_1", stamp, rules.signature_header([new, old], "evt_1", stamp, body))
    assert Webhook(old).verify(body, headers)["data"] == {"id": "pay_1"}
    assert Webhook(new).verify(body, headers)["type"] == "payment.captured"
    with pytest.raises(WebhookVerificationError):
        Webhook(rules.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):  # the body is what was signed, byte for byte
        Webhook(new).verify(body.replace(b"pay_1", b"pay_2"), headers)
    with pytest.raises(WebhookVerificationError):  # and so is the id
        Webhook(new).verify(body, {**headers, "webhook-id": "evt_2"})


def test_the_retry_schedule_spans_about_three_days() -> None:
    fixed = random.Random(7)
    waits = []
    at = NOW
    for attempts in range(1, rules.MAX_ATTEMPTS):
        nxt = rules.next_attempt(attempts, at, rng=fixed)
        assert nxt is not None
        waits.append(nxt - at)
        at = nxt
    assert rules.next_attempt(rules.MAX_ATTEMPTS, at) is None  # the tenth failure is final
    plan = [5, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400]
    for wait, seconds in zip(waits, plan, strict=True):
        assert timedelta(seconds=seconds) <= wait <= timedelta(seconds=seconds * (1 + rules.JITTER))
    assert timedelta(hours=75, minutes=35) <= at - NOW <= timedelta(hours=84)


def test_retry_after_is_honoured_up_to_a_day() -> None:
    none = random.Random(1)
    none.uniform = lambda a, b: 0.0  # type: ignore[method-assign]
    assert rules.next_attempt(1, NOW, 120, none) == NOW + timedelta(seconds=120)
    assert rules.next_attempt(3, NOW, 60, none) == NOW + timedelta(minutes=30)  # the schedule's wait is longer
    assert rules.next_attempt(1, NOW, 10**8, none) == NOW + timedelta(hours=24)
    assert rules.parse_retry_after("120") == 120
    assert rules.parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT") is None
    assert rules.parse_retry_after(None) is None


def test_what_an_answer_means() -> None:
    assert Attempt(status_code=200).delivered and Attempt(status_code=204).delivered
    assert Attempt(status_code=204).describe() is None
    for code in (301, 400, 404, 429, 500, 503):
        assert not Attempt(status_code=code).delivered and Attempt(status_code=code).describe() == f"HTTP {code}"
    assert Attempt(status_code=410).gone
    assert Attempt(error="no answer within 10 s").describe() == "no answer within 10 s"


def test_three_days_of_failures() -> None:
    assert not rules.failing_too_long(None, NOW)
    assert not rules.failing_too_long(NOW - timedelta(days=2, hours=23), NOW)
    assert rules.failing_too_long(NOW - timedelta(days=3), NOW)
