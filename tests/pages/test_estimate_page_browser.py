"""The estimate page on a phone (Chromium at 390x844) against a real `flint serve`: the customer
chooses an option and an optional line and sees the total and the deposit change as they do
(the page's own script asks the server), reads the terms, signs, pays the deposit and sees the
approval. With scripts off the same page works by posting: a choice whose deposit differs from
what was shown is shown again with its deposit, nothing charged. `docs/screenshots/
estimate-page-phone.png` is made here (`make screenshots`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.browser import SCREENSHOTS, phone_browser, save_page, tap, wait_for_text
from tests.estimates.conftest import THREE_OPTIONS
from tests.pages.test_pay_page_browser import fits_the_phone
from tests.process import ServerProcess

KEY = "estimate-browser-key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {KEY}"}
CARD = {"cardNumber": "4242 4242 4242 4242", "expMonth": "12", "expYear": "2034", "cvc": "123", "postalCode": "94110"}
TERMS = "Prices include removal of the old heater and permits. The deposit books the crew and comes off the final bill."


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[tuple[ServerProcess, httpx.Client]]:
    with (
        ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server,
        httpx.Client(base_url=server.url, headers=OFFICE) as api,
    ):
        yield server, api


def _estimate(api: httpx.Client) -> dict[str, Any]:
    who = api.post("/v1/customers", json={"name": "David Chen", "phone": "+15555550103", "kind": "residential"}).json()
    job = api.post(
        "/v1/jobs", json={"customerId": who["id"], "title": "Water heater", "address": "17 Maple Street, Springfield"}
    ).json()
    made = api.post(
        "/v1/estimates",
        json={"jobId": job["id"], "title": "Water heater replacement", "options": THREE_OPTIONS,
              "deposit": {"percentage": 10}, "terms": TERMS},
    ).json()  # fmt: skip
    return dict(api.post(f"/v1/estimates/{made['id']}/send").json())


def _text(browser: WebDriver, element_id: str) -> str:
    return str(browser.find_element(By.ID, element_id).text)


def test_choose_sign_and_pay_the_deposit_on_a_phone(shop: tuple[ServerProcess, httpx.Client]) -> None:
    _, api = shop
    estimate = _estimate(api)
    better, extra = estimate["options"][1], estimate["options"][1]["lineItems"][1]
    with phone_browser(javascript=True) as browser:
        browser.get(estimate["url"])
        wait_for_text(browser, "Choose an option")
        assert (_text(browser, "choice-total"), _text(browser, "choice-deposit")) == ("$1,450.00", "$145.00")
        body = browser.find_element(By.TAG_NAME, "body").text
        assert body.index("Terms") < body.index("I have read the terms")  # the terms before the consent
        fits_the_phone(browser)

        browser.find_element(By.CSS_SELECTOR, f'input[value="{better["id"]}"]').click()
        wait_for_text(browser, "$189.90")
        browser.find_element(By.CSS_SELECTOR, f'input[value="{extra["uid"]}"]').click()
        wait_for_text(browser, "Approve and pay $208.40")
        assert (_text(browser, "choice-total"), _text(browser, "choice-deposit")) == ("$2,084.00", "$208.40")
        assert browser.find_element(By.NAME, "expectedAmount").get_attribute("value") == "20840"
        others = browser.find_elements(By.CSS_SELECTOR, '.option:not(.chosen) input[name="optionalUids"]')
        assert others and all(not box.is_enabled() for box in others)  # only the chosen option's extras

        browser.find_element(By.NAME, "acceptTerms").click()
        browser.find_element(By.ID, "signerName").send_keys("David Chen")
        for name, value in CARD.items():
            browser.find_element(By.NAME, name).send_keys(value)
        save_page(browser, SCREENSHOTS / "estimate-page-phone.png")
        browser.find_element(By.ID, "approve-button").click()
        body = wait_for_text(browser, "Approved")
        assert "Signed by David Chen" in body and "Deposit paid" in body and "$208.40" in body
        assert "Better: 50-gallon tank" in body and "Visa •••• 4242" in body
        fits_the_phone(browser)
        save_page(browser, SCREENSHOTS / "estimate-approved-phone.png")

    now = api.get(f"/v1/estimates/{estimate['id']}").json()
    approval = now["approval"]
    assert (now["state"], approval["optionId"], approval["optionalUids"]) == ("approved", better["id"], [extra["uid"]])
    assert approval["depositMoney"]["amount"] == 20840 and approval["signerName"] == "David Chen"
    work = api.get(f"/v1/orders/{approval['orderId']}").json()
    assert [line["name"] for line in work["lineItems"]] == ["50-gallon tank", "Expansion tank"]
    assert work["paidMoney"]["amount"] == 20840 and work["balanceMoney"]["amount"] == 187560


def test_with_scripts_off_the_page_shows_the_new_deposit_before_it_charges(
    shop: tuple[ServerProcess, httpx.Client],
) -> None:
    _, api = shop
    estimate = _estimate(api)
    best = estimate["options"][2]
    with phone_browser(javascript=False) as browser:
        browser.get(estimate["url"])
        wait_for_text(browser, "Approve and pay $145.00")
        tap(browser, f'input[value="{best["id"]}"]')
        tap(browser, 'input[name="acceptTerms"]')
        browser.find_element(By.ID, "signerName").send_keys("David Chen")
        for name, value in CARD.items():
            browser.find_element(By.NAME, name).send_keys(value)
        tap(browser, "#approve-button")
        body = wait_for_text(browser, "The deposit for this choice is $374.90")
        assert "Approve and pay $374.90" in body
        assert api.get(f"/v1/estimates/{estimate['id']}").json()["state"] == "open"  # nothing charged
        tap(browser, 'input[name="acceptTerms"]')
        browser.find_element(By.NAME, "cardNumber").send_keys(CARD["cardNumber"])
        browser.find_element(By.NAME, "cvc").send_keys(CARD["cvc"])
        tap(browser, "#approve-button")
        wait_for_text(browser, "Signed by David Chen")
    assert api.get(f"/v1/estimates/{estimate['id']}").json()["approval"]["depositMoney"]["amount"] == 37490
