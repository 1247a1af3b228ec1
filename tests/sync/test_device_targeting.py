"""Which order a command is about (contract §7 v2): add-ons go on the job's one open order that
is not a deposit order, or the one `--order` names; collection is by job unless `--order` says
otherwise. Checked by the mutation each command queues."""

from __future__ import annotations

from typing import Any

from tests.sync.conftest import Offline
from tests.sync.devices import device_cli


def queued(offline: Offline, *args: str) -> dict[str, Any]:
    ran = device_cli(offline.db, *args, "--json")
    assert ran.code == 0, ran
    item: dict[str, Any] = ran.json()
    return item


def test_an_add_on_goes_on_the_open_order_that_is_not_a_deposit_order(offline: Offline) -> None:
    jobs, orders = offline.field.jobs, offline.field.orders
    first = queued(offline, "add-on", jobs["deposit"], "--name", "Capacitor", "--price", "4500")
    assert first["args"]["orderId"] == orders["repair"]
    # The parts deposit is the newest open order of this job: it still takes no add-ons.
    second = queued(offline, "add-on", jobs["late"], "--name", "Thermostat", "--price", "12000")
    assert second["args"]["orderId"] == orders["work"]
    named = queued(offline, "add-on", jobs["two"], "--name", "Filter", "--price", "1250", "--order", orders["second"])
    assert (named["args"]["orderId"], named["args"]["kind"]) == (orders["second"], "addon")


def test_several_open_orders_are_refused_with_the_candidates(offline: Offline) -> None:
    jobs, orders = offline.field.jobs, offline.field.orders
    several = device_cli(offline.db, "add-on", jobs["two"], "--name", "Filter", "--price", "1250")
    assert several.code == 2
    assert "has 2 open orders; say which with --order" in several.err
    assert f"{orders['first']}  Diagnostic visit  balance $89.00" in several.err
    assert f"{orders['second']}  Duct cleaning  balance $40.00" in several.err
    as_json = device_cli(offline.db, "add-on", jobs["two"], "--name", "Filter", "--price", "1250", "--json")
    assert as_json.json()["candidates"] == [
        {"id": orders["first"], "name": "Diagnostic visit", "balanceMoney": {"amount": 8900, "currency": "USD"}},
        {"id": orders["second"], "name": "Duct cleaning", "balanceMoney": {"amount": 4000, "currency": "USD"}},
    ]
    deposit = device_cli(offline.db, "add-on", jobs["late"], "--name", "X", "--price", "1", "--order", orders["parts"])
    assert deposit.code == 2 and "is a deposit order" in deposit.err and orders["work"] in deposit.err
    elsewhere = device_cli(offline.db, "add-on", jobs["two"], "--name", "X", "--price", "1", "--order", orders["plain"])
    assert elsewhere.code == 2 and f"has no order '{orders['plain']}'" in elsewhere.err
    assert device_cli(offline.db, "outbox", "--json").json() == []


def test_a_job_with_only_a_deposit_takes_the_add_on_by_job(offline: Offline) -> None:
    """The driveway never stops (contract §7 v3): the add-on goes by job, shown on the work order
    the server makes when it syncs."""
    jobs = offline.field.jobs
    made = queued(offline, "add-on", jobs["upfront"], "--name", "Filter", "--price", "1250")
    assert made["args"]["jobId"] == jobs["upfront"] and made["args"].get("orderId") is None
    shown = device_cli(offline.db, "show", jobs["upfront"], "--json").json()
    work = [o for o in shown["orders"] if o["id"] == "new work order"]
    assert len(work) == 1 and [line["name"] for line in work[0]["lineItems"]] == ["Filter"]


def test_text_to_pay_is_for_the_jobs_balance_unless_an_order_is_named(offline: Offline) -> None:
    jobs, orders = offline.field.jobs, offline.field.orders
    whole = queued(offline, "text-to-pay", jobs["deposit"])
    assert (whole["name"], set(whole["args"])) == ("textToPay.request", {"uid", "jobId"})
    assert whole["args"]["jobId"] == jobs["deposit"]
    part = queued(offline, "text-to-pay", jobs["deposit"], "--amount", "5000", "--to", "+15555550199")
    assert part["args"]["amountMoney"] == {"amount": 5000, "currency": "USD"} and part["args"]["to"] == "+15555550199"
    one = queued(offline, "text-to-pay", jobs["two"], "--order", orders["second"])
    assert set(one["args"]) == {"uid", "orderId"} and one["args"]["orderId"] == orders["second"]
    text = device_cli(offline.db, "text-to-pay", jobs["deposit"]).out
    assert f"for the balance of job {jobs['deposit']} (now $1,125.00" in text


def test_a_payment_is_on_the_job_oldest_order_first_unless_an_order_is_named(offline: Offline) -> None:
    jobs, orders = offline.field.jobs, offline.field.orders
    whole = queued(
        offline, "record-payment", jobs["two"], "--amount", "10000", "--method", "check", "--reference", "1043"
    )
    assert set(whole["args"]) == {"uid", "jobId", "amountMoney", "method", "reference"}
    shown = device_cli(offline.db, "show", jobs["two"], "--json").json()
    assert [o["balanceMoney"]["amount"] for o in shown["orders"]] == [0, 2900]  # the oldest is paid first
    deposit = queued(
        offline, "record-payment", jobs["late"], "--amount", "5000", "--method", "cash", "--order", orders["parts"]
    )
    assert deposit["args"]["orderId"] == orders["parts"] and "jobId" not in deposit["args"]
