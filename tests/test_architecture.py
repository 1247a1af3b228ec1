"""The shape of the house (docs/architecture.md), checked from the code's own imports: the edges
never import the server, the floors import no domain, and domains only import the ones below
them in the written order. Imports inside functions count too."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top, as docs/architecture.md draws them.
DOMAINS = [
    "trail",
    "events",
    "webhooks",
    "customers",
    "technicians",
    "messages",
    "orders",
    "jobs",
    "payments",
    "links",
    "cards",
    "invoices",
    "plans",
    "approvals",
    "estimates",
    "dispatch",
    "replication",
]
FLOORS = ["web", "store"]


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def modules(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((ROOT / folder).rglob("*.py"))


def test_the_edges_never_import_the_server() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in modules("sync", "sms")
        for name in imports(path)
        if name.split(".")[0] == "server"
    ]
    assert offenders == []


def test_the_floors_import_no_domain() -> None:
    offenders = [
        f"{path.relative_to(ROOT)} imports {name}"
        for floor in FLOORS
        for path in modules(f"server/{floor}")
        for name in imports(path)
        if name.split(".")[:2][-1] in DOMAINS and name.startswith("server.")
    ]
    assert offenders == []


def test_domains_depend_only_on_the_ones_below_them() -> None:
    rank = {name: index for index, name in enumerate(DOMAINS)}
    present = {p.name for p in (ROOT / "server").iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert present - set(FLOORS) - {"templates", "static"} <= set(DOMAINS), "a new domain needs its place in the order"
    offenders = []
    for domain in present & set(DOMAINS):
        for path in modules(f"server/{domain}"):
            for name in imports(path):
                parts = name.split(".")
                if parts[0] == "server" and len(parts) > 1 and rank.get(parts[1], -1) > rank[domain]:
                    offenders.append(f"{path.relative_to(ROOT)} ({domain}) imports {name}")
    assert offenders == []
