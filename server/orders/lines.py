"""An order's line as the API shows it, made once: from a row to the wire type, and to the JSON
kept beside the row (`line_items.shown`), so an order of any size is shown by joining what each
line already says instead of building every line again."""

from __future__ import annotations

from typing import Any

import msgspec

from server.money import Currency, Money
from server.orders.rules import Line
from server.orders.types import LineItem
from server.store import Row
from server.wire import Actor

_encode = msgspec.json.Encoder().encode


def line_of(row: Row | dict[str, Any]) -> Line:
    approval = row["approval"] if "approval" in row.keys() else "none"  # noqa: SIM118 (a Row is no mapping)
    return Line(row["quantity"], row["unit_amount"], row["kind"], approval)


def line_item(row: Row | dict[str, Any], currency: Currency) -> LineItem:
    return LineItem(
        uid=row["uid"],
        name=row["name"],
        quantity=row["quantity"],
        unit_price_money=Money(row["unit_amount"], currency),
        kind=row["kind"],
        total_money=Money(line_of(row).amount, currency),
        added_by=Actor(kind=row["added_by_kind"], id=row["added_by_id"]),
        approval=line_of(row).approval,  # type: ignore[arg-type]
    )


def shown(row: Row | dict[str, Any], currency: Currency) -> str:
    """The line's JSON, as `GET /v1/orders/{id}` shows it."""
    return _encode(line_item(row, currency)).decode()
