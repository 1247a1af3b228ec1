"""The OpenAPI document says who may call what, how to retry, what errors look like, and where a
created thing lives; the docs UI at /schema works with nothing from another origin."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from server.web.openapi import CREATED_AT, SWAGGER_UI, finish, plain_name
from tests.conftest import OFFICE
from tests.helpers import post, technician

ROOT = Path(__file__).parent.parent.parent
METHODS = {"get", "put", "post", "delete", "patch"}
PROBLEM = "application/problem+json"
SNAKE = re.compile(r"^[a-z]+(_[a-z]+)*$")


async def document(client: AsyncTestClient[Any]) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in doc["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


async def test_security_schemes_and_each_operations_requirement(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    schemes = doc["components"]["securitySchemes"]
    assert schemes["officeKey"] == {**schemes["officeKey"], "type": "http", "scheme": "bearer"}
    assert schemes["deviceToken"] == {**schemes["deviceToken"], "type": "http", "scheme": "bearer"}
    seen = set()
    for _, path, operation in operations(doc):
        if path.startswith("/v1/sync/"):
            expected = [{"deviceToken": []}]
        elif path.startswith("/v1/"):
            expected = [{"officeKey": []}]
        else:
            expected = []
        assert operation["security"] == expected, path
        seen.add(path)
    assert {"/healthz", "/v1/sync/push", "/v1/sync/pull", "/v1/orders"} <= seen
    # Each 401 names the scheme to use, as the server does.
    answer = await client.get("/v1/jobs")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    for _, path, operation in operations(doc):
        if path.startswith("/v1/"):
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"], path


async def test_every_post_takes_an_idempotency_key(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    posts = [(path, op) for method, path, op in operations(doc) if method == "post" and path.startswith("/v1/")]
    assert len(posts) >= 10
    for path, operation in posts:
        [key] = [p for p in operation.get("parameters", []) if p["name"] == "Idempotency-Key"]
        assert key["in"] == "header" and key["required"] is False, path
        assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255}, path
        if not path.startswith("/v1/sync/"):
            success = next(r for status, r in operation["responses"].items() if status.startswith("2"))
            assert success["headers"]["Idempotent-Replayed"]["schema"] == {"type": "string", "enum": ["true"]}
    # And the header does what the document says.
    body = {"name": "Luis Ortega"}
    first = await client.post("/v1/technicians", json=body, headers={**OFFICE, "Idempotency-Key": "k-1"})
    again = await client.post("/v1/technicians", json=body, headers={**OFFICE, "Idempotency-Key": "k-1"})
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"


def _problem_examples(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for method, path, operation in operations(doc):
        for status, response in operation["responses"].items():
            media = response.get("content", {}).get(PROBLEM)
            if media is not None:
                assert media.get("examples"), f"{method} {path} {status} has no example"
                found += [(f"{method} {path}", status, e["value"]) for e in media["examples"].values()]
    return found


async def test_problem_examples_carry_real_codes(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    expected = {
        "400": {"invalid_request"},
        "401": {"unauthorized"},
        "403": {"forbidden"},
        "404": {"not_found"},
        "409": {"version_conflict", "mutation_gap"},
        "413": {"too_large"},
        "426": {"update_required"},
        "429": {"rate_limited"},
    }
    codes_422 = set()
    for where, status, value in _problem_examples(doc):
        assert set(value) >= {"type", "title", "status", "detail", "code"}, where
        assert value["status"] == int(status) and value["type"] == f"urn:flint:problem:{value['code']}", where
        assert SNAKE.match(value["code"]), where
        if status == "422":
            codes_422.add(value["code"])
        else:
            assert value["code"] in expected[status], (where, status, value["code"])
        if status == "400":
            assert value["errors"] and value["errors"][0]["field"], where
        if value["code"] == "version_conflict":
            assert isinstance(value["currentVersion"], int), where
    assert {"idempotency_key_reused", "unknown_job", "amount_exceeds_balance", "refund_exceeds_payment"} <= codes_422
    # No made-up sample values left on the problem schema itself.
    assert "examples" not in doc["components"]["schemas"]["Problem"]
    # The 422 example of `POST /v1/orders` is what the server answers for its request example.
    create_order = doc["paths"]["/v1/orders"]["post"]
    example = create_order["requestBody"]["content"]["application/json"]["examples"]["example"]["value"]
    answer = await client.post("/v1/orders", json=example, headers=OFFICE)
    assert answer.status_code == 422
    assert answer.json()["code"] == next(iter(create_order["responses"]["422"]["content"][PROBLEM]["examples"]))


async def test_request_examples_work(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)

    def example(path: str) -> dict[str, Any]:
        body = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        return dict(body["examples"]["example"]["value"])

    for path in ("/v1/customers", "/v1/technicians", "/v1/jobs", "/v1/orders", "/v1/payments", "/v1/refunds"):
        assert example(path), path
    who = await post(client, "/v1/customers", example("/v1/customers"))
    tech = await post(client, "/v1/technicians", example("/v1/technicians"))
    job = await post(client, "/v1/jobs", {**example("/v1/jobs"), "customerId": who["id"], "technicianId": tech["id"]})
    order_body = example("/v1/orders")
    order = await post(client, "/v1/orders", {**order_body, "metadata": {**order_body["metadata"], "jobId": job["id"]}})
    assert order["totalMoney"] == {"amount": 7500, "currency": "USD"}
    await post(client, "/v1/payments", {**example("/v1/payments"), "orderId": order["id"]})


async def test_schema_names_have_no_module_paths(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    names = set(doc["components"]["schemas"])
    assert not [name for name in names if "." in name or "server" in name]
    assert {"Order", "CreateOrder", "Problem", "OrderPage", "CustomerPage"} <= names
    refs = set(re.findall(r'"\$ref":\s*"#/components/schemas/([^"]+)"', str(doc).replace("'", '"')))
    assert refs <= names


async def test_office_bodies_take_no_unknown_fields(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    schemas = doc["components"]["schemas"]
    for name in ("CreateOrder", "LineItemIn", "MoneyIn", "CreateCustomer", "UpdateJob", "CreateRefund"):
        assert schemas[name]["additionalProperties"] is False, name
    # Sync bodies too (contract §7, v3): a push or pull with a field the server does not know is
    # 400. A field is never dropped from the protocol, so an older app sends none it cannot read.
    for name in ("PushRequest", "PullRequest"):
        assert schemas[name]["additionalProperties"] is False, name
    assert doc["paths"]["/v1/orders"]["post"]["summary"] == "Create an order"


def test_plain_names() -> None:
    assert plain_name("Page_server.orders.types.Order_") == "OrderPage"
    assert plain_name("server.orders.types.Order") == "Order"
    assert plain_name("Order") == "Order"
    generated = {
        "components": {"schemas": {"server.a.types.Thing": {}, "server.b.types.Thing": {"x": 1}, "Other": {}}},
        "paths": {"/x": {"get": {"responses": {"200": {"$ref": "#/components/schemas/server.b.types.Thing"}}}}},
    }
    finished = finish(generated)
    assert set(finished["components"]["schemas"]) == {"ServerATypesThing", "ServerBTypesThing", "Other"}
    assert finished["paths"]["/x"]["get"]["responses"]["200"]["$ref"] == "#/components/schemas/ServerBTypesThing"
    assert "server.a.types.Thing" in generated["components"]["schemas"]


async def test_created_answers_document_and_send_location(client: AsyncTestClient[Any]) -> None:
    doc = await document(client)
    created = [(m, p, op) for m, p, op in operations(doc) if "201" in op["responses"]]
    assert len(created) >= 8
    for method, path, operation in created:
        assert operation["responses"]["201"]["headers"]["Location"]["schema"] == {"type": "string"}, (method, path)
    # Every place `Location` can point at is a path of the API.
    for base in CREATED_AT.values():
        assert any(path.startswith(base) and path.count("/") == base.count("/") for path in doc["paths"]), base
    body = {"name": "Ann Lee", "phone": "+15555550199", "kind": "commercial"}
    answer = await client.post("/v1/customers", json=body, headers={**OFFICE, "Idempotency-Key": "c-1"})
    assert answer.status_code == 201
    location = answer.headers["location"]
    assert location == f"/v1/customers/{answer.json()['id']}"
    assert (await client.get(location, headers=OFFICE)).json() == answer.json()
    replay = await client.post("/v1/customers", json=body, headers={**OFFICE, "Idempotency-Key": "c-1"})
    assert replay.headers["location"] == location
    tech = await technician(client)
    device = await client.post(f"/v1/technicians/{tech['id']}/devices", headers=OFFICE)
    assert device.headers["location"] == f"/v1/devices/{device.json()['id']}"
    assert "location" not in (await client.get(location, headers=OFFICE)).headers


async def test_docs_ui_is_served_from_this_server(client: AsyncTestClient[Any]) -> None:
    page = await client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "swagger-ui" in html and 'data-url="/schema/openapi.json"' in html
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(url.startswith("/schema/") for url in urls), urls
    # No inline script: a strict Content-Security-Policy can allow 'self' alone.
    assert re.findall(r"<script[^>]*>", html) == [f'<script src="{u}">' for u in urls if u.endswith(".js")]
    for url in urls:
        assert (await client.get(url)).status_code == 200, url
    # Swagger UI would otherwise send the document to an outside validator.
    assert "validatorUrl: null" in (await client.get("/schema/assets/flint-docs.js")).text
    assert (await client.get("/schema/openapi.json")).status_code == 200


def test_swagger_ui_files_are_the_pinned_ones() -> None:
    source = (SWAGGER_UI / "SOURCE").read_text()
    pinned = dict(reversed(line.split("  ")) for line in source.splitlines() if re.match(r"^[0-9a-f]{64}  ", line))
    assert set(pinned) == {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
    for name, digest in pinned.items():
        assert hashlib.sha256((SWAGGER_UI / name).read_bytes()).hexdigest() == digest, name


async def test_a_405_names_the_methods_allowed(client: AsyncTestClient[Any]) -> None:
    answer = await client.put("/v1/customers", headers=OFFICE)
    assert answer.status_code == 405
    assert answer.headers["content-type"] == PROBLEM
    assert set(answer.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_make_run_takes_a_port() -> None:
    env = {
        name: value for name, value in os.environ.items() if name not in ("PORT", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }

    def dry_run(*args: str) -> str:
        done = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "flint serve --demo --port 8123" in dry_run("PORT=8123")
    assert "flint serve --demo --port 8000" in dry_run()
