"""Pure rules of a job's status."""

from __future__ import annotations

from server.errors import RuleViolation

CLOSED = frozenset({"completed", "cancelled"})


def check_status_change(job_id: str, current: str, new: str) -> None:
    """The office may move an open job to any status; a completed or cancelled job stays so."""
    if current in CLOSED and new != current:
        raise RuleViolation("job_closed", f"job {job_id} is {current}")
