"""`GET /tech`: the technician app (contract §9), an installable web app that Flint serves
itself from `server/static/tech/` with no build step: the page, its scripts (ES modules), its
stylesheet, the web app manifest, the icons and the service worker.

The service worker (`/tech/sw.js`) keeps the app working with no network. It is served with the
list of the app's files and a version (a digest of all of them) written at its top, so any change
to any file makes a new worker, which caches the new files and drops the old ones. Its scope is
`/tech` (the page itself and its files), which `Service-Worker-Allowed` permits.

Every answer carries the office pages' headers (scripts and styles from this site only, no
inline script, never framed) and `Cache-Control: no-cache`: the service worker, not the HTTP
cache, is what keeps the app offline, so a browser always asks before it uses a stale file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from litestar import Response, Router, get
from litestar.params import FromPath

from server.errors import NotFound
from server.web.session import PAGE_HEADERS

APP = Path(__file__).resolve().parent.parent / "static" / "tech"
PATH = "/tech"
SHELL = "index.html"
WORKER = "sw.js"
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
}
HEADERS = {**PAGE_HEADERS, "Cache-Control": "no-cache"}


@dataclass(frozen=True, slots=True)
class Bundle:
    files: dict[str, bytes]  # by name, the page and the worker included
    version: str

    @property
    def urls(self) -> list[str]:
        """What the worker keeps: the page at `/tech`, and every other file but itself."""
        return [PATH, *(f"{PATH}/{name}" for name in sorted(self.files) if name not in (SHELL, WORKER))]

    @staticmethod
    def of(files: dict[str, bytes]) -> Bundle:
        """The version is a digest of every file's name and content."""
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
        return Bundle(files, digest.hexdigest()[:16])

    def worker(self) -> bytes:
        head = f"const VERSION = {json.dumps(self.version)};\nconst FILES = {json.dumps(self.urls)};\n"
        return head.encode() + self.files[WORKER]


@cache
def bundle() -> Bundle:
    """Read once per process: the files do not change under a running server."""
    return Bundle.of({path.name: path.read_bytes() for path in sorted(APP.iterdir()) if path.suffix in TYPES})


def _answer(content: bytes, name: str, **extra: str) -> Response[bytes]:
    return Response(content=content, media_type=TYPES[Path(name).suffix], headers={**HEADERS, **extra})


@get(PATH)
async def shell() -> Response[bytes]:
    return _answer(bundle().files[SHELL], SHELL)


@get(f"{PATH}/{WORKER}")
async def worker() -> Response[bytes]:
    return _answer(bundle().worker(), WORKER, **{"Service-Worker-Allowed": PATH})


@get(PATH + "/{name:str}")
async def app_file(name: FromPath[str]) -> Response[bytes]:
    files = bundle().files
    if name in (SHELL, WORKER) or name not in files:
        raise NotFound(f"the technician app has no file {name[:64]}")
    return _answer(files[name], name)


router = Router("/", route_handlers=[shell, worker, app_file], include_in_schema=False)
