"""Headless Chromium from Debian's packages, driven through its own chromedriver."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

# A mid-size phone.
PHONE = {
    "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 3.0},
    "userAgent": "Mozilla/5.0 (Linux; Android 14) Mobile",
}


@contextmanager
def phone_browser(*, javascript: bool = False) -> Iterator[webdriver.Chrome]:
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("Chromium is missing: `make test` installs chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="flint-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.add_experimental_option("mobileEmulation", PHONE)
    if not javascript:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
        # With scripts off, chromedriver cannot tell when a form post's page has loaded and waits
        # forever; it returns at once instead, and `wait_for_text` watches for the new page.
        options.page_load_strategy = "none"
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def tap(driver: webdriver.Chrome, selector: str) -> None:
    """A press on the element's centre, scrolled into view first, sent as input events.
    chromedriver's own click runs a script to check the element, which hangs with scripts off."""
    root = driver.execute_cdp_cmd("DOM.getDocument", {})["root"]["nodeId"]
    node = driver.execute_cdp_cmd("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    driver.execute_cdp_cmd("DOM.scrollIntoViewIfNeeded", {"nodeId": node})
    quad = driver.execute_cdp_cmd("DOM.getBoxModel", {"nodeId": node})["model"]["border"]
    x, y = sum(quad[0::2]) / 4, sum(quad[1::2]) / 4
    for kind in ("mousePressed", "mouseReleased"):
        driver.execute_cdp_cmd(
            "Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}
        )


def wait_for_text(driver: webdriver.Chrome, text: str, timeout: float = 15) -> str:
    """The body's text once it contains `text`."""
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        try:
            body = driver.find_element(By.TAG_NAME, "body").text
        except WebDriverException:
            body = ""
        if text in body:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never appeared; the page says:\n{body}")
