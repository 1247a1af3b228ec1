"""Pure rules of a job's status."""

from __future__ import annotations

from server.errors import RuleViolation

# The way a job moves: forward only (steps may be skipped), or to `cancelled` from any status.
FORWARD = ("scheduled", "dispatched", "en_route", "on_site", "completed")


def check_status_change(job_id: str, current: str, new: str) -> None:
    if new == current:
        return
    if current == "cancelled":
        raise RuleViolation("invalid_transition", f"job {job_id} is cancelled; it cannot become {new}")
    if new == "cancelled":
        return
    if FORWARD.index(new) < FORWARD.index(current):
        raise RuleViolation("invalid_transition", f"job {job_id} is {current}; it cannot go back to {new}")
