"""The OpenAPI document (`/schema/openapi.json`) and the docs UI (`/schema`).

Litestar builds the document from the routes and the wire types; `finish` adds what those cannot
say: each operation's summary and description (`operations.py`), who may call it, the
`Idempotency-Key` and the headers an answer carries, examples with real codes and realistic
values (`examples.py`), filters without a `null` choice, schema names without module paths, and
what the wiring adds (the events' shapes and the `webhooks` section). The docs UI is Swagger UI,
served from the pinned copy in `server/static/swagger-ui` with a start-up script of our own: the
page loads nothing from another origin and runs no inline script.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Request, Response, Router
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router

from server.web.examples import add_examples
from server.web.operations import OPERATIONS
from server.web.problems import PROBLEM_MEDIA_TYPE, example

STATIC = Path(__file__).parent.parent / "static"
SWAGGER_UI = STATIC / "swagger-ui"
DOCS_SCRIPTS = STATIC / "docs"

OFFICE_SCHEME = "officeKey"
DEVICE_SCHEME = "deviceToken"
SECURITY_SCHEMES = {
    OFFICE_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description="The office key (`FLINT_API_KEY`): `Authorization: Bearer <key>`. Reaches the office API.",
    ),
    DEVICE_SCHEME: SecurityScheme(
        type="http",
        scheme="bearer",
        description=(
            "A technician's device token, shown once at enrolment "
            "(`POST /v1/technicians/{technician_id}/devices`). Reaches `/v1/sync/*` only."
        ),
    ),
}

DESCRIPTION = """\
Payments for field-service jobs: one payment trail per job.

- **Auth**: `Authorization: Bearer <key>`, the office key for the office API, a device token for
  `/v1/sync/*`. A missing or unknown key is 401 with `WWW-Authenticate: Bearer`.
- **Errors** are `application/problem+json` with a stable `code`.
- **Retries**: every `POST` takes an `Idempotency-Key`; the same key and body within 7 days answer
  the first response again, with `Idempotent-Replayed: true`.
- **Money** is `{"amount": <int, minor units>, "currency": "USD"}`.
- **Events**: everything that happens is an event whose `data` is the object it changed
  (`GET /v1/events`); webhook endpoints get them pushed, signed as Standard Webhooks 1.0 says.
  The `webhooks` section lists each event type and the shape of its `data`.
"""

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes the request safe to retry: the same key with the same body within 7 days answers the "
        "first response again (with `Idempotent-Replayed: true`) and does nothing more; the same key "
        "with another body is 422 `idempotency_key_reused`. Keys are the caller's own."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "example": "3f1c9e0a-7b2d-4c55-9a8e-2d6f0b1e4c7a",
}
SYNC_IDEMPOTENCY_KEY: dict[str, Any] = {
    **IDEMPOTENCY_KEY,
    "description": (
        "Taken like on every `POST`, but sync stores no answer by key: a push is safe to repeat through "
        "its mutation ids, and a pull only reads."
    ),
}
REPLAYED: dict[str, Any] = {
    "description": "`true` when this is the stored answer to an `Idempotency-Key` seen before.",
    "required": False,
    "schema": {"type": "string", "enum": ["true"]},
}
LOCATION: dict[str, Any] = {
    "description": "The path of what was created.",
    "required": True,
    "schema": {"type": "string"},
    "example": "/v1/orders/ord_5d2c8a1e9b7f4a3c6e0d1b2a",
}
RETRY_AFTER: dict[str, Any] = {
    "description": "Seconds to wait before trying again.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
    "example": "540",
}
WWW_AUTHENTICATE: dict[str, Any] = {
    "description": "The auth scheme to use.",
    "required": True,
    "schema": {"type": "string", "enum": ["Bearer"]},
}

# Where a thing made by a `POST` lives, by the prefix of its id.
CREATED_AT = {
    "cus_": "/v1/customers/",
    "tech_": "/v1/technicians/",
    "dev_": "/v1/devices/",
    "job_": "/v1/jobs/",
    "ord_": "/v1/orders/",
    "plink_": "/v1/payment-links/",
    "clink_": "/v1/card-links/",
    "pay_": "/v1/payments/",
    "ref_": "/v1/refunds/",
    "inv_": "/v1/invoices/",
    "est_": "/v1/estimates/",
    "apr_": "/v1/approval-requests/",
    "plan_": "/v1/service-plans/",
    "we_": "/v1/webhook-endpoints/",
}

# Answers a stored idempotent outcome can have (a 400, 401, 403 or 413 is never stored).
_REPLAYABLE = re.compile(r"^(2\d\d|404|409|422)$")
_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options", "trace"})
_SCHEMAS_REF = "#/components/schemas/"
_CAMEL = re.compile(r"^[A-Z][a-z]+(?:[A-Z][a-z]+)+$")
_GENERIC = re.compile(r"^(?P<outer>[A-Za-z0-9]+)_(?P<inner>[A-Za-z0-9_.]+)_$")

_CUSTOMER = "cus_3b8e1f4a2c9d7e6f0a1b5c2d"
_TECHNICIAN = "tech_9a4c2e7f1b3d5a8c6e0f2b4d"
_JOB = "job_7c1e5a9d3f2b8c4e6a0d1f3b"
_ORDER = "ord_5d2c8a1e9b7f4a3c6e0d1b2a"
_PAYMENT = "pay_2f6a9c3e1d8b5f7a4c0e2d6b"
_USD = "USD"

# A request that works, for the main create routes.
REQUEST_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/customers"): {
        "name": "Dana Whitfield",
        "phone": "+15125550143",
        "email": "dana@example.com",
        "kind": "residential",
    },
    ("post", "/v1/technicians"): {"name": "Luis Ortega", "phone": "+15125550178"},
    ("post", "/v1/jobs"): {
        "customerId": _CUSTOMER,
        "title": "AC not cooling",
        "address": "1402 Elm St, Austin, TX 78702",
        "technicianId": _TECHNICIAN,
        "scheduledAt": "2026-05-04T15:00:00Z",
    },
    ("post", "/v1/orders"): {
        "lineItems": [
            {"name": "Dispatch deposit", "quantity": 1, "unitPriceMoney": {"amount": 7500, "currency": _USD}},
        ],
        "metadata": {"jobId": _JOB, "estimateId": "est_1042", "paymentStage": "dispatch_deposit"},
    },
    ("post", "/v1/orders/{order_id}/line-items"): {
        "lineItems": [
            {"name": "Capacitor", "quantity": 1, "unitPriceMoney": {"amount": 4500, "currency": _USD}, "kind": "addon"}
        ]
    },
    ("post", "/v1/payment-links"): {"name": "AC repair balance", "jobId": _JOB},
    ("post", "/v1/payments"): {
        "orderId": _ORDER,
        "amountMoney": {"amount": 7500, "currency": _USD},
        "method": "check",
        "reference": "Check 1042",
    },
    ("post", "/v1/refunds"): {
        "paymentId": _PAYMENT,
        "amountMoney": {"amount": 2500, "currency": _USD},
        "reason": "Capacitor was not needed",
    },
    ("post", "/v1/invoices"): {
        "orderId": _ORDER,
        "recipient": {"name": "Oakridge Property Management", "email": "ap@oakridge.example.com"},
        "poNumber": "PO-7781",
        "paymentRequests": [
            {"type": "deposit", "percentage": 25, "dueDate": "2026-05-15"},
            {"type": "balance", "dueDate": "2026-06-14"},
        ],
    },
    ("post", "/v1/service-plans"): {
        "customerId": _CUSTOMER,
        "name": "Quarterly boiler service",
        "lineItems": [
            {
                "name": "Boiler service (commercial)",
                "quantity": 1,
                "unitPriceMoney": {"amount": 32000, "currency": _USD},
            }
        ],
        "interval": "quarter",
        "startDate": "2026-05-01",
        "billing": "invoice",
        "dueInDays": 30,
        "address": "90 Oakridge Court, Springfield",
    },
    ("post", "/v1/billing/run"): {"asOf": "2026-05-01"},
}

_RULE = "Request breaks a rule"

# The business rule a route is most likely to answer 422 for.
RULE_EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("post", "/v1/jobs"): example(422, "unknown_customer", _RULE, f"no customer {_CUSTOMER}"),
    ("patch", "/v1/jobs/{job_id}"): example(422, "unknown_technician", _RULE, f"no technician {_TECHNICIAN}"),
    ("post", "/v1/orders"): example(422, "unknown_job", _RULE, f"metadata.jobId names no job: {_JOB}"),
    ("post", "/v1/orders/{order_id}/line-items"): example(
        422,
        "deposit_order",
        _RULE,
        f"order {_ORDER} is a deposit order: it takes no add-ons; add them to the job's work order",
    ),
    ("delete", "/v1/orders/{order_id}/line-items/{uid}"): example(
        422, "would_overpay", _RULE, "the order total would fall below what has been paid on it; refund first"
    ),
    ("patch", "/v1/orders/{order_id}"): example(
        422, "order_has_payments", _RULE, "refund what was paid on this order before cancelling it"
    ),
    ("post", "/v1/payment-links"): example(422, "nothing_due", _RULE, "nothing is due on this order"),
    ("post", "/v1/payment-links/{link_id}/send-sms"): example(
        422, "no_recipient", _RULE, "the order has no customer phone; give `to`"
    ),
    ("post", "/v1/payments"): example(
        422, "amount_exceeds_balance", _RULE, "the amount ($90.00) is more than the balance due ($75.00)"
    ),
    ("post", "/v1/refunds"): example(
        422, "refund_exceeds_payment", _RULE, "the refund ($100.00) is more than what is left of the payment ($75.00)"
    ),
    ("post", "/v1/invoices"): example(
        422, "deposit_exceeds_total", _RULE, "the deposits ($1,600.00) must be less than the order's total ($1,500.00)"
    ),
    ("post", "/v1/invoices/{invoice_id}/publish"): example(
        422, "invoice_not_draft", _RULE, "invoice inv_4e1a7c2b9d3f5a8e6c0b1d2f is already published"
    ),
    ("post", "/v1/invoices/{invoice_id}/cancel"): example(
        422,
        "invoice_has_payments",
        _RULE,
        "invoice inv_4e1a7c2b9d3f5a8e6c0b1d2f has payments; refund them and make a new invoice instead",
    ),
    ("post", "/v1/service-plans"): example(422, "unknown_customer", _RULE, f"no customer {_CUSTOMER}"),
    ("post", "/v1/service-plans/{plan_id}/resume"): example(
        422, "plan_cancelled", _RULE, "service plan plan_8c3e1a5f7b9d2c4e6a0f1b3d is cancelled"
    ),
    ("post", "/v1/billing/run"): example(422, "as_of_too_far", _RULE, "asOf may be at most 366 days from today"),
}


Extend = Callable[[dict[str, Any]], None]  # adds to a finished document what the wiring knows


def openapi_config(extend: Extend | None = None) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Flint",
        version="1.0.0",
        description=DESCRIPTION,
        path="/schema",
        components=Components(security_schemes=dict(SECURITY_SCHEMES)),
        render_plugins=[SwaggerDocs(), Document(extend)],
    )


def finish(generated: Mapping[str, Any], extend: Extend | None = None) -> dict[str, Any]:
    """The document Litestar generated, completed; `generated` is left as it was."""
    doc = copy.deepcopy(dict(generated))
    doc = _rename_schemas(doc)
    _refuse_unknown_fields(doc)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                _finish_operation(path, method, operation)
    if extend is not None:
        extend(doc)
    add_examples(doc.get("components", {}).get("schemas", {}))
    finished: dict[str, Any] = _ecma_patterns(doc)
    return finished


def _ecma_patterns(node: Any) -> Any:
    """The wire types' patterns end in Python's `\\Z` (so `$` cannot let a final newline through);
    a document's patterns are ECMA-262, where that end is `$` and `\\Z` would mean a letter Z."""
    if isinstance(node, dict):
        return {
            key: value[:-2] + "$"
            if key == "pattern" and isinstance(value, str) and value.endswith("\\Z")
            else _ecma_patterns(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ecma_patterns(value) for value in node]
    return node


def _finish_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    operation["security"] = security_for(path)
    words = OPERATIONS.get((method, path))
    if words is not None:
        operation["summary"], operation["description"] = words
    summary = operation.get("summary")
    if isinstance(summary, str) and _CAMEL.match(summary):
        # `CreateOrder`, named after the handler, reads `Create order`.
        operation["summary"] = re.sub(r"(?<!^)([A-Z])", r" \1", summary).capitalize()
    for parameter in operation.get("parameters", []):
        if parameter.get("in") in ("query", "header") and isinstance(parameter.get("schema"), dict):
            parameter["schema"] = without_null(parameter["schema"])
    responses: dict[str, Any] = operation.setdefault("responses", {})
    body = operation.get("requestBody")
    if body is not None:
        _finish_body(body, REQUEST_EXAMPLES.get((method, path)))
    if method == "post" and path.startswith("/v1/"):
        sync = path.startswith("/v1/sync/")
        operation.setdefault("parameters", []).append(copy.deepcopy(SYNC_IDEMPOTENCY_KEY if sync else IDEMPOTENCY_KEY))
        if not sync:
            for status, response in responses.items():
                if _REPLAYABLE.match(status):
                    _headers(response)["Idempotent-Replayed"] = copy.deepcopy(REPLAYED)
    if "201" in responses:
        _headers(responses["201"])["Location"] = copy.deepcopy(LOCATION)
    if "401" in responses:
        _headers(responses["401"])["WWW-Authenticate"] = copy.deepcopy(WWW_AUTHENTICATE)
    if "429" in responses:
        _headers(responses["429"])["Retry-After"] = copy.deepcopy(RETRY_AFTER)
    rule = RULE_EXAMPLES.get((method, path))
    if rule is not None and "422" in responses:
        media = responses["422"].setdefault("content", {}).setdefault(PROBLEM_MEDIA_TYPE, {})
        # The route's own rule first, then the one every route shares.
        media["examples"] = {rule["code"]: {"summary": rule["code"], "value": rule}, **media.get("examples", {})}


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A filter left out is not the same as `null`, so the docs UI offers no `null` choice: the
    `null` branch, type and enum value go."""
    schema = dict(schema)
    branches = schema.get("oneOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        del schema["oneOf"]
        if len(rest) == 1:
            schema = {**rest[0], **schema}
        else:
            schema["oneOf"] = rest
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        others = [t for t in kind if t != "null"]
        schema["type"] = others[0] if len(others) == 1 else others
    if isinstance(schema.get("enum"), list):
        schema["enum"] = [value for value in schema["enum"] if value is not None]
    return schema


def security_for(path: str) -> list[dict[str, list[str]]]:
    """The office key for the office API, a device token for sync, nothing elsewhere."""
    if path.startswith("/v1/sync/"):
        return [{DEVICE_SCHEME: []}]
    if path.startswith("/v1/"):
        return [{OFFICE_SCHEME: []}]
    return []


def _finish_body(body: dict[str, Any], request_example: dict[str, Any] | None) -> None:
    for media in body.get("content", {}).values():
        # A body that may be `null` has a default in its route: it may be left out.
        if {"type": "null"} in media.get("schema", {}).get("oneOf", []):
            body["required"] = False
        if request_example is not None:
            media["examples"] = {"example": {"summary": "A request that works", "value": request_example}}


def _refuse_unknown_fields(doc: dict[str, Any]) -> None:
    """A request body with a field its route does not know is refused (400), so its objects take
    no other properties; sync bodies too (contract §7, v3: a device's push is decoded strictly)."""
    schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    seen: set[str] = set()

    def close(node: Any) -> None:
        if isinstance(node, list):
            for value in node:
                close(value)
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMAS_REF):
            name = ref.removeprefix(_SCHEMAS_REF)
            if name not in seen and name in schemas:
                seen.add(name)
                close(schemas[name])
            return
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for key in ("properties", "items", "oneOf", "anyOf", "allOf", "additionalProperties"):
            if key == "properties":
                close(list(node.get(key, {}).values()))
            elif key in node:
                close(node[key])

    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    close(media.get("schema"))


def _headers(response: dict[str, Any]) -> dict[str, Any]:
    headers: dict[str, Any] = response.setdefault("headers", {})
    return headers


def plain_name(name: str) -> str:
    """`Page_server.orders.types.Order_` -> `OrderPage`; `server.orders.types.Order` -> `Order`."""
    generic = _GENERIC.match(name)
    if generic and "." in generic["inner"]:
        return plain_name(generic["inner"]) + generic["outer"]
    return name.rsplit(".", 1)[-1]


def _qualified_name(name: str) -> str:
    """The name with every module part kept, run together: unique where plain names collide."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def _rename_schemas(doc: dict[str, Any]) -> dict[str, Any]:
    schemas: dict[str, Any] = doc.get("components", {}).get("schemas", {})
    plain = {name: plain_name(name) for name in schemas}
    counts: dict[str, int] = {}
    for new in plain.values():
        counts[new] = counts.get(new, 0) + 1
    renames = {old: new if counts[new] == 1 else _qualified_name(old) for old, new in plain.items()}
    if len(set(renames.values())) != len(renames):
        raise ValueError(f"schema names collide: {sorted(renames)}")
    doc["components"]["schemas"] = dict(sorted((renames[name], schema) for name, schema in schemas.items()))
    refs = {_SCHEMAS_REF + old: _SCHEMAS_REF + new for old, new in renames.items()}
    renamed: dict[str, Any] = _replace_refs(doc, refs)
    return renamed


def _replace_refs(node: Any, refs: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: refs.get(value, value) if key == "$ref" and isinstance(value, str) else _replace_refs(value, refs)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_replace_refs(value, refs) for value in node]
    return node


class Document(JsonRenderPlugin):
    """`/schema/openapi.json`: the generated document, finished once per app."""

    def __init__(self, extend: Extend | None = None) -> None:
        super().__init__(path="/openapi.json")
        self._extend = extend
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = self.render_json(request, finish(openapi_schema, self._extend))
        return self._rendered


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<noscript>The API reference needs JavaScript; the document itself is at <a href="{spec}">{spec}</a>.</noscript>
<div id="swagger-ui" data-url="{spec}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/flint-docs.js"></script>
</body>
</html>
"""


class SwaggerDocs(OpenAPIRenderPlugin):
    """`/schema`: Swagger UI over the finished document, every file served from this server."""

    def __init__(self) -> None:
        super().__init__(path="/", favicon="", style="")
        self._assets = "/schema/assets"

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return _PAGE.format(
            title=html.escape(str(openapi_schema["info"]["title"])),
            assets=html.escape(self._assets),
            spec=html.escape(self.get_openapi_json_route(request)),
        ).encode()

    def receive_router(self, router: Router) -> None:
        self._assets = f"{router.path.rstrip('/')}/assets"
        router.register(
            create_static_files_router(
                path="/assets",
                directories=[SWAGGER_UI, DOCS_SCRIPTS],
                name="openapi_assets",
                cache_control=CacheControlHeader(max_age=3600),
                include_in_schema=False,
            )
        )


_body_decoder = msgspec.json.Decoder()


def created_location(response: Response[Any]) -> Response[Any]:
    """A 201 names where the new thing lives (`Location`), found by the prefix of its `id`."""
    if response.status_code != 201 or not isinstance(response.content, bytes):
        return response
    try:
        body = _body_decoder.decode(response.content)
    except msgspec.DecodeError:
        return response
    new_id = body.get("id") if isinstance(body, dict) else None
    if isinstance(new_id, str):
        for prefix, base in CREATED_AT.items():
            if new_id.startswith(prefix):
                response.headers["Location"] = base + quote(new_id, safe="")
                break
    return response
