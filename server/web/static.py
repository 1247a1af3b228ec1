"""The stylesheet and the one small script the office's pages use, served from `server/static/`
with no build step. Each URL carries a digest of its file, so a browser may keep a file as
long as it likes and still gets the new one the moment it changes."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from litestar import Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router

STATIC = Path(__file__).resolve().parent.parent / "static"
PREFIX = "/static"


@cache
def asset_url(name: str) -> str:
    """`/static/office.css?v=3f9c2a1b`; the digest is read once per process."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:10]
    return f"{PREFIX}/{name}?v={digest}"


def static_router() -> Router:
    return create_static_files_router(
        path=PREFIX,
        directories=[STATIC],
        cache_control=CacheControlHeader(max_age=86400, public=True),
        include_in_schema=False,
    )
