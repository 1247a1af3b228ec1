"""The API reference a platform engineer reads: every operation has a summary and a description;
what the docs UI shows as an example reads like a real account (dollars, amounts a job costs,
real-looking phone numbers) and is valid; filters offer no `null` choice; and each event type is
documented with the shape of its `data`, which the events the server makes do have."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
from litestar.testing import AsyncTestClient

from server.events import rules
from server.web.operations import OPERATIONS
from tests.conftest import OFFICE
from tests.helpers import cash, get, item, job, link, order, pay, post
from tests.schema.test_document import document, operations

PHONE = re.compile(r"^\+1[2-9]\d{2}555\d{4}$")  # NANP, in the 555 range kept for examples


def _validator(doc: dict[str, Any], schema: dict[str, Any]) -> jsonschema_rs.Draft202012Validator:
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})


async def test_every_operation_has_a_summary_and_a_description(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    found = {(method, path) for method, path, _ in operations(doc)}
    assert found == set(OPERATIONS), {"without words": found - set(OPERATIONS), "stale": set(OPERATIONS) - found}
    for method, path, operation in operations(doc):
        assert operation["summary"] and operation["description"], (method, path)
        assert len(operation["description"]) > len(operation["summary"]), (method, path)


async def test_filters_offer_no_null_choice(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    filters = 0
    for method, path, operation in operations(doc):
        for parameter in operation.get("parameters", []):
            if parameter["in"] in ("query", "header"):
                filters += 1
                assert "null" not in json.dumps(parameter["schema"]), (method, path, parameter["name"])
    assert filters > 30
    [status] = [p for p in doc["paths"]["/v1/jobs"]["get"]["parameters"] if p["name"] == "status"]
    assert status["schema"]["enum"][0] == "scheduled" and None not in status["schema"]["enum"]
    # Nor does the server read `null` as "no filter" (which would list everything).
    for path, name in (
        ("/v1/jobs?status=null", "status"),
        ("/v1/orders?jobId=null", "jobId"),
        ("/v1/events?type=null", "type"),
    ):
        refused = await client.get(path, headers=OFFICE)
        assert refused.status_code == 400, path
        assert refused.json()["errors"][0]["field"] == name
    assert (await client.get("/v1/orders?jobId=job_1", headers=OFFICE)).status_code == 200


def _sample(doc: dict[str, Any], schema: dict[str, Any], where: str, placeholders: list[str], depth: int = 0) -> Any:
    """What the docs UI shows for a schema: its example, else its first choice, else a placeholder."""
    schemas = doc["components"]["schemas"]
    if depth > 12:
        return None
    if "examples" in schema:
        return schema["examples"][0]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return _sample(doc, schemas[name], f"{where}/{name}", placeholders, depth + 1)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_sample(doc, part, where, placeholders, depth + 1) or {})
        return merged
    if "oneOf" in schema:
        choices = [s for s in schema["oneOf"] if s != {"type": "null"}]
        return _sample(doc, choices[0], where, placeholders, depth + 1) if choices else None
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: _sample(doc, v, f"{where}.{k}", placeholders, depth + 1) for k, v in schema["properties"].items()}
    if kind == "array":
        return [_sample(doc, schema.get("items", {}), f"{where}[]", placeholders, depth + 1)]
    if kind in ("string", "integer", "number"):
        placeholders.append(where)
    return {"string": "string", "integer": 0, "number": 0, "boolean": True}.get(str(kind))


def _money(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value] if set(value) == {"amount", "currency"} else []
        return found + [m for v in value.values() for m in _money(v)]
    if isinstance(value, list):
        return [m for v in value for m in _money(v)]
    return []


def _phones(value: Any, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _phones(v, k)]
    if isinstance(value, list):
        return [p for v in value for p in _phones(v, key)]
    return [value] if key in ("phone", "to") and isinstance(value, str) else []


async def test_examples_read_like_a_real_account(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    schemas = doc["components"]["schemas"]
    for name in schemas:
        placeholders: list[str] = []
        shown = _sample(doc, {"$ref": f"#/components/schemas/{name}"}, "", placeholders)
        assert placeholders == [], f"{name} shows placeholders at {placeholders}"
        for money in _money(shown):
            assert money["currency"] == "USD", name
            assert 1000 <= money["amount"] <= 500_000, (name, money)  # $10 to $5,000: what a job costs
        for phone in _phones(shown):
            assert PHONE.match(phone), (name, phone)
        # Each property's example is valid for the property.
        for prop, spec in schemas[name].get("properties", {}).items():
            for value in spec.get("examples", []):
                assert _validator(doc, spec).is_valid(value), (name, prop, value)


async def test_each_event_type_is_documented_with_its_datas_shape(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    schemas = doc["components"]["schemas"]
    assert set(doc["webhooks"]) == set(rules.TYPES)
    for type, entry in doc["webhooks"].items():
        post_ = entry["post"]
        assert post_["summary"] == type and rules.TYPES[type] in post_["description"]
        assert {p["name"] for p in post_["parameters"]} == {"webhook-id", "webhook-timestamp", "webhook-signature"}
        body = post_["requestBody"]["content"]["application/json"]["schema"]
        assert body["properties"]["type"]["enum"] == [type]
        assert body["properties"]["data"]["$ref"].rsplit("/", 1)[1] in schemas
    data = schemas["Event"]["properties"]["data"]
    assert {ref["$ref"].rsplit("/", 1)[1] for ref in data["anyOf"]} == {k.schema for k in rules.KINDS.values()}

    # The events the server makes have the documented shapes.
    work = await job(client)
    made = await order(client, work["id"], item("Diagnostic visit", 8900))
    await pay(client, await link(client, made["id"], 4000))
    await cash(client, made["id"], 2000)
    await post(client, "/v1/invoices", {"orderId": made["id"], "recipient": {"name": "Dana Whitfield"}})
    events = (await get(client, "/v1/events?limit=200"))["data"]
    assert len({e["type"] for e in events}) >= 6
    event_schema = _validator(doc, {"$ref": "#/components/schemas/Event"})
    for event in events:
        assert event_schema.is_valid(event), event["type"]
        body = doc["webhooks"][event["type"]]["post"]["requestBody"]["content"]["application/json"]["schema"]
        payload = {"type": event["type"], "timestamp": event["createdAt"], "data": event["data"]}
        errors = [str(e) for e in _validator(doc, body).iter_errors(payload)]
        assert errors == [], (event["type"], errors[:2])
