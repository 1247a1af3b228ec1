"""The receiver example of `docs/webhooks.md`, run as written against a real `flint serve`: it
verifies the deliveries with `standardwebhooks`, acts once on a payment delivered twice, and
refuses a forged one."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.helpers import GOOD_CARD, item
from tests.process import ServerProcess, free_port
from tests.sms.conftest import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
KEY = "docs-office-key-0123456789abcdefghij"


def _example() -> str:
    text = (ROOT / "docs" / "webhooks.md").read_text()
    [code] = re.findall(r"## A receiver.*?```python\n(.*?)```", text, re.DOTALL)
    return code


def test_the_docs_receiver_verifies_and_acts_once(tmp_path: Path) -> None:
    script = tmp_path / "receiver.py"
    script.write_text(_example())
    port = free_port()
    env = {"FLINT_API_KEY": KEY, "FLINT_WEBHOOK_ALLOW_PRIVATE": "1"}
    with ServerProcess(tmp_path / "flint.db", env) as server:
        api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        endpoint = api.post(
            "/v1/webhook-endpoints", json={"url": f"http://127.0.0.1:{port}/", "events": ["payment.captured"]}
        ).json()
        output = tmp_path / "receiver.out"
        with output.open("w") as out:
            receiver = subprocess.Popen(
                [sys.executable, str(script)],
                env={"FLINT_WEBHOOK_SECRET": endpoint["secret"], "PORT": str(port), "PATH": "/usr/bin:/bin"},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            try:
                wait_for(lambda: _listening(port), what="the receiver to listen")
                who = api.post("/v1/customers", json={"name": "Ann Lee", "phone": "+15125550178", "kind": "commercial"})
                job = api.post(
                    "/v1/jobs", json={"customerId": who.json()["id"], "title": "No heat", "address": "90 Oakridge Ct"}
                ).json()
                order = api.post(
                    "/v1/orders", json={"lineItems": [item("Boiler service", 32000)], "metadata": {"jobId": job["id"]}}
                ).json()
                link = api.post("/v1/payment-links", json={"name": "Boiler", "orderId": order["id"]}).json()
                paid = httpx.post(server.url + "/pay/" + link["url"].rsplit("/pay/", 1)[1], data=GOOD_CARD)
                assert paid.status_code == 200, paid.text

                deliveries = f"/v1/webhook-endpoints/{endpoint['id']}/deliveries"
                [delivery] = wait_for(
                    lambda: [d for d in api.get(deliveries).json()["data"] if d["status"] == "delivered"],
                    what="the payment to be delivered",
                )
                assert delivery["lastStatusCode"] == 204
                api.post(f"/v1/webhook-deliveries/{delivery['id']}/retry")  # the same event again
                wait_for(lambda: api.get(deliveries).json()["data"][0]["attempts"] == 2, what="the second delivery")
                forged = httpx.post(
                    f"http://127.0.0.1:{port}/",
                    content=b'{"type":"payment.captured","timestamp":"2026-05-01T14:00:00Z","data":{}}',
                    headers={
                        "webhook-id": "evt_forged",
                        "webhook-timestamp": str(int(time.time())),
                        "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl",
                    },
                )
                assert forged.status_code == 400
            finally:
                receiver.terminate()
                receiver.wait(10)
        api.close()
    printed = output.read_text()
    assert printed.count(f"paid 32000 cents on job {job['id']}") == 1, printed


def _listening(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
    except httpx.TransportError:
        return False
    return True
