"""Dispatch in a real browser: log in and out, the board following a device and a customer
without a reload, a job's trail after a payment and a partial refund, and a form without its
CSRF token refused. The screenshots in docs/screenshots/ are made here (`make screenshots`)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from server.clock import format_time
from tests.browser import SCREENSHOTS, desktop_browser, phone_browser, save_page, tap, wait_for_text
from tests.helpers import item, usd
from tests.pages.test_pay_page_browser import fits_the_phone
from tests.process import ServerProcess

KEY = "dispatch-browser-key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {KEY}"}
CARD = {"cardNumber": "4242 4242 4242 4242", "expMonth": "12", "expYear": "2034", "cvc": "123", "postalCode": "94110"}


def wait_until(check: Callable[[], Any], what: str, timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Shop:
    """A running server with a technician's enrolled phone and a job with two orders."""

    server: ServerProcess
    api: httpx.Client
    technician: dict[str, Any]
    token: str
    job: dict[str, Any]
    deposit: dict[str, Any]
    work: dict[str, Any]

    def push(self, *mutations: dict[str, Any]) -> dict[str, Any]:
        body = {"clientId": f"browser-{uuid.uuid4()}", "schemaVersion": 1, "mutations": list(mutations)}
        response = httpx.post(
            f"{self.server.url}/v1/sync/push", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    env = {"FLINT_API_KEY": KEY, "TWILIO_ACCOUNT_SID": "", "FLINT_SMS_RETRY_BASE": "0.05"}
    with (
        ServerProcess(tmp_path / "flint.db", env) as server,
        httpx.Client(base_url=server.url, headers=OFFICE) as api,
    ):
        sam = api.post("/v1/technicians", json={"name": "Sam Ortiz", "phone": "+15555550201"}).json()
        priya = api.post("/v1/technicians", json={"name": "Priya Nair"}).json()
        device = api.post(f"/v1/technicians/{sam['id']}/devices", json={"label": "Sam's phone"}).json()
        maria = api.post(
            "/v1/customers", json={"name": "Maria Alvarez", "phone": "+15555550101", "kind": "residential"}
        ).json()
        chen = api.post("/v1/customers", json={"name": "David Chen", "phone": "+15555550103", "kind": "residential"})
        job = api.post(
            "/v1/jobs",
            json={
                "customerId": maria["id"],
                "title": "AC not cooling",
                "address": "412 Birch Lane, Springfield",
                "technicianId": sam["id"],
                "scheduledAt": "2030-05-01T16:00:00Z",
            },
        ).json()
        other = api.post(
            "/v1/jobs",
            json={
                "customerId": chen.json()["id"],
                "title": "Kitchen drain clog",
                "address": "17 Maple Street, Springfield",
                "technicianId": priya["id"],
                "scheduledAt": "2030-05-01T19:00:00Z",
            },
        ).json()
        deposit = api.post(
            "/v1/orders",
            json={
                "lineItems": [item("Dispatch deposit", 7500, kind="deposit")],
                "metadata": {"jobId": job["id"], "paymentStage": "dispatch_deposit"},
            },
        ).json()
        work = api.post(
            "/v1/orders",
            json={
                "lineItems": [item("Diagnostic visit", 8900), item("Trip charge", 2500, kind="travel")],
                "metadata": {"jobId": job["id"], "paymentStage": "onsite"},
            },
        ).json()
        api.post("/v1/orders", json={"lineItems": [item("Drain clearing", 14500)], "metadata": {"jobId": other["id"]}})
        yield Shop(server, api, sam, device["token"], job, deposit, work)


def log_in(browser: WebDriver, url: str, key: str = KEY) -> None:
    browser.find_element(By.NAME, "key").send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()


def read(browser: WebDriver, selector: str) -> str:
    """An element's text, read in one step: the live board may swap it out at any moment."""
    text = browser.execute_script("const e = document.querySelector(arguments[0]); return e && e.innerText", selector)
    return str(text or "").strip()


def cell(browser: WebDriver, job_id: str, column: str) -> str:
    return read(browser, f"#job-{job_id} .{column}")


def test_log_in_and_out(shop: Shop) -> None:
    url = shop.server.url
    with desktop_browser() as browser:
        browser.get(f"{url}/dispatch/jobs/{shop.job['id']}")
        wait_for_text(browser, "Log in to dispatch")
        assert browser.current_url == f"{url}/login?next=/dispatch/jobs/{shop.job['id']}"
        assert browser.title == "Log in · Flint Dispatch"
        assert browser.switch_to.active_element.get_attribute("id") == "key"  # ready to type

        log_in(browser, url, "not-the-key")
        wait_for_text(browser, "That is not the office key.")
        assert browser.find_element(By.ID, "key").get_attribute("aria-invalid") == "true"

        log_in(browser, url)
        wait_for_text(browser, "Payment trail")
        assert browser.current_url == f"{url}/dispatch/jobs/{shop.job['id']}"  # back where it was going
        cookies = {c["name"]: c for c in browser.get_cookies()}
        session = cookies["flint_session"]
        assert (session["httpOnly"], session["sameSite"], session["secure"]) == (True, "Lax", False)
        assert cookies["flint_csrf"]["httpOnly"] is True
        assert browser.execute_script("return document.cookie") == ""  # no script can read either

        browser.find_element(By.CSS_SELECTOR, ".logout button").click()
        wait_for_text(browser, "You are logged out.")
        after = {c["name"]: c["value"] for c in browser.get_cookies()}
        assert after.get("flint_session") in (None, "null")
        browser.get(f"{url}/dispatch")
        wait_for_text(browser, "Log in to dispatch")


def test_the_board_follows_a_device_and_a_customer_without_a_reload(shop: Shop) -> None:
    url, job_id = shop.server.url, shop.job["id"]
    with desktop_browser() as browser:
        browser.get(f"{url}/dispatch")
        log_in(browser, url)
        wait_for_text(browser, "Technicians")
        wait_until(lambda: read(browser, "#live") == "Live", "the live stream")
        browser.execute_script("window.sameDocument = 'yes'")  # gone if the page reloads
        assert cell(browser, job_id, "status") == "Scheduled"
        assert cell(browser, job_id, "balance") == "$114.00"  # the unpaid deposit is part of the work, not on top
        assert "Never synced" in read(browser, f"#tech-{shop.technician['id']}")

        # The technician's phone says they are on site.
        shop.push(
            {
                "id": 1,
                "name": "job.setStatus",
                "args": {"jobId": job_id, "status": "on_site"},
                "clientAt": "2030-05-01T15:58:00Z",
            }
        )
        wait_until(lambda: cell(browser, job_id, "status") == "On site", "the status on the board")
        assert "Status: On site" in cell(browser, job_id, "last")
        assert "Synced just now" in read(browser, f"#tech-{shop.technician['id']}")

        # The customer pays the deposit on their phone.
        link = shop.api.post(
            "/v1/payment-links", json={"name": "Dispatch deposit", "orderId": shop.deposit["id"]}
        ).json()
        with phone_browser(javascript=False) as phone:
            phone.get(link["url"])
            wait_for_text(phone, "Amount due now")
            fits_the_phone(phone)
            save_page(phone, SCREENSHOTS / "pay-page-phone.png")
            for name, value in CARD.items():
                phone.find_element(By.NAME, name).send_keys(value)
            tap(phone, "button[type=submit]")
            wait_for_text(phone, "Paid $75.00")
        wait_until(lambda: cell(browser, job_id, "paid") == "$75.00", "the payment on the board")
        assert cell(browser, job_id, "balance") == "$39.00"  # the paid deposit is applied to the work order
        assert cell(browser, job_id, "last").startswith("Card payment $75.00")  # not the receipt text that follows
        assert browser.execute_script("return window.sameDocument") == "yes"
        # Row by row: the rows of the jobs events named, never the board again (contract §6, v3).
        fetched = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
        paths = [httpx.URL(name).path for name in fetched if "/dispatch/" in name]
        assert "/dispatch/board/rows" in paths and "/dispatch/board/technicians" in paths, paths
        assert "/dispatch/board" not in paths, paths
        save_page(browser, SCREENSHOTS / "dispatch-board.png")

        # Filters are a plain form; the filtered board keeps following the stream.
        Select(browser.find_element(By.ID, "f-technician")).select_by_visible_text("Sam Ortiz")
        browser.find_element(By.CSS_SELECTOR, ".filters button").click()
        wait_until(lambda: "technician=" in browser.current_url, "the filtered board")
        rows = browser.find_elements(By.CSS_SELECTOR, "table.jobs tbody tr")
        assert [r.get_attribute("id") for r in rows] == [f"job-{job_id}"]

    with phone_browser(javascript=True) as phone:
        phone.get(f"{url}/dispatch")
        log_in(phone, url)
        wait_for_text(phone, "Kitchen drain clog")
        fits_the_phone(phone)
        save_page(phone, SCREENSHOTS / "dispatch-board-phone.png")


def test_the_trail_after_a_payment_and_a_partial_refund(shop: Shop) -> None:
    url, job_id = shop.server.url, shop.job["id"]
    link = shop.api.post("/v1/payment-links", json={"name": "Deposit and visit", "orderId": shop.work["id"]}).json()
    shop.api.post(f"/v1/payment-links/{link['id']}/send-sms")
    assert httpx.post(link["url"], data=CARD).status_code == 200
    noted = datetime.now(UTC) - timedelta(seconds=40)  # the phone's clock runs a little behind
    shop.push(
        {"id": 1, "name": "job.setStatus", "args": {"jobId": job_id, "status": "en_route"},
         "clientAt": format_time(noted - timedelta(seconds=30))},
        {"id": 2, "name": "job.setStatus", "args": {"jobId": job_id, "status": "completed"},
         "clientAt": format_time(noted - timedelta(seconds=20))},
        {"id": 3, "name": "job.addNote", "args": {"uid": str(uuid.uuid4()), "jobId": job_id,
         "text": "Replaced the capacitor."}, "clientAt": format_time(noted)},
        {"id": 4, "name": "job.setStatus", "args": {"jobId": job_id, "status": "on_site"},
         "clientAt": format_time(noted + timedelta(seconds=5))},
    )  # fmt: skip

    with desktop_browser() as browser:
        browser.get(f"{url}/dispatch/jobs/{job_id}")
        log_in(browser, url)
        wait_for_text(browser, "Payment trail")
        trail = browser.find_element(By.CSS_SELECTOR, ".trail").text
        assert trail.count("Card payment $114.00") == 1
        assert "Visa •••• 4242" in trail
        assert "Device change refused: job.setStatus" in trail
        note = read(browser, ".timeline li[data-type='job.note_added']")
        assert f"device: {noted:%H:%M:%S}" in note or f"device: {noted:%b} {noted.day}" in note
        assert "“Replaced the capacitor.”" in note

        # Refund part of the card payment.
        Select(browser.find_element(By.ID, "refund-payment")).select_by_index(0)
        browser.find_element(By.ID, "refund-amount").send_keys("25")
        browser.find_element(By.ID, "refund-reason").send_keys("Arrived late")
        browser.find_element(By.CSS_SELECTOR, "#refund button[type=submit]").click()
        wait_for_text(browser, "Refunded $25.00.")
        assert browser.find_element(By.ID, "job-refunded").text == "$25.00"
        # The work owes $25.00 again; the unpaid deposit asks part of it, never more (contract §3 v3).
        assert browser.find_element(By.ID, "job-balance").text == "$25.00"
        refund = browser.find_elements(By.CSS_SELECTOR, ".timeline li[data-type='refund.created']")
        assert len(refund) == 1
        assert "Refund $25.00" in refund[0].text and "Reason: Arrived late" in refund[0].text
        # Each order with its lines, beside the timeline (contract §6 v3).
        orders = read(browser, f"#order-{shop.work['id']}")
        assert "Diagnostic visit" in orders and "Trip charge" in orders and "Due" in orders
        assert "Dispatch deposit" in read(browser, f"#order-{shop.deposit['id']}")
        # A text is one event whose state follows it, not queued, sent and delivered apart.
        wait_until(
            lambda: browser.refresh() or "Delivered" in read(browser, ".timeline li[data-type='sms.queued']"),
            "the text's state on its one event",
        )
        for later in ("sms.sent", "sms.delivered"):
            assert browser.find_elements(By.CSS_SELECTOR, f".timeline li[data-type='{later}']") == []
        text = browser.find_element(By.CSS_SELECTOR, ".timeline li[data-type='sms.queued']")
        phone_page = text.find_element(By.PARTIAL_LINK_TEXT, "Open the customer's phone")
        assert phone_page.get_attribute("href") == f"{url}/sandbox/phone/+15555550101"
        save_page(browser, SCREENSHOTS / "dispatch-trail.png")

        # A form whose CSRF token was taken out is refused; the same form with it is accepted.
        browser.execute_script("document.querySelector('#cash input[name=_csrf_token]').remove()")
        browser.find_element(By.ID, "cash-amount").send_keys("10")
        browser.find_element(By.CSS_SELECTOR, "#cash button[type=submit]").click()
        wait_for_text(browser, "That form was not sent")
        assert browser.title == "Not sent · Flint Dispatch"
        browser.get(f"{url}/dispatch/jobs/{job_id}")
        browser.find_element(By.ID, "cash-amount").send_keys("10")
        browser.find_element(By.CSS_SELECTOR, "#cash button[type=submit]").click()
        wait_for_text(browser, "Recorded $10.00 in cash.")

    payments = shop.api.get("/v1/payments", params={"orderId": shop.deposit["id"]}).json()["data"]
    assert [(p["amountMoney"], p["method"]) for p in payments] == [(usd(1000), "cash")]

    with phone_browser(javascript=False) as phone:
        phone.get(f"{url}/dispatch/jobs/{job_id}")
        wait_for_text(phone, "Log in to dispatch")
        phone.find_element(By.NAME, "key").send_keys(KEY)
        tap(phone, "main form button[type=submit]")
        wait_for_text(phone, "Payment trail")
        fits_the_phone(phone)
