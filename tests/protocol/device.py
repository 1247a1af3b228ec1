"""The Python device (`sync`) driven by a fixture's steps, against a real server (recording) or
a recorded one (replay)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from sync.device import Device
from sync.replica import Replica
from tests.protocol.golden import Step, figures, outbox_view


class PythonDevice:
    def __init__(self, path: Path, transport: httpx.BaseTransport) -> None:
        self.replica = Replica(path)
        self.device = Device(self.replica, transport)

    def close(self) -> None:
        self.replica.close()

    def run(self, step: Step, server: str, token: str) -> Any:
        """One step; a `show` step returns what the phone shows."""
        d, op = self.device, step["op"]
        if op == "enrol":
            d.enroll(server, token)
        elif op == "sync":
            d.sync()
        elif op == "addOn":
            d.add_on(
                step["job"],
                step["name"],
                step["price"],
                step.get("quantity", 1),
                step.get("order"),
                step.get("needsApproval", False),
            )
        elif op == "requestApproval":
            d.request_approval(step["job"], step.get("to"), step.get("order"))
        elif op == "recordApproval":
            d.record_approval(step["job"], step["signerName"], step.get("order"))
        elif op == "textToPay":
            d.text_to_pay(step["job"], step.get("amount"), step.get("to"), step.get("order"))
        elif op == "recordPayment":
            d.record_payment(step["job"], step["amount"], step["method"], step.get("reference"), step.get("order"))
        elif op == "setStatus":
            d.set_status(step["job"], step["status"])
        elif op == "show":
            rows = [(o.id, o.name, o.state, o.code) for o in self.replica.outbox()]
            return {"jobs": [figures(job) for job in d.jobs()], "outbox": outbox_view(rows)}
        elif op != "office":  # what the office did happened on the server, at recording time
            raise ValueError(f"unknown step {op!r}")
        return None
