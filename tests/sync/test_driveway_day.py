"""A technician's day in the driveway, scripted with the `flint device` commands a phone runs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.sms.conftest import Texting, wait_for
from tests.sync.office import enrol_with_job, flint_device


def test_the_driveway_day(texting: Texting, tmp_path: Path) -> None:
    setup = enrol_with_job(texting.api, phone="+15555550160", amount=8900)
    phone = tmp_path / "sam.db"

    def device(*args: str) -> str:
        result = flint_device(phone, *args)
        assert result.returncode == 0, (args, result.stderr)
        return result.stdout

    # Morning: enrol and sync.
    assert "1 job(s)" in device("enroll", "--server", texting.server.url, "--token", setup.token)
    assert "Pushed 0" in device("sync")
    [job] = json.loads(device("jobs", "--json"))
    assert (job["id"], job["payment"]["balanceMoney"]["amount"]) == (setup.job_id, 8900)

    # In the basement: no signal.
    texting.server.stop()
    device("status", setup.job_id, "on_site")
    device("add-on", setup.job_id, "--name", "Capacitor", "--price", "4500")
    device(
        "text-to-pay", setup.job_id, "--order", setup.order_id
    )  # the job's balance link needs the server's job collection
    shown = json.loads(device("show", setup.job_id, "--json"))
    assert (shown["status"], shown["payment"]["balanceMoney"]["amount"]) == ("on_site", 13400)

    failed = flint_device(phone, "sync")
    assert failed.returncode != 0
    assert "could not reach" in failed.stderr
    assert "3 change(s) wait in the outbox" in failed.stderr
    outbox = json.loads(device("outbox", "--json"))
    assert [o["name"] for o in outbox] == ["job.setStatus", "order.addLineItem", "textToPay.request"]
    assert all(o["status"] == "pending" for o in outbox)
    assert texting.texts_to(setup.customer_phone) == []

    # Back in the driveway: the signal returns.
    texting.restart_server()
    report = json.loads(device("sync", "--json"))
    assert (report["pushed"], report["applied"], report["pending"]) == (3, 3, 0)
    assert device("outbox").strip() == "The outbox is empty."
    assert "Pushed 0" in device("sync")  # nothing goes twice

    [text] = wait_for(lambda: texting.texts_to(setup.customer_phone), what="the customer's text")
    assert "$134.00" in text["body"] and "/pay/" in text["body"]
    truth = texting.api.get(f"/v1/jobs/{setup.job_id}").json()
    assert (truth["status"], truth["payment"]["balanceMoney"]["amount"]) == ("on_site", 13400)
    shown = json.loads(device("show", setup.job_id, "--json"))
    assert shown["payment"]["balanceMoney"] == truth["payment"]["balanceMoney"]
    messages = texting.api.get("/v1/sms", params={"jobId": setup.job_id}).json()["data"]
    assert len(messages) == 1
    texting.wait_status(messages[0]["id"], "delivered")
    assert len(texting.texts_to(setup.customer_phone)) == 1
