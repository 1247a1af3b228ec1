"""Helpers for the office's pages: logging in through the form, reading a page's form tokens."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import AsyncTestClient

from tests.conftest import OFFICE_KEY

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def form_key(html: str, form_id: str) -> str:
    found = re.search(rf'id="{form_id}".*?name="formKey" value="([^"]+)"', html, re.DOTALL)
    assert found, f"no form {form_id!r} on the page"
    return found.group(1)


async def log_in(client: AsyncTestClient[Any], key: str = OFFICE_KEY) -> str:
    """Log in as a browser does; returns the CSRF token the pages' forms carry."""
    page = await client.get("/login")
    token = csrf_token(page.text)
    response = await client.post("/login", data={"key": key, "_csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return token
