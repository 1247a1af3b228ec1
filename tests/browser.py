"""Headless Chromium from Debian's packages, driven through its own chromedriver."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
# An office screen.
DESKTOP = (1280, 900)


@contextmanager
def phone_browser(*, javascript: bool = False) -> Iterator[webdriver.Chrome]:
    with chromium(javascript=javascript, phone=True) as driver:
        yield driver


@contextmanager
def desktop_browser(*, javascript: bool = True, size: tuple[int, int] = DESKTOP) -> Iterator[webdriver.Chrome]:
    with chromium(javascript=javascript, phone=False, size=size) as driver:
        yield driver


@contextmanager
def chromium(*, javascript: bool, phone: bool, size: tuple[int, int] = DESKTOP) -> Iterator[webdriver.Chrome]:
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
    if phone:
        options.add_experimental_option("mobileEmulation", PHONE)
    else:
        options.add_argument(f"--window-size={size[0]},{size[1]}")
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


# Where page tests keep their screenshots: the README's own (`make screenshots` sets this to
# docs/screenshots), or a scratch folder, so an ordinary test run leaves the tree as it was.
SCREENSHOTS = Path(os.environ.get("FLINT_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="flint-screenshots-"))


def save_page(driver: webdriver.Chrome, path: Path) -> None:
    """A PNG of the whole page, not only what fits the window."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    # The whole page is laid out without a scrollbar, so it is as wide as the window.
    width = max(size["width"], driver.execute_script("return window.innerWidth"))
    clip = {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
