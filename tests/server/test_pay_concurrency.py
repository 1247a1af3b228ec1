"""A dozen concurrent posts of one pay form against the real server: one capture."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.helpers import GOOD_CARD, item, usd
from tests.process import ServerProcess

KEY = "concurrency-key-0123456789abcdefghij"
OFFICE = {"Authorization": f"Bearer {KEY}"}


async def test_a_link_is_captured_at_most_once_under_concurrent_posts(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "flint.db", {"FLINT_API_KEY": KEY}) as server:
        async with httpx.AsyncClient(base_url=server.url, headers=OFFICE, timeout=30) as api:
            made = await api.post("/v1/orders", json={"lineItems": [item("Repair", 20000)]})
            order = made.json()
            link = (
                await api.post(
                    "/v1/payment-links",
                    json={"name": "Deposit", "orderId": order["id"], "amountMoney": usd(7500)},
                )
            ).json()
            path = "/pay/" + link["url"].rsplit("/pay/", 1)[1]

            # Separate connections, all released at once.
            clients = [httpx.AsyncClient(base_url=server.url, timeout=30) for _ in range(12)]
            try:
                start = asyncio.Event()

                async def post(client: httpx.AsyncClient) -> httpx.Response:
                    await start.wait()
                    return await client.post(path, data=GOOD_CARD)

                tasks = [asyncio.create_task(post(c)) for c in clients]
                await asyncio.sleep(0.05)
                start.set()
                responses = await asyncio.gather(*tasks)
            finally:
                await asyncio.gather(*(c.aclose() for c in clients))

            assert [r.status_code for r in responses] == [200] * 12
            assert all("Paid $75.00" in r.text for r in responses)
            payments = (await api.get("/v1/payments", params={"orderId": order["id"]})).json()["data"]
            assert [(p["status"], p["amountMoney"]) for p in payments] == [("captured", usd(7500))]
            after = (await api.get(f"/v1/orders/{order['id']}")).json()
            assert (after["paidMoney"], after["balanceMoney"]) == (usd(7500), usd(12500))
