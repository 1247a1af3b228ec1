"""Builders for estimate tests against the server in the test's process."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from litestar.testing import AsyncTestClient

from tests.helpers import GOOD_CARD, customer, item, post

PUBLIC = "http://flint.test"


def optional(name: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {**item(name, amount, **extra), "optional": True}


THREE_OPTIONS = [
    {"name": "Good: 40-gallon tank", "lineItems": [item("40-gallon tank", 145000), optional("Expansion tank", 18500)]},
    {
        "name": "Better: 50-gallon tank",
        "lineItems": [item("50-gallon tank", 189900), optional("Expansion tank", 18500)],
    },
    {"name": "Best: tankless", "lineItems": [item("Tankless heater", 329900), item("Gas line upgrade", 45000)]},
]


async def estimate_job(client: AsyncTestClient[Any], phone: str = "+15555550177") -> dict[str, Any]:
    who = await customer(client, phone)
    return dict(
        await post(client, "/v1/jobs", {"customerId": who["id"], "title": "Water heater", "address": "88 Oak St"})
    )


async def draft(client: AsyncTestClient[Any], job_id: str, **fields: Any) -> dict[str, Any]:
    body = {"jobId": job_id, "title": "Water heater replacement", "options": THREE_OPTIONS, **fields}
    return dict(await post(client, "/v1/estimates", body))


async def sent(client: AsyncTestClient[Any], job_id: str, **fields: Any) -> dict[str, Any]:
    made = await draft(client, job_id, **fields)
    return dict(await post(client, f"/v1/estimates/{made['id']}/send", None, 200))


def page_path(estimate: dict[str, Any]) -> str:
    return str(estimate["url"]).removeprefix(PUBLIC)


def canonical_hash(estimate: dict[str, Any]) -> str:
    """Contract §8's recipe, worked out here from what the API shows."""
    content = {
        "title": estimate["title"],
        "options": [
            {
                "id": option["id"],
                "name": option["name"],
                "lineItems": [
                    {k: line[k] for k in ("uid", "name", "quantity", "unitPriceMoney", "kind", "optional")}
                    for line in option["lineItems"]
                ],
            }
            for option in estimate["options"]
        ],
        "deposit": estimate["deposit"],
        "terms": estimate["terms"],
        "expiresAt": estimate["expiresAt"],
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def approve_form(
    estimate: dict[str, Any], option: int, *extras: int, deposit: int | None, **fields: str
) -> dict[str, Any]:
    """The page's form for option `option` with its optional lines at `extras`."""
    chosen = estimate["options"][option]
    form: dict[str, Any] = {
        "optionId": chosen["id"],
        "optionalUids": [chosen["lineItems"][i]["uid"] for i in extras],
        "signerName": "Maria Alvarez",
        "acceptTerms": "yes",
        **GOOD_CARD,
        **fields,
    }
    if deposit is not None:
        form["expectedAmount"] = str(deposit)
    return form
