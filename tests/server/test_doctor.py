"""`flint doctor` (contract §2): clean on a store the server made, exit 1 naming what and where
on one broken by hand, exit 2 with a plain sentence on a file that is no store, and read-only
beside a running server."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE
from tests.helpers import cash, item, job, link, order, pay, post, usd
from tests.process import ServerProcess, doctor


async def a_busy_store(client: AsyncTestClient[Any]) -> dict[str, Any]:
    """A job with a paid deposit carried over to its work order, card and cash payments and a
    refund; and an order of its own."""
    the_job = await job(client)
    deposit = await post(
        client,
        "/v1/orders",
        {
            "lineItems": [item("Dispatch deposit", 7500)],
            "metadata": {"jobId": the_job["id"], "paymentStage": "dispatch_deposit"},
        },
    )
    assert (await pay(client, await link(client, deposit["id"]))).status_code == 200
    work = await order(client, the_job["id"], item("Compressor", 120000), item("Filter", 2500, kind="addon"))
    paid = await cash(client, work["id"], 20000)
    await post(client, "/v1/refunds", {"paymentId": paid["id"], "amountMoney": usd(5000), "reason": "goodwill"})
    declined = await link(client, work["id"], 1000)
    assert (await pay(client, declined, cardNumber="4000000000000002")).status_code == 402
    alone = await order(client, None, item("Inspection", 9900))
    await cash(client, alone["id"], 9900)
    return {"job": the_job, "deposit": deposit, "work": work, "payment": paid, "alone": alone}


async def test_a_store_the_server_made_is_clean(client: AsyncTestClient[Any], db_path: Path) -> None:
    made = await a_busy_store(client)
    shown = (await client.get(f"/v1/orders/{made['work']['id']}", headers=OFFICE)).json()
    assert any(line["kind"] == "deposit_applied" for line in shown["lineItems"])  # the check has work to do

    result = doctor(db_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: clean" in result.stdout
    assert "SQLite integrity check: ok" in result.stdout
    assert "checked 1 customers, 1 jobs, 3 orders, 4 charges, 4 payments, 1 refunds" in result.stdout


async def test_a_broken_money_identity_is_named(client: AsyncTestClient[Any], db_path: Path) -> None:
    made = await a_busy_store(client)
    alone, work, payment = made["alone"]["id"], made["work"]["id"], made["payment"]["id"]
    conn = sqlite3.connect(db_path)
    with conn:
        # The inspection, paid $99.00 in cash, now asks $90.00: it keeps $9.00 too much.
        conn.execute("UPDATE line_items SET unit_amount = 9000 WHERE order_id = ? AND name = 'Inspection'", (alone,))
        # A refund larger than its payment.
        conn.execute("UPDATE refunds SET amount = 25000 WHERE payment_id = ?", (payment,))
        # A deposit applied that the job's deposits do not give.
        conn.execute("UPDATE line_items SET unit_amount = 100 WHERE order_id = ? AND kind = 'deposit_applied'", (work,))
        # A payment whose order is gone.
        conn.execute("UPDATE payments SET order_id = 'ord_gone' WHERE order_id = ?", (alone,))
    conn.close()

    result = doctor(db_path)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert f"payment {payment}: $250.00 was refunded of $200.00" in out
    assert f"order {work}: more was refunded ($250.00) than paid ($200.00)" in out  # the order's sums moved too
    assert (
        f"order {work} (job {made['job']['id']}): shows $1.00 of deposit applied, but the job's money says $75.00"
        in out
    )
    assert f"order {work} (job {made['job']['id']}): keeps base" in out  # the kept figures no longer match
    assert "payment pay_" in out and "is for order ord_gone, which does not exist" in out
    assert "what to do:" in out
    assert "verdict:" in out and "problems" in out
    assert "Traceback" not in result.stderr


async def test_an_overpaid_order_says_by_how_much(client: AsyncTestClient[Any], db_path: Path) -> None:
    alone = await order(client, None, item("Inspection", 9900))
    await cash(client, alone["id"], 9900)
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE line_items SET unit_amount = 9000 WHERE order_id = ?", (alone["id"],))
    conn.close()
    result = doctor(db_path)
    assert result.returncode == 1
    assert f"- order {alone['id']}: holds $99.00 for $90.00 of work" in result.stdout
    assert "what to do: refund $9.00 or add the line item that is missing" in result.stdout


def test_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE things (a)").connection.close()
    for path, says in (
        (text, "is not an SQLite database"),
        (tmp_path / "missing.db", "does not exist"),
        (other, "it is not a Flint store"),
        (tmp_path, "is not a file"),
    ):
        result = doctor(path)
        assert result.returncode == 2, (path, result.stdout, result.stderr)
        assert says in result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "missing.db").exists()  # looking never creates a file


def test_doctor_reads_flint_db_by_default(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server.cli", "doctor"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "FLINT_DB": str(tmp_path / "nothing.db")},
    )
    assert result.returncode == 2 and "nothing.db does not exist" in result.stderr


def test_while_a_server_runs_and_writes(tmp_path: Path) -> None:
    key = "doctor-office-key-0123456789abcdefghij"
    office = {"Authorization": f"Bearer {key}"}
    env = {"FLINT_API_KEY": key, "TWILIO_ACCOUNT_SID": ""}
    with ServerProcess(tmp_path / "flint.db", env) as server, httpx.Client(base_url=server.url, headers=office) as api:
        customer = api.post("/v1/customers", json={"name": "Ana", "phone": "+15555550100", "kind": "residential"})
        the_job = api.post("/v1/jobs", json={"customerId": customer.json()["id"], "title": "Leak", "address": "1 Elm"})
        stop, written, failures = threading.Event(), [], []

        def office_work() -> None:
            while not stop.is_set():
                made = api.post(
                    "/v1/orders",
                    json={"lineItems": [item("Part", 1500)], "metadata": {"jobId": the_job.json()["id"]}},
                )
                if made.status_code != 201:
                    failures.append(made.status_code)
                    continue
                paid = api.post(
                    "/v1/payments", json={"orderId": made.json()["id"], "amountMoney": usd(1500), "method": "cash"}
                )
                (written if paid.status_code == 201 else failures).append(paid.status_code)

        worker = threading.Thread(target=office_work)
        worker.start()
        try:
            time.sleep(0.5)
            runs = [doctor(server.db_path) for _ in range(3)]
            before = len(written)
            time.sleep(0.5)
            assert len(written) > before  # the server went on writing while the doctor looked
        finally:
            stop.set()
            worker.join(timeout=30)
        assert failures == []
        for run in runs:
            assert run.returncode == 0, run.stdout + run.stderr
            assert "verdict: clean" in run.stdout
