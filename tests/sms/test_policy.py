from __future__ import annotations

import random

import pytest

from server.messages import rules
from sms import policy
from sms.bodies import payment_request, segments
from sms.client import classify
from sms.signature import is_valid, sign


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, "retry"), (500, "retry"), (503, "retry"), (400, "rejected"), (404, "rejected"), (401, "rejected")],
)
def test_what_an_answer_means(status: int, kind: str) -> None:
    assert classify(status, None) == kind


def test_backoff_grows_and_jitters_within_bounds() -> None:
    rng = random.Random(7)
    for attempt in range(1, 6):
        step = 2.0 * 2 ** (attempt - 1)
        delays = [rules.backoff(attempt, 2.0, rng=rng) for _ in range(200)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len(set(delays)) > 100
    assert rules.backoff(30, 2.0, cap=300, rng=rng) <= 300


def test_statuses_only_move_forward() -> None:
    assert rules.moves_forward("queued", "sending")
    assert rules.moves_forward("sending", "delivered")
    assert not rules.moves_forward("delivered", "sent")
    assert not rules.moves_forward("delivered", "delivered")
    assert not rules.moves_forward("failed", "delivered")
    assert not rules.moves_forward("blocked", "sent")
    assert not rules.moves_forward("sent", "bogus")


@pytest.mark.parametrize(("body", "word"), [
    ("STOP", "opt_out"), (" stop ", "opt_out"), ("Unsubscribe", "opt_out"), ("quit", "opt_out"),
    ("END", "opt_out"), ("STOPALL", "opt_out"), ("cancel", "opt_out"), ("START", "opt_in"),
    ("unstop", "opt_in"), ("Yes", "opt_in"), ("please stop", None), ("stopped", None), ("", None),
    ("thanks!", None),
])  # fmt: skip
def test_keywords(body: str, word: str | None) -> None:
    assert policy.keyword(body) == word


def test_bodies_fit_two_segments_and_say_who_what_how_much() -> None:
    url = "https://pay.example.com/pay/" + "x" * 32
    short = payment_request("Flint Field Services", "Dispatch deposit", "$75.00", url)
    assert short == f"Flint Field Services: Dispatch deposit, $75.00. Pay securely: {url}"
    assert segments(short) == 1
    long = payment_request(
        "Oakridge Heating & Cooling of Springfield", "Quarterly boiler service " * 20, "$1,234.56", url
    )
    assert segments(long) <= 2
    assert long.endswith(url) and "$1,234.56" in long and long.startswith("Oakridge Heating")
    fancy = payment_request("Nair’s Plumbing", "Drain — kitchen 🚰", "$145.00", url)
    assert segments(fancy) <= 2
    assert "Nair's Plumbing" in fancy


def test_segments_count_like_a_carrier() -> None:
    assert segments("a" * 160) == 1
    assert segments("a" * 161) == 2
    assert segments("a" * 306) == 2
    assert segments("€" * 80) == 1
    assert segments("é" * 160) == 1
    assert segments("ş" * 70) == 1
    assert segments("ş" * 71) == 2


def test_signatures_round_trip_with_twilios_validator() -> None:
    url = "https://flint.example/v1/webhooks/twilio/status"
    params = {"MessageSid": "SM1", "MessageStatus": "delivered"}
    signature = sign("token", url, params)
    assert is_valid("token", url, params, signature)
    assert not is_valid("token", url, {**params, "MessageStatus": "failed"}, signature)
    assert not is_valid("other", url, params, signature)
    assert not is_valid("token", url, params, None)
