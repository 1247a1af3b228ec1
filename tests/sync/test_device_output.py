"""What the device prints: `--json` in the API's camelCase names with arrays and money objects,
text in the job's currency, no traceback when the reader stops reading, the exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

from tests.sync.conftest import Offline
from tests.sync.devices import device_cli

CAMEL = re.compile(r"[a-z][a-zA-Z0-9]*")


def keys_everywhere(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in keys_everywhere(v)}
    if isinstance(data, list):
        return {k for v in data for k in keys_everywhere(v)}
    return set()


def money_objects(data: Any) -> list[Any]:
    if isinstance(data, dict):
        found = [v for k, v in data.items() if k.endswith("Money")]
        return found + [m for v in data.values() for m in money_objects(v)]
    if isinstance(data, list):
        return [m for v in data for m in money_objects(v)]
    return []


def test_json_speaks_the_apis_names(offline: Offline) -> None:
    jobs, orders = offline.field.jobs, offline.field.orders
    assert device_cli(offline.db, "add-on", jobs["deposit"], "--name", "Capacitor", "--price", "4500").code == 0
    listed = device_cli(offline.db, "jobs", "--json").json()
    assert isinstance(listed, list) and [j["id"] for j in listed] == list(jobs.values())
    shown = device_cli(offline.db, "show", jobs["deposit"], "--json").json()
    assert shown == next(j for j in listed if j["id"] == jobs["deposit"])
    assert set(shown) == {
        "id",
        "title",
        "address",
        "status",
        "scheduledAt",
        "customerId",
        "customer",
        "payment",
        "orders",
        "notes",
        "pending",
    }
    assert shown["payment"] == {
        "totalMoney": {"amount": 7500 + 124500 - 7500, "currency": "USD"},
        "paidMoney": {"amount": 7500, "currency": "USD"},
        "refundedMoney": {"amount": 0, "currency": "USD"},
        "balanceMoney": {"amount": 117000, "currency": "USD"},
        "depositUnappliedMoney": {"amount": 0, "currency": "USD"},
    }
    deposit, repair = shown["orders"]
    assert (deposit["id"], deposit["paymentStage"], repair["id"]) == (
        orders["deposit"],
        "dispatch_deposit",
        orders["repair"],
    )
    assert [(x["name"], x["kind"], x["totalMoney"]["amount"], x["pending"]) for x in repair["lineItems"]] == [
        ("Compressor repair", "service", 120000, False),
        ("Capacitor", "addon", 4500, True),
        ("Deposit applied", "deposit_applied", 7500, False),
    ]
    assert repair["lineItems"][1]["unitPriceMoney"] == {"amount": 4500, "currency": "USD"}
    everything = [
        listed,
        device_cli(offline.db, "outbox", "--json").json(),
        device_cli(offline.db, "sync", "--json").json(),
    ]
    assert all(CAMEL.fullmatch(k) for k in keys_everywhere(everything)), keys_everywhere(everything)
    assert all(set(m) == {"amount", "currency"} for m in money_objects(everything))


def test_text_says_money_in_the_jobs_currency(offline: Offline) -> None:
    job = offline.field.jobs["euro"]
    assert "€100.00" in device_cli(offline.db, "jobs").out
    added = device_cli(offline.db, "add-on", job, "--name", "Filter", "--price", "4500")
    assert "at €45.00 x 1" in added.out and "total as shown: €145.00" in added.out
    texted = device_cli(offline.db, "text-to-pay", job, "--amount", "2000")
    assert "a text-to-pay for €20.00" in texted.out
    paid = device_cli(offline.db, "record-payment", job, "--amount", "2000", "--method", "cash")
    assert "a cash payment of €20.00" in paid.out and "Job balance as shown: €125.00" in paid.out
    too_much = device_cli(offline.db, "record-payment", job, "--amount", "12501", "--method", "cash")
    assert too_much.code == 2 and "€125.01" in too_much.err and "(€125.00)" in too_much.err
    sheet = device_cli(offline.db, "show", job).out
    assert "€145.00" in sheet and "$" not in sheet
    assert "€45.00 x 1" in device_cli(offline.db, "outbox").out


def test_output_to_a_reader_that_stopped_reading_is_no_traceback(offline: Offline) -> None:
    job = offline.field.jobs["deposit"]
    for args in (["jobs"], ["jobs", "--json"], ["show", job], ["outbox"], ["note", job, "gate code 4411"]):
        reader, writer = os.pipe()
        os.close(reader)  # like `| head -1` that has already quit
        try:
            ran = subprocess.run(
                [sys.executable, "-m", "server.cli", "device", *args, "--db", str(offline.db)],
                stdout=writer,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
            )
        finally:
            os.close(writer)
        assert ran.returncode == 0, (args, ran.stderr)
        assert ran.stderr == "", (args, ran.stderr)
    assert len(device_cli(offline.db, "outbox", "--json").json()) == 1  # the note was queued all the same


def test_exit_codes_say_done_could_not_sync_and_bad_input(offline: Offline) -> None:
    job = offline.field.jobs["plain"]
    assert device_cli(offline.db, "note", job, "gate code 4411").code == 0
    failed = device_cli(offline.db, "sync")
    assert failed.code == 1 and "sync failed: could not reach" in failed.err
    assert "1 change(s) wait in the outbox" in failed.err
    as_json = device_cli(offline.db, "sync", "--json")
    assert as_json.code == 1 and as_json.json()["pending"] == 1 and "could not reach" in as_json.json()["error"]
    assert device_cli(offline.db, "note", job, "").code == 2
    assert len(device_cli(offline.db, "outbox", "--json").json()) == 1
