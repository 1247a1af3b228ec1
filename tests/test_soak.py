"""The soak (`make soak` runs it for ten minutes) in a thirty-second version: the same script,
mixed traffic, SIGKILLs and restarts, no 5xx, and `flint doctor` clean at the end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_thirty_seconds_of_the_soak(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--duration", "30", "--kill-every", "10", "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "verdict: PASS" in out
    assert "errors: 0" in out
    assert "flint doctor after" in out and "verdict: clean" in out
    restarts = int(out.split("restarts after SIGKILL: ")[1].split()[0])
    assert restarts >= 1
    for kind in ("customer: pay", "device: push", "device: pull", "office: refund", "twilio: inbound"):
        assert kind in out
