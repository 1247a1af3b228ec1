from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from server.store import Tx


def money_of(tx: Tx, order_ids: Sequence[str]) -> dict[str, tuple[list[int], list[int]]]:
    """For each order: the amounts of its captured payments and of its refunds."""
    found: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    if not order_ids:
        return found
    marks = ",".join("?" * len(order_ids))
    ids = list(order_ids)
    for row in tx.all(
        f"SELECT order_id, amount FROM payments WHERE status = 'captured' AND order_id IN ({marks})", ids
    ):
        found[row["order_id"]][0].append(row["amount"])
    for row in tx.all(f"SELECT order_id, amount FROM refunds WHERE order_id IN ({marks})", ids):
        found[row["order_id"]][1].append(row["amount"])
    return found
