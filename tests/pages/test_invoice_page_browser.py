"""The hosted invoice page in a real browser with scripts off: an accounts-payable team pays the
deposit, prints the invoice (the document alone, no form), and pays the balance on a phone.
`docs/screenshots/invoice-page.png` is made here (`make screenshots`)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from selenium.webdriver.common.by import By

from tests.browser import SCREENSHOTS, desktop_browser, phone_browser, save_page, tap, wait_for_text
from tests.helpers import item
from tests.pages.test_pay_page_browser import fits_the_phone
from tests.process import ServerProcess

KEY = "invoice-browser-key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {KEY}"}
CARD = {"cardNumber": "4242 4242 4242 4242", "expMonth": "12", "expYear": "2034", "cvc": "123", "postalCode": "94110"}


def in_days(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def fill_card(browser: object) -> None:
    for name, value in CARD.items():
        browser.find_element(By.NAME, name).send_keys(value)  # type: ignore[attr-defined]


def test_paying_and_printing_an_invoice(tmp_path: Path) -> None:
    with (
        ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server,
        httpx.Client(base_url=server.url, headers=OFFICE) as api,
    ):
        customer = api.post(
            "/v1/customers",
            json={"name": "Oakridge Property Management", "phone": "+15555550102", "kind": "commercial"},
        ).json()
        job = api.post(
            "/v1/jobs",
            json={
                "customerId": customer["id"],
                "title": "Quarterly boiler service, Unit 4B",
                "address": "90 Oakridge Court, Springfield",
            },
        ).json()
        order = api.post(
            "/v1/orders",
            json={
                "lineItems": [
                    item("Boiler service (commercial)", 32000),
                    item("Replacement gasket", 1850, quantity=2, kind="material"),
                    item("Contract discount", 3000, kind="discount"),
                ],
                "metadata": {"jobId": job["id"]},
            },
        ).json()
        made = api.post(
            "/v1/invoices",
            json={
                "orderId": order["id"],
                "recipient": {
                    "name": "Oakridge Property Management, Accounts Payable",
                    "phone": "+15555550102",
                    "email": "ap@oakridge.example.com",
                },
                "poNumber": "PO-7781",
                "paymentRequests": [
                    {"type": "deposit", "percentage": 25, "dueDate": in_days(7)},
                    {"type": "balance", "dueDate": in_days(30)},
                ],
            },
        ).json()
        url = api.post(f"/v1/invoices/{made['id']}/publish").json()["publicUrl"]

        with desktop_browser(javascript=False, size=(1100, 900)) as browser:
            browser.get(url)
            body = wait_for_text(browser, "Pay the deposit (25%): $81.75")
            assert "Invoice #1" in body and "PO-7781" in body and "Boiler service (commercial)" in body
            fill_card(browser)
            tap(browser, "button[type=submit]")
            body = wait_for_text(browser, "Paid $81.75")
            assert "Pay the balance: $245.25" in body and "Partly paid" in body
            save_page(browser, SCREENSHOTS / "invoice-page.png")

            # Printed, it is the invoice alone: no form, no banner, the figures all there.
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
            assert not browser.find_element(By.CSS_SELECTOR, "section.pay").is_displayed()
            assert not browser.find_element(By.CSS_SELECTOR, "form").is_displayed()
            assert not browser.find_element(By.CSS_SELECTOR, ".banner").is_displayed()
            for shown in ("table.lines", "table.schedule", "dl.totals", "table.receipts", ".parties"):
                assert browser.find_element(By.CSS_SELECTOR, shown).is_displayed(), shown
            printed = browser.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
            pdf = base64.b64decode(printed["data"])
            assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
            (tmp_path / "invoice.pdf").write_bytes(pdf)
            browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
            assert browser.find_element(By.CSS_SELECTOR, "form").is_displayed()

        with phone_browser(javascript=False) as phone:
            phone.get(url)
            wait_for_text(phone, "Pay the balance: $245.25")
            fits_the_phone(phone)
            fill_card(phone)
            tap(phone, "button[type=submit]")
            body = wait_for_text(phone, "Paid in full")
            assert "Paid $245.25" in body
            assert phone.find_elements(By.CSS_SELECTOR, "form") == []
            fits_the_phone(phone)

        after = api.get(f"/v1/invoices/{made['id']}").json()
        assert (after["state"], after["paidMoney"]["amount"]) == ("paid", 32700)
