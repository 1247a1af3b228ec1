"""`GET /tech` serves the technician app itself: the page without inline script, its modules,
the manifest, the icons and a service worker whose version follows every file."""

from __future__ import annotations

import json
import re
from typing import Any

from litestar.testing import AsyncTestClient

from server.web import tech_app

SCRIPT_AND_STYLE_LIMIT = 200 * 1024


async def test_the_page_and_its_headers(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/tech")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp and "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-cache"
    # No inline script or style: every script is a file of this site.
    assert re.findall(r"<script[^>]*>", page.text) == ['<script type="module" src="/tech/app.js">']
    assert " style=" not in page.text and "<style" not in page.text and " on" not in page.text.replace(" one", "")
    assert "set-cookie" not in page.headers  # no session for the app's files


async def test_the_manifest_makes_it_installable(client: AsyncTestClient[Any]) -> None:
    answer = await client.get("/tech/app.webmanifest")
    assert answer.headers["content-type"] == "application/manifest+json"
    manifest = json.loads(answer.content)
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/tech", "/tech", "standalone")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        image = await client.get(icon["src"])
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        width, height = int.from_bytes(image.content[16:20], "big"), int.from_bytes(image.content[20:24], "big")
        assert f"{width}x{height}" == icon["sizes"]


async def test_the_worker_keeps_every_file_of_this_version(client: AsyncTestClient[Any]) -> None:
    worker = await client.get("/tech/sw.js")
    assert worker.headers["service-worker-allowed"] == "/tech"
    assert worker.headers["content-type"].startswith("text/javascript")
    found = re.match(r'const VERSION = "([0-9a-f]{16})";\nconst FILES = (\[.*?\]);\n', worker.text)
    assert found, worker.text[:200]
    files = json.loads(found.group(2))
    assert files[0] == "/tech"
    assert "/tech/sw.js" not in files and "/tech/index.html" not in files
    for url in files:
        assert (await client.get(url)).status_code == 200, url
    # Every module the page imports is kept, so the app opens with no network.
    imported = {f"/tech/{name}" for path in tech_app.APP.glob("*.js") for name in
                re.findall(r'from "\./([a-z]+\.js)"', path.read_text())}  # fmt: skip
    assert imported and imported <= set(files)

    # A changed file is a new version.
    bundle = tech_app.bundle()
    assert bundle.version == found.group(1)
    changed = tech_app.Bundle.of({**bundle.files, "app.css": bundle.files["app.css"] + b"\n"})
    assert changed.urls == bundle.urls and changed.version != bundle.version
    assert changed.worker() != bundle.worker()


async def test_script_and_style_stay_small(client: AsyncTestClient[Any]) -> None:
    """The first load's script and style: under 200 KB on a slow phone (the browser test measures
    what Chromium actually loads)."""
    total = 0
    for path in tech_app.APP.iterdir():
        if path.suffix in (".js", ".css"):
            answer = await client.get("/tech/sw.js" if path.name == "sw.js" else f"/tech/{path.name}")
            assert answer.status_code == 200
            total += len(answer.content)
    assert total < SCRIPT_AND_STYLE_LIMIT


async def test_nothing_else_is_served(client: AsyncTestClient[Any]) -> None:
    for path in ("/tech/index.html", "/tech/nothing.js", "/tech/..%2Fapp.py", "/tech/%2e%2e"):
        assert (await client.get(path)).status_code == 404, path
