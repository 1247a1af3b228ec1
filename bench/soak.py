"""The soak: mixed traffic against a real `flint serve` for a while, killing it now and then.

    python -m bench.soak [--duration 600] [--seed 13] [--workers 6] [--kill-every 60]

One temporary store, the built-in Twilio sandbox, the sandbox card processor. Workers play the
office (orders, links, texts, refunds, cash), customers paying links (good cards, declines, bad
input), technicians' devices pushing and pulling, and Twilio (signed status callbacks, inbound
STOP/START, replays). Now and then the server gets SIGKILL and starts again on the same file.

At the end it prints requests by kind, answers by status class, the errors (any 5xx fails the
soak), the restarts, and `flint doctor`'s verdict on the store once the server has settled.
Exit 0 when it passed, 1 when it did not. Every random choice comes from `--seed`; the
interleaving of the workers is the machine's.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

from bench.soak_traffic import Device, Tally, Traffic, World, act
from tests.process import ServerProcess

KEY = "soak-office-key-0123456789abcdefghij"
AUTH_TOKEN = "soak-sandbox-auth-token"
TECHNICIANS = 3
SETTLE = 90.0  # seconds the store may take to settle after the traffic stops (charges: within a minute)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600, help="seconds of traffic (default 600)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--kill-every", type=float, default=60, help="mean seconds between SIGKILLs (0: never)")
    parser.add_argument("--dir", help="where the store and the server's log go (default: a temporary folder)")
    return parser.parse_args(argv)


class Killer(threading.Thread):
    """SIGKILLs the server now and then and starts it again on the same file and port."""

    def __init__(self, server: ServerProcess, every: float, rng: random.Random, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.server, self.every, self.rng, self.stop = server, every, rng, stop
        self.restarts = 0
        self.last_restart = 0.0
        self.failures: list[str] = []

    def run(self) -> None:
        while self.every > 0 and not self.stop.wait(self.rng.uniform(0.5, 1.5) * self.every):
            self.server.kill()
            time.sleep(self.rng.uniform(0.1, 1.0))
            self.restart()

    def restart(self) -> None:
        fresh = ServerProcess(self.server.db_path, self.server.env, port=self.server.port)
        try:
            fresh.start(timeout=60)
        except RuntimeError as err:
            self.failures.append(f"the server did not start again: {err}"[:2000])
            return
        self.server = fresh
        self.restarts += 1
        self.last_restart = time.monotonic()


class Memory(threading.Thread):
    """Samples the server's resident memory every couple of seconds, across restarts: its peak,
    and whether it stays flat (the first minute's samples against the last minute's)."""

    def __init__(self, killer: Killer, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.killer, self.stop = killer, stop
        self.samples: list[tuple[float, float]] = []  # (seconds since start, MB)

    def run(self) -> None:
        started = time.monotonic()
        while not self.stop.wait(2):
            proc = self.killer.server.proc
            if proc is None:
                continue
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
            except OSError:
                continue
            for text in status.splitlines():
                if text.startswith("VmRSS:"):
                    self.samples.append((time.monotonic() - started, int(text.split()[1]) / 1024))

    def report(self) -> str:
        if not self.samples:
            return "server memory: not sampled"
        peak = max(mb for _, mb in self.samples)
        end = self.samples[-1][0]
        first = [mb for at, mb in self.samples if at <= 60]
        last = [mb for at, mb in self.samples if at >= end - 60]
        minutes: dict[int, list[float]] = {}
        for at, mb in self.samples:
            minutes.setdefault(int(at // 60), []).append(mb)
        trend = " ".join(f"{sum(v) / len(v):.0f}" for _, v in sorted(minutes.items()))
        return (
            f"server memory: peak RSS {peak:.0f} MB; first minute {sum(first) / len(first):.0f} MB on average,"
            f" last minute {sum(last) / len(last):.0f} MB; each minute's average: {trend}"
        )


def set_up(url: str, world: World, rng: random.Random) -> None:
    office = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(base_url=url, headers=office, timeout=15) as http:
        for n in range(TECHNICIANS):
            tech = http.post("/v1/technicians", json={"name": f"Technician {n + 1}"}).raise_for_status().json()
            device = http.post(f"/v1/technicians/{tech['id']}/devices", json={"label": "phone"}).raise_for_status()
            client_id = str(uuid.UUID(int=rng.getrandbits(128)))
            world.devices.append(Device(tech["id"], device.json()["token"], client_id))


def worker(url: str, world: World, tally: Tally, seed: int, until: float) -> None:
    traffic = Traffic(url, KEY, AUTH_TOKEN, world, tally, random.Random(seed))
    try:
        while time.monotonic() < until:
            try:
                act(traffic)
            except Exception as err:  # a broken answer (not JSON, a missing field): say so, go on
                tally.error(f"worker {seed}: {type(err).__name__}: {str(err)[:300]}")
    finally:
        traffic.close()


def doctor(db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "doctor", "--db", str(db)], capture_output=True, text=True, timeout=120
    )


def settle(db: Path) -> tuple[subprocess.CompletedProcess[str], float]:
    """`flint doctor` until the store is clean (a charge left in flight is settled within a
    minute of a start), or until `SETTLE` seconds have passed."""
    started = time.monotonic()
    while True:
        result = doctor(db)
        waited = time.monotonic() - started
        if result.returncode == 0 or waited > SETTLE:
            return result, waited
        time.sleep(2)


def summary(tally: Tally, restarts: int, duration: float, seed: int, db: Path) -> str:
    classes = ["2xx", "3xx", "4xx", "5xx", "no answer"]
    width = max(len(kind) for kind in tally.by_kind) + 2 if tally.by_kind else 10
    rows = [f"soak: {duration:.0f} s of traffic against flint serve (seed {seed}), store {db}", ""]
    rows.append("requests by kind".ljust(width) + "".join(f"{c:>11}" for c in ["sent", *classes]))
    totals = {c: 0 for c in classes}
    for kind in sorted(tally.by_kind):
        counts = tally.by_kind[kind]
        for c in classes:
            totals[c] += counts[c]
        sent = sum(counts[c] for c in classes)
        rows.append(kind.ljust(width) + f"{sent:>11}" + "".join(f"{counts[c]:>11}" for c in classes))
    rows.append("all".ljust(width) + f"{sum(totals.values()):>11}" + "".join(f"{totals[c]:>11}" for c in classes))
    codes = ", ".join(f"{code}: {n}" for code, n in sorted(tally.codes.items()))
    rows += ["", f"answers by status: {codes}", f"restarts after SIGKILL: {restarts}"]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="flint-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "soak.db"
    env = {
        "FLINT_API_KEY": KEY,
        "TWILIO_ACCOUNT_SID": "",
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "FLINT_SMS_RETRY_BASE": "0.2",
        "FLINT_TWILIO_TIMEOUT": "3",
    }
    rng = random.Random(args.seed)
    world, tally, stop = World(), Tally(), threading.Event()
    server = ServerProcess(db, env)
    server.start(timeout=60)
    set_up(server.url, world, rng)
    killer = Killer(server, args.kill_every, random.Random(args.seed + 1), stop)
    until = time.monotonic() + args.duration
    workers = [
        threading.Thread(target=worker, args=(server.url, world, tally, args.seed * 1000 + n, until))
        for n in range(args.workers)
    ]
    started = time.monotonic()
    memory = Memory(killer, stop)
    memory.start()
    killer.start()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    stop.set()
    killer.join()
    memory.join()
    ran = time.monotonic() - started
    server = killer.server
    if server.proc is None or server.proc.poll() is not None:
        killer.restart()  # killed just as the traffic stopped: let it start and settle
        server = killer.server

    result, waited = settle(db)
    server.stop()
    tally.errors += killer.failures
    print(summary(tally, killer.restarts, ran, args.seed, db))
    print(f"errors: {len(tally.errors)}")
    for error in tally.errors[:50]:
        print(f"  {error}")
    verdict = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()
    print(f"flint doctor after {waited:.0f} s: {verdict}")
    print(memory.report())
    if result.returncode != 0:
        print(result.stdout + result.stderr)
    passed = not tally.errors and result.returncode == 0
    print(f"server log: {server.log_path}")
    print("verdict: PASS" if passed else "verdict: FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
