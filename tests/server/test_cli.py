from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.config import DEMO_API_KEY, Settings
from server.errors import ConfigError
from tests.process import ServerProcess, free_port


def run_flint(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_help_reads_well() -> None:
    result = run_flint("--help")
    assert result.returncode == 0
    assert "serve" in result.stdout
    assert "one trail" in result.stdout
    serve_help = run_flint("serve", "--help")
    assert "--demo" in serve_help.stdout
    assert "FLINT_API_KEY" in serve_help.stdout


def test_serve_without_an_office_key_says_why(tmp_path: Path) -> None:
    result = run_flint("serve", env={"PATH": "/usr/bin:/bin", "FLINT_DB": str(tmp_path / "x.db")})
    assert result.returncode == 2
    assert "FLINT_API_KEY" in result.stderr


def test_the_demo_serves_its_fixtures_and_prints_how_to_use_them(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "demo.db", demo=True) as server:
        office = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        jobs = httpx.get(f"{server.url}/v1/jobs", headers=office).json()["data"]
        assert len(jobs) >= 3
        assert any(j["payment"]["balanceMoney"]["amount"] > 0 for j in jobs)
        customers = httpx.get(f"{server.url}/v1/customers", headers=office).json()["data"]
        output = server.output()
        assert DEMO_API_KEY in output
        assert f"{server.url}/dispatch" in output
        assert f"{server.url}/sandbox/phone/{customers[0]['phone']}" in output
        assert "fdt_demo" in output
        # The autopay plan's first cycle is charged to its customer's card by the start-up billing run.
        [autopay] = [p for p in httpx.get(f"{server.url}/v1/service-plans", headers=office).json()["data"]
                     if p["billing"] == "autopay"]  # fmt: skip
        cycles = f"{server.url}/v1/service-plans/{autopay['id']}/cycles"
        deadline = time.monotonic() + 20
        while httpx.get(cycles, headers=office).json()["data"][0].get("payment", {}).get("status") != "paid":
            assert time.monotonic() < deadline, "the demo's autopay cycle was never charged"
            time.sleep(0.1)
        chen = httpx.get(f"{server.url}/v1/customers/{autopay['customerId']}", headers=office).json()
        assert chen["cardOnFile"]["last4"] == "4242"

    # A second start does not seed twice.
    with ServerProcess(tmp_path / "demo.db", demo=True) as again:
        office = {"Authorization": f"Bearer {DEMO_API_KEY}"}
        assert len(httpx.get(f"{again.url}/v1/jobs", headers=office).json()["data"]) == len(jobs)


def test_a_short_office_key_stops_the_server_at_start_up(tmp_path: Path) -> None:
    """Contract §1 (v3): outside the demo, a key under 32 characters is refused with exit 2 and
    the reason, before anything listens or touches the store."""
    env = {"PATH": "/usr/bin:/bin", "FLINT_DB": str(tmp_path / "x.db"), "FLINT_API_KEY": "a"}
    result = run_flint("serve", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert "FLINT_API_KEY has 1 characters; it needs at least 32" in result.stderr
    assert "Uvicorn running" not in result.stderr + result.stdout
    assert not (tmp_path / "x.db").exists()

    spaced = run_flint("serve", env={**env, "FLINT_API_KEY": "a" * 31 + " b"})
    assert spaced.returncode == 2 and "spaces or control characters" in spaced.stderr


def test_the_demo_takes_any_office_key(tmp_path: Path) -> None:
    env = {"FLINT_API_KEY": "short"}
    assert Settings.from_env(env, demo=True).api_key == "short"
    with pytest.raises(ConfigError, match="needs at least 32"):
        Settings.from_env(env)
    assert Settings.from_env({"FLINT_API_KEY": "k" * 32}).api_key == "k" * 32
