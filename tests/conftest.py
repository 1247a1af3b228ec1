from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from server.app import create_app
from server.config import Settings

OFFICE_KEY = "test_office_key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {OFFICE_KEY}"}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 5, 1, 14, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "flint.db"


@pytest.fixture
def settings(db_path: Path) -> Settings:
    base = Settings.from_env(
        {"FLINT_API_KEY": OFFICE_KEY, "FLINT_DB": str(db_path), "FLINT_PUBLIC_URL": "http://flint.test"}
    )
    return replace(base, scheduler=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(settings: Settings, clock: FakeClock) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(create_app(settings, clock)) as test_client:
        yield test_client


def table_counts(path: Path) -> dict[str, int]:
    """Rows in every table: a cheap fingerprint of what a request stored."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}
    finally:
        conn.close()
