"""The pay page in a real browser, on a phone-sized screen, with JavaScript turned off."""

from __future__ import annotations

from pathlib import Path

import httpx
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.browser import phone_browser, tap, wait_for_text
from tests.helpers import item, usd
from tests.process import ServerProcess

KEY = "browser-key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {KEY}"}


def fits_the_phone(browser: WebDriver) -> None:
    """No sideways scrolling, and no box sticking out past the screen's edge."""
    layout = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
    assert layout["cssContentSize"]["width"] <= layout["cssLayoutViewport"]["clientWidth"] <= 390
    for element in browser.find_elements(By.CSS_SELECTOR, "h1, td, dd, dt, input, button, p"):
        right = element.rect["x"] + element.rect["width"]
        assert right <= 390, (element.tag_name, element.text, element.rect)


def test_a_customer_pays_on_a_phone_without_javascript(tmp_path: Path) -> None:
    with (
        ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server,
        httpx.Client(base_url=server.url, headers=OFFICE) as api,
    ):
        order = api.post(
            "/v1/orders",
            json={"lineItems": [item("Diagnostic visit", 8900), item("Trip charge", 2500, kind="travel")]},
        ).json()
        link = api.post(
            "/v1/payment-links",
            json={"name": "Dispatch deposit", "orderId": order["id"], "amountMoney": usd(7500)},
        ).json()

        with phone_browser(javascript=False) as browser:
            browser.get(link["url"])
            body = wait_for_text(browser, "Dispatch deposit")
            assert "Diagnostic visit" in body
            assert "$75.00" in body
            fits_the_phone(browser)
            browser.save_screenshot(str(tmp_path / "pay.png"))
            button = browser.find_element(By.CSS_SELECTOR, "button[type=submit]")
            assert button.is_displayed() and button.size["width"] >= 300

            # A typo first: the page says which field, and keeps what is safe to keep.
            fields = {
                "cardNumber": "4242 4242 4242 4241",
                "expMonth": "12",
                "expYear": "2034",
                "cvc": "123",
                "postalCode": "94110",
            }
            for name, value in fields.items():
                browser.find_element(By.NAME, name).send_keys(value)
            tap(browser, "button[type=submit]")
            wait_for_text(browser, "That card number is not valid")
            assert browser.find_element(By.NAME, "postalCode").get_attribute("value") == "94110"
            assert browser.find_element(By.NAME, "cardNumber").get_attribute("value") == ""

            browser.find_element(By.NAME, "cardNumber").send_keys("4242 4242 4242 4242")
            browser.find_element(By.NAME, "cvc").send_keys("123")
            tap(browser, "button[type=submit]")
            receipt = wait_for_text(browser, "Paid $75.00")
            assert "Visa •••• 4242" in receipt
            fits_the_phone(browser)
            browser.save_screenshot(str(tmp_path / "receipt.png"))

        payments = api.get("/v1/payments", params={"orderId": order["id"]}).json()["data"]
        assert [(p["status"], p["amountMoney"]["amount"]) for p in payments] == [("captured", 7500)]


def test_the_page_never_charges_more_than_it_showed(tmp_path: Path) -> None:
    """Contract §4 v3, in Chromium: the page is open on $89.00; the office adds a $2,400.00 line;
    the customer presses Pay: the page comes back (409) with the new amount and nothing is
    captured; pressing Pay again captures once."""
    with (
        ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server,
        httpx.Client(base_url=server.url, headers=OFFICE) as api,
    ):
        customer = api.post(
            "/v1/customers", json={"name": "Maria Alvarez", "phone": "+15555550101", "kind": "residential"}
        ).json()
        job = api.post(
            "/v1/jobs", json={"customerId": customer["id"], "title": "AC not cooling", "address": "412 Birch Lane"}
        ).json()
        order = api.post(
            "/v1/orders", json={"lineItems": [item("Diagnostic visit", 8900)], "metadata": {"jobId": job["id"]}}
        ).json()
        link = api.post("/v1/payment-links", json={"name": "Balance", "jobId": job["id"]}).json()
        card = {
            "cardNumber": "4242 4242 4242 4242",
            "expMonth": "12",
            "expYear": "2034",
            "cvc": "123",
            "postalCode": "94110",
        }

        with phone_browser(javascript=False) as browser:
            browser.get(link["url"])
            wait_for_text(browser, "Pay $89.00")
            added = api.post(f"/v1/orders/{order['id']}/line-items", json={"lineItems": [item("Compressor", 240000)]})
            assert added.status_code == 200
            for name, value in card.items():
                browser.find_element(By.NAME, name).send_keys(value)
            tap(browser, "button[type=submit]")
            page = wait_for_text(browser, "The amount due changed to $2,489.00")
            assert "Pay $2,489.00" in page
            assert api.get("/v1/payments", params={"jobId": job["id"]}).json()["data"] == []

            for name, value in card.items():
                if name in ("cardNumber", "cvc"):  # never filled back in
                    browser.find_element(By.NAME, name).send_keys(value)
            tap(browser, "button[type=submit]")
            wait_for_text(browser, "Paid $2,489.00")
            browser.get(link["url"])  # opened again: the receipt, nothing more to pay
            page = wait_for_text(browser, "Paid $2,489.00")
            assert "cardNumber" not in browser.page_source

        payments = api.get("/v1/payments", params={"jobId": job["id"]}).json()["data"]
        assert [(p["status"], p["amountMoney"]["amount"]) for p in payments] == [("captured", 248900)]
