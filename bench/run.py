"""`make bench`: Flint's figures, each beside the baseline it is measured against in the same run,
as one table; also written to `bench/results.json`.

    python -m bench.run [--quick] [--only push,payers,...] [--server-dir DIR] [--out PATH]

Every part starts `flint serve` on a fresh SQLite file (synchronous=FULL) on this machine and
talks to it over loopback HTTP (see `bench/push.py`, `bench/load.py`). PouchDB, the peer, is
installed into `bench/peers/` with npm the first time, when node is present. `--server-dir`
runs the server from another checkout of Flint (an earlier one, for before-and-after figures);
the baselines still come from this run. Figures, not assertions: nothing here fails a build.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import load, push

PEERS = Path(__file__).parent / "peers"
RESULTS = Path(__file__).parent / "results.json"


def pouchdb(docs: int) -> dict[str, Any] | None:
    """PouchDB replicating the same documents, or None when node is not here."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    if not (PEERS / "node_modules" / "pouchdb-node").exists():
        subprocess.run(
            [npm, "ci" if (PEERS / "package-lock.json").exists() else "install", "--no-audit", "--no-fund"],
            cwd=PEERS,
            check=True,
            capture_output=True,
        )
    done = subprocess.run([node, "pouchdb_push.js", str(docs)], cwd=PEERS, check=True, capture_output=True, text=True)
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {"rate": round(found["rate"]), "seconds": round(found["seconds"], 2)}


def machine() -> str:
    cpu = ""
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({cpu or platform.machine()}), Python {platform.python_version()}, {platform.system()}"
    )


def table(found: dict[str, Any]) -> str:
    rows: list[tuple[str, str, str, str]] = []
    p = found.get("push")
    if p:
        rows.append(("push: add-ons/s over HTTP (10 orders, pushes of 500)", f"{p['rate']:,}", "", ""))
        rows.append(
            ("  vs the storage floor: the same rows, executemany", f"{p['rate']:,}", f"{p['floor_rows_rate']:,}",
             f"1/{p['floor_rows_rate'] / p['rate']:.1f}")
        )  # fmt: skip
        rows.append(
            ("  vs line-item rows alone into a bare table", f"{p['rate']:,}", f"{p['floor_lines_rate']:,}",
             f"1/{p['floor_lines_rate'] / p['rate']:.0f}")
        )  # fmt: skip
        if found.get("pouchdb"):
            pouch = found["pouchdb"]["rate"]
            rows.append(
                (
                    "  vs PouchDB replicating the same documents",
                    f"{p['rate']:,}",
                    f"{pouch:,}",
                    f"{p['rate'] / pouch:.1f}x",
                )
            )
    b = found.get("big_order")
    if b:
        rows.append(
            ("push onto an order of 10,000 lines vs an empty one", f"{b['big_rate']:,}/s", f"{b['empty_rate']:,}/s",
             f"{b['ratio']:.2f}x the time")
        )  # fmt: skip
    d = found.get("devices")
    if d:
        rows.append(
            (
                f"{d['devices']} devices x {d['each']} add-ons at once",
                f"p50 {d['p50_ms']:,} ms",
                "",
                f"p99 {d['p99_ms']:,} ms",
            )
        )
    c = found.get("payers")
    if c:
        rows.append(
            (f"{c['payers']} concurrent payers: captures/s", f"{c['captures_per_s']}", "",
             f"{c['captured_once']}/{c['payers']} captured once")
        )  # fmt: skip
    s = found.get("snapshots")
    if s:
        rows.append(
            (
                f"{s['devices']} cold snapshots at once ({s['entities_each']} entities each)",
                f"p50 {s['p50_ms']:,} ms",
                "",
                f"p99 {s['p99_ms']:,} ms",
            )
        )
    m = found.get("mixed")
    if m:
        rows.append(
            (f"mixed load, {m['clients']} clients for {m['seconds']:g} s", f"{m['per_s']:,} req/s",
             f"p50 {m['p50_ms']} ms", f"p99 {m['p99_ms']} ms, {m['errors']} errors")
        )  # fmt: skip
    rss = found.get("peak_rss_mb")
    if rss:
        rows.append(("server peak RSS (any part)", f"{rss} MB", "", ""))
    width = max(len(r[0]) for r in rows)
    out = [f"{'figure':<{width}}  {'Flint':>14}  {'baseline':>14}  {'ratio':>22}"]
    out += [f"{a:<{width}}  {b_:>14}  {c_:>14}  {d_:>22}" for a, b_, c_, d_ in rows]
    return "\n".join(out)


PARTS: dict[str, Callable[[argparse.Namespace], dict[str, Any] | None]] = {
    "push": lambda a: push.push_rate(a.server_dir, 2_000 if a.quick else 10_000),
    "pouchdb": lambda a: pouchdb(2_000 if a.quick else 10_000),
    "big_order": lambda a: push.big_order(a.server_dir, 1_000 if a.quick else 5_000),
    "devices": lambda a: push.devices_at_once(a.server_dir, 50 if a.quick else 200),
    "payers": lambda a: load.payers(a.server_dir, 50 if a.quick else 200),
    "snapshots": lambda a: load.cold_snapshots(a.server_dir, 10 if a.quick else 50),
    "mixed": lambda a: load.mixed(a.server_dir, 10 if a.quick else 50, 10 if a.quick else 60),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller figures, for a quick look")
    parser.add_argument("--only", help="comma-separated parts: " + ", ".join(PARTS))
    parser.add_argument("--server-dir", type=Path, help="run the server from this checkout of Flint")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    wanted = args.only.split(",") if args.only else list(PARTS)
    found: dict[str, Any] = {"machine": machine(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if args.server_dir:
        found["server_dir"] = str(args.server_dir)
    for name in wanted:
        started = time.perf_counter()
        found[name] = PARTS[name](args)
        print(f"  {name}: {json.dumps(found[name])} ({time.perf_counter() - started:.0f} s)", flush=True)
    found["peak_rss_mb"] = max((part.get("rss_mb", 0) for part in found.values() if isinstance(part, dict)), default=0)
    print()
    print(f"machine: {found['machine']}")
    print(table(found))
    args.out.write_text(json.dumps(found, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
