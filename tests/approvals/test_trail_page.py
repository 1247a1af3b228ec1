"""The dispatch trail page shows estimates and approvals with their evidence, the orders' lines
awaiting approval marked and counted in no figure, and each estimate and approval event in
words; `flint doctor` checks the evidence and finds half an approval."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from tests.approvals.conftest import CUSTOMER_PHONE, code_in, inbound, pending, texts, work_job
from tests.dispatch.conftest import log_in
from tests.dispatch.test_trail_page import text_of
from tests.estimates.conftest import approve_form, page_path, sent
from tests.helpers import get, post
from tests.process import doctor


async def test_the_trail_page_shows_estimates_and_approvals_with_their_evidence(client: AsyncTestClient[Any]) -> None:
    job, order = await work_job(client)
    estimate = await sent(client, job["id"], deposit={"percentage": 10})
    assert (await client.get(page_path(estimate))).status_code == 200
    done = await client.post(
        page_path(estimate), data=approve_form(estimate, 0, 1, deposit=16350), headers={"User-Agent": "Pixel 8"}
    )
    assert done.status_code == 200
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("Condensate pump", 18500)]}, 200)
    request = await post(client, f"/v1/orders/{order['id']}/approval-requests", None)
    await post(client, f"/v1/orders/{order['id']}/line-items", {"lineItems": [pending("UV lamp", 24000)]}, 200)
    [text] = [t for t in await texts(client, job["id"]) if t["id"] == request["smsId"]]
    await inbound(client, CUSTOMER_PHONE, code_in(text["body"]))
    approved = await get(client, f"/v1/estimates/{estimate['id']}")
    await log_in(client)

    page = await client.get(f"/dispatch/jobs/{job['id']}")
    assert page.status_code == 200
    words = text_of(page.text)
    # The estimate and its approval, with the evidence.
    assert "#1 Water heater replacement Approved" in words
    assert "Signed by Maria Alvarez" in words and "Pixel 8" in words
    assert approved["approval"]["contentHash"] in words and approved["approval"]["paymentId"] in words
    assert "Deposit $163.50" in words
    # The added work: approved by code, and a line still awaiting approval, marked and counted in nothing.
    assert "Reply from +15555550188" in words and "sms_code" in words
    assert 'class="line not-counted"' in page.text and "Awaiting approval" in words
    assert "counted in no total until approved" in words
    assert "Total $1,934.00" in words  # $114.00 + $1,635.00 + the approved $185.00; the lamp waits
    # The trail in words.
    for said in ("Estimate #1 sent", "Estimate #1 opened by the customer", "Estimate #1 approved",
                 "Added work put to the customer: $185.00", "Added work approved: $185.00",
                 "Approved by replying the code", "Waits for the customer's approval"):  # fmt: skip
        assert said in words, said
    assert f'href="{estimate["url"]}"' in page.text  # the sandbox: the office opens what the customer saw


async def test_doctor_checks_the_evidence(client: AsyncTestClient[Any], db_path: Path) -> None:
    job, _ = await work_job(client)
    estimate = await sent(client, job["id"], deposit={"percentage": 10})
    assert (await client.post(page_path(estimate), data=approve_form(estimate, 0, deposit=14500))).status_code == 200
    assert doctor(db_path).returncode == 0

    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("UPDATE approvals SET content = replace(content, '145000', '14500')")
    conn.close()
    checked = doctor(db_path)
    assert checked.returncode == 1 and "no longer hashes to the contentHash it recorded" in checked.stdout

    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("DELETE FROM approvals")
    conn.close()
    checked = doctor(db_path)
    assert "is approved with no approval" in checked.stdout
    assert "captured a deposit on estimate" in checked.stdout
