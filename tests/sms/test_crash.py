"""A send that may have reached Twilio but was not recorded is reconciled, never blindly resent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sms.conftest import Texting, wait_for, when


def _waiting(tmp_path: Path, seconds: str) -> Iterator[Texting]:
    pair = Texting(tmp_path, FLINT_TWILIO_TIMEOUT=seconds).start()
    try:
        yield pair
    finally:
        pair.close()


@pytest.fixture
def patient(tmp_path: Path) -> Iterator[Texting]:
    """A server that waits a long time for Twilio's answer, so a test can kill it mid-send."""
    yield from _waiting(tmp_path, "30")


@pytest.fixture
def hasty(tmp_path: Path) -> Iterator[Texting]:
    """A server that gives up on Twilio's answer after half a second."""
    yield from _waiting(tmp_path, "0.5")


def test_killed_after_twilio_took_the_text_does_not_text_twice(patient: Texting) -> None:
    number = "+15555550140"
    patient.fault(number, {"hold": 20, "record": True})
    link = patient.link(number)
    message = patient.send(link["id"])
    wait_for(lambda: patient.texts_to(number), what="the sandbox to take the text")
    assert patient.message(message["id"])["status"] == "sending"

    patient.server.kill()
    patient.restart_server()

    settled = patient.wait_status(message["id"], "delivered")
    [text] = patient.texts_to(number)
    assert settled["providerSid"] == text["sid"]
    assert settled["attempts"] == 1
    time.sleep(0.5)
    assert len(patient.texts_to(number)) == 1


def test_killed_before_twilio_took_the_text_sends_it_once(patient: Texting) -> None:
    number = "+15555550141"
    patient.fault(number, {"hold": 20, "record": False})
    link = patient.link(number)
    message = patient.send(link["id"])
    wait_for(lambda: when(patient.message(message["id"]), lambda m: m["status"] == "sending"), what="the claim")
    time.sleep(0.3)  # the request is at the sandbox, which holds it without taking the text
    assert patient.texts_to(number) == []

    patient.server.kill()
    patient.restart_server()

    settled = patient.wait_status(message["id"], "delivered")
    assert settled["attempts"] == 2
    [text] = patient.texts_to(number)
    assert settled["providerSid"] == text["sid"]


def test_no_answer_in_time_is_in_doubt_and_found_at_twilio(hasty: Texting) -> None:
    number = "+15555550142"
    hasty.fault(number, {"hold": 1.5, "record": True})
    link = hasty.link(number)
    settled = hasty.wait_status(hasty.send(link["id"])["id"], "delivered")
    assert settled["attempts"] == 1
    time.sleep(1.5)
    assert len(hasty.texts_to(number)) == 1


def test_no_answer_in_time_and_not_at_twilio_is_sent_again(hasty: Texting) -> None:
    number = "+15555550143"
    hasty.fault(number, {"hold": 1.5, "record": False})
    link = hasty.link(number)
    settled = hasty.wait_status(hasty.send(link["id"])["id"], "delivered")
    assert settled["attempts"] == 2
    time.sleep(1.5)
    assert len(hasty.texts_to(number)) == 1
