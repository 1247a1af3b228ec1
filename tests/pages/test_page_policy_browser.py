"""The pages' policy in a real browser (contract §6, v3): the docs UI and the built-in Twilio
sandbox's phone work under a CSP with no inline script or style."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from selenium.webdriver.common.by import By

from tests.browser import desktop_browser
from tests.process import ServerProcess

PHONE = "+15555550101"
# Records each CSP violation, from outside the page (a script the browser adds is not subject to it).
WATCH_VIOLATIONS = (
    "window.__violations = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def test_the_docs_and_the_sandbox_phone_work_under_their_policy(tmp_path: Path) -> None:
    """In Chromium: Swagger UI renders every operation and the sandbox phone its styled page,
    with no request the policy refuses (the phone's style was inline before)."""
    env = {"TWILIO_ACCOUNT_SID": "", "FLINT_SMS_RETRY_BASE": "0.05"}
    with ServerProcess(tmp_path / "demo.db", env, demo=True) as server, desktop_browser() as browser:
        browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH_VIOLATIONS})
        browser.get(server.url + "/schema")
        deadline = time.monotonic() + 20
        while not browser.find_elements(By.CSS_SELECTOR, ".opblock") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) > 40
        browser.find_elements(By.CSS_SELECTOR, ".opblock-summary")[0].click()
        time.sleep(0.3)
        assert browser.execute_script("return window.__violations") == []

        browser.get(f"{server.url}/sandbox/phone/{PHONE}")
        bubble = browser.find_element(By.CSS_SELECTOR, "main")
        assert bubble.value_of_css_property("max-width") == "416px"  # 26rem: the stylesheet applied
        assert browser.execute_script("return window.__violations") == []
        assert httpx.get(f"{server.url}/sandbox/phone/{PHONE}").headers["x-frame-options"] == "DENY"
