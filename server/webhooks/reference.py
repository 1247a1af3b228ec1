"""The API reference's account of events (contract §11): the shape of each type's `data`, and each
type as an entry of the OpenAPI 3.1 `webhooks` section, with the headers every delivery carries,
so a platform engineer reads what Flint will POST as they read what they may call. Plain dicts
added to the finished document (the wiring hands `document` to the web floor)."""

from __future__ import annotations

from typing import Any

from server.events import rules

_REF = "#/components/schemas/"

HEADERS: list[dict[str, Any]] = [
    {
        "name": "webhook-id",
        "in": "header",
        "required": True,
        "description": "The event's `id`, the same on every attempt: dedupe on it (delivery is at least once).",
        "schema": {"type": "string", "examples": ["evt_3a8f1c6e9b2d5a7f4c0e1b8d"]},
    },
    {
        "name": "webhook-timestamp",
        "in": "header",
        "required": True,
        "description": "When this attempt was sent, in Unix seconds: refuse one far from your clock.",
        "schema": {"type": "string", "examples": ["1777907529"]},
    },
    {
        "name": "webhook-signature",
        "in": "header",
        "required": True,
        "description": (
            '`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the base64-decoded part of the '
            "endpoint's secret after `whsec_`; space-separated when a rotated secret still signs beside the new "
            "one. `standardwebhooks`' `Webhook(secret).verify(body, headers)` checks it."
        ),
        "schema": {"type": "string", "examples": ["v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4="]},
    },
]

EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {
    "PlanCycleEventData": {
        "description": "`data` of `plan.*` events: the service plan as `GET /v1/service-plans/{id}` shows it, "
        "with `cycle`, the period the event is about.",
        "allOf": [
            {"$ref": _REF + "ServicePlan"},
            {"type": "object", "properties": {"cycle": {"$ref": _REF + "Cycle"}}, "required": ["cycle"]},
        ],
    },
    "MutationRejectedEventData": {
        "description": "`data` of `mutation.rejected`: the change a technician's device sent that the server "
        "refused, and why.",
        "type": "object",
        "properties": {
            "mutationId": {"type": "integer", "description": "The device's mutation id.", "examples": [7]},
            "name": {"type": "string", "examples": ["order.addLineItem"]},
            "code": {"type": "string", "examples": ["order_closed"]},
            "detail": {"type": "string", "examples": ["order ord_5d2c8a1e9b7f4a3c6e0d1b2a is completed"]},
            "deviceId": {"oneOf": [{"type": "string"}, {"type": "null"}], "examples": ["dev_6e2a9c4f1d7b3e8a5c0f9d1b"]},
        },
        "required": ["mutationId", "name", "code", "detail", "deviceId"],
    },
}


def _kind_words() -> str:
    return "; ".join(f"`{prefix}.*`: {kind.what}" for prefix, kind in rules.KINDS.items())


def _entry(type: str, what: str) -> dict[str, Any]:
    kind = rules.kind_of(type)
    return {
        "post": {
            "summary": type,
            "description": f"{what} `data` is {kind.what}.",
            "operationId": "webhook_" + type.replace(".", "_"),
            "tags": ["events"],
            "parameters": HEADERS,
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "type": {"type": "string", "enum": [type]},
                                "timestamp": {
                                    "type": "string",
                                    "description": "When the event happened (its `createdAt`), RFC 3339 UTC.",
                                    "examples": ["2026-05-04T15:40:31.000Z"],
                                },
                                "data": {"$ref": _REF + kind.schema},
                            },
                            "required": ["type", "timestamp", "data"],
                        }
                    }
                },
            },
            "responses": {
                "2XX": {"description": "Delivered."},
                "410": {"description": "Gone: Flint turns the endpoint off and sends it nothing more."},
                "default": {
                    "description": "Anything else, or no answer within 10 s: tried again after 5 s, 5 min, 30 min, "
                    "2 h, 5 h, 10 h, 10 h, 24 h and 24 h, then failed."
                },
            },
            "security": [],
        }
    }


def document(doc: dict[str, Any]) -> None:
    """Add the event data shapes, `Event.data`'s choices and the `webhooks` section to a document
    whose schemas have their plain names."""
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in EXTRA_SCHEMAS.items():
        schemas.setdefault(name, schema)
    event = schemas.get("Event")
    if event is not None:
        names = list(dict.fromkeys(kind.schema for kind in rules.KINDS.values()))
        event["properties"]["data"] = {
            "description": "The object the event changed, as the API shows it after the change. " + _kind_words(),
            "anyOf": [{"$ref": _REF + name} for name in names],
        }
    doc["webhooks"] = {type: _entry(type, what) for type, what in rules.TYPES.items()}
