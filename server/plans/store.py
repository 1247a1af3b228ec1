"""SQL of service plans, their pauses and the cycles billed. A cycle row is unique by plan and
period: the store itself refuses a period billed twice."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from server.store import Row, Tx

_PLAN = (
    "n, id, customer_id, name, address, line_items, currency, interval_unit, start_date, billing, due_in_days,"
    " status, next_period, cancelled_at, created_at, updated_at,"
    " (SELECT count(*) FROM service_plan_cycles c WHERE c.plan_id = service_plans.id) AS cycles"
)
_CYCLE = (
    "n, plan_id, period, period_start, period_end, job_id, order_id, invoice_id, payment_link_id, sms_id, created_at,"
    " autopay, retries, first_declined_at, next_attempt_at,"
    " (SELECT count(*) FROM autopay_attempts a WHERE a.plan_id = service_plan_cycles.plan_id"
    " AND a.period = service_plan_cycles.period AND coalesce(a.decline_code, '') != 'not_completed') AS attempts"
)
_ATTEMPT = (
    "n, plan_id, period, attempt, charge_id, saved_card_id, scheduled, status, decline_code, created_at, settled_at"
)


def insert(tx: Tx, **row: Any) -> None:
    tx.insert("service_plans", {**row, "status": "active", "created_at": tx.now, "updated_at": tx.now})


def get(tx: Tx, plan_id: str) -> Row | None:
    return tx.one(f"SELECT {_PLAN} FROM service_plans WHERE id = ?", (plan_id,))


def page(tx: Tx, after: int, limit: int, customer_id: str | None) -> list[Row]:
    where: list[str] = ["n > ?"]
    params: list[Any] = [after]
    if customer_id is not None:
        where.append("customer_id = ?")
        params.append(customer_id)
    return tx.all(
        f"SELECT {_PLAN} FROM service_plans WHERE {' AND '.join(where)} ORDER BY n LIMIT ?", [*params, limit + 1]
    )


def active(tx: Tx) -> list[Row]:
    return tx.all(f"SELECT {_PLAN} FROM service_plans WHERE status = 'active' ORDER BY n")


def update(tx: Tx, plan_id: str, **fields: Any) -> None:
    assignments = "".join(f", {column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE service_plans SET updated_at = :now{assignments} WHERE id = :id",
        {**fields, "now": tx.now, "id": plan_id},
    )


def pauses(tx: Tx, plan_ids: Sequence[str]) -> dict[str, list[Row]]:
    found: dict[str, list[Row]] = defaultdict(list)
    for row in tx.all_in(
        "SELECT plan_id, paused_on, resumed_on FROM service_plan_pauses WHERE plan_id IN ({in}) ORDER BY n", plan_ids
    ):
        found[row["plan_id"]].append(row)
    return found


def pause(tx: Tx, plan_id: str, day: str) -> None:
    tx.run("INSERT INTO service_plan_pauses (plan_id, paused_on) VALUES (?, ?)", (plan_id, day))


def resume(tx: Tx, plan_id: str, day: str) -> None:
    tx.run("UPDATE service_plan_pauses SET resumed_on = ? WHERE plan_id = ? AND resumed_on IS NULL", (day, plan_id))


def insert_cycle(tx: Tx, **row: Any) -> bool:
    """False when the plan's period was billed already (the unique key says so)."""
    try:
        tx.insert("service_plan_cycles", {**row, "created_at": tx.now})
    except sqlite3.IntegrityError:
        return False
    return True


def cycle_of(tx: Tx, plan_id: str, period_start: str) -> Row | None:
    return tx.one(
        f"SELECT {_CYCLE} FROM service_plan_cycles WHERE plan_id = ? AND period_start = ?", (plan_id, period_start)
    )


def cycles_page(tx: Tx, plan_id: str, after: int, limit: int) -> list[Row]:
    return tx.all(
        f"SELECT {_CYCLE} FROM service_plan_cycles WHERE plan_id = ? AND n > ? ORDER BY n LIMIT ?",
        (plan_id, after, limit + 1),
    )


def cycles_for_jobs(tx: Tx, job_ids: Sequence[str]) -> list[Row]:
    return tx.all_in(f"SELECT {_CYCLE} FROM service_plan_cycles WHERE job_id IN ({{in}}) ORDER BY n", job_ids)


def untexted_cycles(tx: Tx, plan_id: str) -> list[Row]:
    """The plan's cycles no text has told its customer about yet, in period order."""
    return tx.all(
        f"SELECT {_CYCLE} FROM service_plan_cycles WHERE plan_id = ? AND sms_id IS NULL ORDER BY period", (plan_id,)
    )


def mark_texted(tx: Tx, plan_id: str, periods: Sequence[int], sms_id: str) -> None:
    tx.many(
        "UPDATE service_plan_cycles SET sms_id = ? WHERE plan_id = ? AND period = ?",
        [(sms_id, plan_id, period) for period in periods],
    )


def past_due_for_customers(tx: Tx, customer_ids: Sequence[str]) -> list[Row]:
    """Plans past due of these customers (the board marks them)."""
    return tx.all_in(
        f"SELECT {_PLAN} FROM service_plans WHERE status = 'past_due' AND customer_id IN ({{in}}) ORDER BY n",
        customer_ids,
    )


def past_due(tx: Tx) -> list[Row]:
    return tx.all(f"SELECT {_PLAN} FROM service_plans WHERE status = 'past_due' ORDER BY n")


# Autopay: each cycle's charges, and when it is next tried.


def cycle_by_period(tx: Tx, plan_id: str, period: int) -> Row | None:
    return tx.one(f"SELECT {_CYCLE} FROM service_plan_cycles WHERE plan_id = ? AND period = ?", (plan_id, period))


def update_cycle(tx: Tx, plan_id: str, period: int, **fields: Any) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in fields)
    tx.run(
        f"UPDATE service_plan_cycles SET {assignments} WHERE plan_id = :plan AND period = :period",
        {**fields, "plan": plan_id, "period": period},
    )


def autopay_due(tx: Tx, now: str) -> list[Row]:
    """Autopay cycles of active plans whose next charge is due."""
    return tx.all(
        "SELECT c.plan_id, c.period, c.job_id, c.next_attempt_at FROM service_plan_cycles c"
        " JOIN service_plans p ON p.id = c.plan_id"
        " WHERE c.autopay IN ('due', 'retrying') AND c.next_attempt_at <= ? AND p.status = 'active' ORDER BY c.n",
        (now,),
    )


def owed_cycles(tx: Tx, plan_id: str) -> list[Row]:
    """The plan's autopay cycles not paid yet."""
    return tx.all(
        f"SELECT {_CYCLE} FROM service_plan_cycles WHERE plan_id = ? AND autopay IN ('due', 'retrying', 'failed')"
        " ORDER BY period",
        (plan_id,),
    )


def autopay_plans_of(tx: Tx, customer_id: str) -> list[Row]:
    return tx.all(
        f"SELECT {_PLAN} FROM service_plans WHERE customer_id = ? AND billing = 'autopay'"
        " AND status IN ('active', 'past_due') ORDER BY n",
        (customer_id,),
    )


def insert_attempt(tx: Tx, **row: Any) -> None:
    tx.insert("autopay_attempts", {**row, "created_at": tx.now})


def attempts_of(tx: Tx, plan_id: str, period: int) -> list[Row]:
    return tx.all(
        f"SELECT {_ATTEMPT} FROM autopay_attempts WHERE plan_id = ? AND period = ? ORDER BY attempt", (plan_id, period)
    )


def attempt_of_charge(tx: Tx, charge_id: str) -> Row | None:
    return tx.one(f"SELECT {_ATTEMPT} FROM autopay_attempts WHERE charge_id = ?", (charge_id,))


def settle_attempt(tx: Tx, n: int, status: str, decline_code: str | None) -> None:
    tx.run(
        "UPDATE autopay_attempts SET status = ?, decline_code = ?, settled_at = ? WHERE n = ?",
        (status, decline_code, tx.now, n),
    )


def attempts(tx: Tx) -> list[Row]:
    return tx.all(f"SELECT {_ATTEMPT} FROM autopay_attempts ORDER BY n")
