"""Estimates and approvals checked for `flint doctor` (pure functions over rows read whole).

An approval and its deposit are one act: an approved estimate has its approval, and an approval
with a deposit has the deposit's captured payment on the work order it made, from a charge of
that estimate; a captured deposit charge has its approval. The evidence is intact: each
approval's content still hashes to the `contentHash` it recorded, and an estimate's to its own.
Added work an approval names is approved on its order (unless it was taken off since).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from hashlib import sha256

import msgspec

from server.store import Row


@dataclass(frozen=True, slots=True)
class Finding:
    where: str
    what: str
    fix: str = ""


HALF = "the store holds half an approval: restore it from a backup taken before it"


def _hash(text: str | None) -> str | None:
    return sha256(text.encode()).hexdigest() if text is not None else None


def check(
    estimates: Sequence[Row],
    approvals: Sequence[Row],
    charges: Sequence[Row],
    payments: Sequence[Row],
    lines: Sequence[Row],
) -> list[Finding]:
    found: list[Finding] = []
    by_estimate = {a["estimate_id"]: a for a in approvals if a["estimate_id"] is not None}
    payment_of = {p["id"]: p for p in payments}
    charge_of = {c["id"]: c for c in charges}
    approved_charges = {a["charge_id"] for a in approvals if a["charge_id"] is not None}
    for estimate in estimates:
        where = f"estimate {estimate['id']} (#{estimate['number']})"
        if estimate["content_hash"] is not None and _hash(estimate["content"]) != estimate["content_hash"]:
            found.append(
                Finding(where, "its content no longer hashes to its contentHash: it changed after it was sent")
            )
        approval = by_estimate.get(estimate["id"])
        if (estimate["state"] == "approved") != (approval is not None):
            said = "is approved with no approval" if approval is None else f"is {estimate['state']} with an approval"
            found.append(Finding(where, said, HALF))
    for approval in approvals:
        where = f"approval {approval['id']}"
        if _hash(approval["content"]) != approval["content_hash"]:
            found.append(Finding(where, "its content no longer hashes to the contentHash it recorded"))
        if approval["deposit_amount"] > 0:
            payment = payment_of.get(approval["payment_id"] or "")
            charge = charge_of.get(approval["charge_id"] or "")
            if payment is None or charge is None:
                found.append(Finding(where, "took a deposit but has no payment or charge for it", HALF))
            elif (
                payment["status"] != "captured"
                or payment["amount"] != approval["deposit_amount"]
                or payment["order_id"] != approval["order_id"]
                or charge["estimate_id"] != approval["estimate_id"]
            ):
                found.append(Finding(where, f"its deposit {payment['id']} is not the capture it recorded", HALF))
    for charge in charges:
        if (
            charge["estimate_id"] is not None
            and charge["status"] == "captured"
            and charge["id"] not in approved_charges
        ):
            found.append(
                Finding(
                    f"charge {charge['id']}",
                    f"captured a deposit on estimate {charge['estimate_id']} with no approval",
                    HALF,
                )
            )
    state = {(line["order_id"], line["uid"]): line["approval"] for line in lines}
    for approval in approvals:
        if approval["approval_request_id"] is None:
            continue
        for uid in msgspec.json.decode(approval["line_uids"], type=list[str]):
            now = state.get((approval["order_id"], uid))
            if now is not None and now != "approved":
                found.append(Finding(f"approval {approval['id']}", f"approved line {uid}, which reads {now}"))
    return found
