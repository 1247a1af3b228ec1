"""A send that may have reached Twilio but was not recorded is reconciled, never blindly resent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.process import doctor
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
def texting_pair(tmp_path: Path) -> Iterator[Texting]:
    yield from _waiting(tmp_path, "2")


@pytest.fixture
def hasty(tmp_path: Path) -> Iterator[Texting]:
    """A server that gives up on Twilio's answer after half a second."""
    yield from _waiting(tmp_path, "0.5")


def test_killed_after_twilio_took_the_text_does_not_text_twice(patient: Texting) -> None:
    """Twilio took the text, but neither its answer nor its callbacks reached the server."""
    number = "+15555550140"
    patient.fault(number, {"hold": 20, "record": True, "callbacks": False})
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
    checked = doctor(patient.server.db_path)  # nothing stuck in sending, nothing pointing nowhere
    assert checked.returncode == 0, checked.stdout


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
    checked = doctor(patient.server.db_path)
    assert checked.returncode == 0, checked.stdout


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


def test_two_texts_of_one_link_never_share_a_sid(hasty: Texting) -> None:
    """Both texts of one link have the same body. The second's send goes unanswered and never
    reached Twilio: looking for it must not find the first text, so it is sent, not stuck."""
    number = "+15555550144"
    link = hasty.link(number)
    first = hasty.wait_status(hasty.send(link["id"])["id"], "delivered")
    hasty.age(first["id"])
    hasty.fault(number, {"hold": 1.5, "record": False})
    second = hasty.wait_status(hasty.send(link["id"])["id"], "delivered")
    assert second["providerSid"] != first["providerSid"]
    assert second["attempts"] == 2
    texts = hasty.texts_to(number)
    assert len(texts) == 2 and texts[0]["body"] == texts[1]["body"]
    assert {t["sid"] for t in texts} == {first["providerSid"], second["providerSid"]}


def test_a_callback_names_its_text_when_the_answer_was_lost(patient: Texting) -> None:
    """The send carries the message's id in its status callback URL, so Twilio's callbacks
    record the sid before anyone has to look for it."""
    number = "+15555550145"
    link = patient.link(number)
    first = patient.wait_status(patient.send(link["id"])["id"], "delivered")
    patient.age(first["id"])
    patient.fault(number, {"hold": 20, "record": True})
    second = patient.wait_status(patient.send(link["id"])["id"], "delivered")
    texts = patient.texts_to(number)
    assert len(texts) == 2
    assert second["providerSid"] == texts[-1]["sid"] != first["providerSid"]
    assert second["attempts"] == 1


def test_a_signed_callback_with_a_strange_error_code_is_taken(texting_pair: Texting) -> None:
    from sms.signature import sign
    from tests.sms.conftest import TOKEN

    link = texting_pair.link("+15555550146")
    message = texting_pair.wait_status(texting_pair.send(link["id"])["id"], "delivered")
    url = texting_pair.server.url + "/v1/webhooks/twilio/status"
    for code in ("²", "٣٠٠٠٨", "9" * 40, "-1"):
        params = {"MessageSid": message["providerSid"], "MessageStatus": "undelivered", "ErrorCode": code}
        response = httpx.post(url, data=params, headers={"X-Twilio-Signature": sign(TOKEN, url, params)})
        assert response.status_code == 204, response.text
    garbage = b"MessageSid=\xff\xfe&MessageStatus=sent"
    response = httpx.post(url, content=garbage, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code in (400, 403)
