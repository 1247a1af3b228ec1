"""Schemathesis over the whole OpenAPI document, against a real server on a temporary store.

Every operation gets a bounded number of generated requests (valid and invalid, deterministic),
with the office key or a device token as its `security` says, and path ids that are half the time
rows seeded below. No answer may be a 5xx; every 4xx is problem+json with `type, title, status,
detail, code`; every answer's status, content type, headers and body are the ones the document
gives; a request the document calls invalid is refused; the credential is enforced.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.checks import CheckContext
from schemathesis.core.failures import Failure

from server.app import api_document, create_app
from server.config import Settings
from tests.helpers import item
from tests.process import ServerProcess

OFFICE_KEY = "schema_office_key-0123456789abcdefghij"
# Generated requests per operation and mode; raise it for a deeper run (`FLINT_SCHEMA_EXAMPLES=500`).
EXAMPLES_PER_OPERATION = int(os.environ.get("FLINT_SCHEMA_EXAMPLES", "20"))
PROBLEM_FIELDS = ("type", "title", "status", "detail", "code")


@dataclass
class Seeded:
    """Rows the generated requests can reach, by path parameter name."""

    ids: dict[str, str]
    device_token: str


def _seed(url: str) -> Seeded:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {OFFICE_KEY}"}) as api:

        def created(path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            response = api.post(path, json=body)
            assert response.status_code in (200, 201, 202), response.text
            return dict(response.json())

        tech = created("/v1/technicians", {"name": "Sam Ortiz", "phone": "+15125550178"})
        device = created(f"/v1/technicians/{tech['id']}/devices", {"label": "Sam's phone"})
        spare = created(f"/v1/technicians/{tech['id']}/devices", {"label": "spare"})
        who = created("/v1/customers", {"name": "Maria Alvarez", "phone": "+15125550143", "kind": "residential"})
        job = created(
            "/v1/jobs",
            {
                "customerId": who["id"],
                "title": "AC not cooling",
                "address": "412 Birch Lane",
                "technicianId": tech["id"],
            },
        )
        order = created(
            "/v1/orders",
            {"lineItems": [item("Diagnostic visit", 8900), item("Capacitor", 4500)], "metadata": {"jobId": job["id"]}},
        )
        payment = created(
            "/v1/payments",
            {"orderId": order["id"], "amountMoney": {"amount": 2000, "currency": "USD"}, "method": "cash"},
        )
        refund = created(
            "/v1/refunds",
            {"paymentId": payment["id"], "amountMoney": {"amount": 500, "currency": "USD"}, "reason": "goodwill"},
        )
        link = created("/v1/payment-links", {"name": "Balance", "orderId": order["id"]})
        text = created(f"/v1/payment-links/{link['id']}/send-sms", {})
        billed = created("/v1/orders", {"lineItems": [item("Boiler service", 32000)], "metadata": {"jobId": job["id"]}})
        invoice = created("/v1/invoices", {"orderId": billed["id"], "recipient": {"name": "Oakridge AP"}})
        created(f"/v1/invoices/{invoice['id']}/publish")
        plan = created(
            "/v1/service-plans",
            {
                "customerId": who["id"],
                "name": "Monthly maintenance",
                "lineItems": [item("Maintenance visit", 9900)],
                "interval": "month",
                "startDate": datetime.now(UTC).date().isoformat(),
                "billing": "invoice",
            },
        )
        event = api.get("/v1/events", params={"limit": 1}).json()["data"][0]
    return Seeded(
        ids={
            "customer_id": who["id"],
            "technician_id": tech["id"],
            "device_id": spare["id"],
            "job_id": job["id"],
            "order_id": order["id"],
            "uid": order["lineItems"][1]["uid"],
            "payment_id": payment["id"],
            "refund_id": refund["id"],
            "link_id": link["id"],
            "message_id": text["id"],
            "invoice_id": invoice["id"],
            "plan_id": plan["id"],
            "event_id": event["id"],
        },
        device_token=device["token"],
    )


def _document() -> dict[str, Any]:
    """The document the server serves, made in this process so its operations are known at collection
    (schemathesis' schemas loaded from a fixture do not run under pytest 9); a test below checks it is
    the one the served process answers."""
    settings = Settings.from_env({"FLINT_API_KEY": OFFICE_KEY, "FLINT_DB": ":memory:"})
    return api_document(create_app(replace(settings, scheduler=False)))


@dataclass(frozen=True)
class KnownFailure:
    """A failure of the server, not of the document, let through until the server is fixed."""

    operation: str
    check: str
    says: str  # a pattern of the failure's message that singles it out
    why: str

    def matches(self, failure: Failure) -> bool:
        return (
            failure.operation == self.operation
            and self.check in failure.checks
            and re.search(self.says, failure.message) is not None
        )


# Failures the server is known to have, each let through by operation, check and message until it
# is fixed. Empty: every operation is checked fully.
KNOWN_FAILURES: list[KnownFailure] = []


@dataclass
class Served:
    url: str
    seeded: Seeded

    def credential(self, case: schemathesis.Case) -> dict[str, str]:
        """The `Authorization` the operation's `security` names."""
        tokens = {"officeKey": OFFICE_KEY, "deviceToken": self.seeded.device_token}
        for requirement in case.operation.definition.raw.get("security", []):
            for scheme in requirement:
                return {"Authorization": f"Bearer {tokens[scheme]}"}
        return {}


_served: list[Served] = []
_clients = itertools.count(1)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    db: Path = tmp_path_factory.mktemp("schema") / "flint.db"
    # Each generated request comes "through a proxy" from an address of its own, as real clients
    # would: the `ignored_auth` check's wrong keys would otherwise make this one client wait (429).
    with ServerProcess(db, {"FLINT_API_KEY": OFFICE_KEY, "FLINT_TRUSTED_PROXIES": "127.0.0.1"}) as server:
        _served[:] = [Served(server.url, _seed(server.url))]
        yield _served[0]
        _served.clear()


# Every 4xx the API has for a request it refuses (426: a device on an old sync schema).
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "426", "428", "429", "5xx"]

DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(
    DOCUMENT,
    config=schemathesis.Config.from_dict(
        {
            # The credential is not generated but sent as given (`Served.credential`); the `ignored_auth`
            # check then tries each operation without it and with a wrong one.
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "database": "none",
                "with-security-parameters": False,
            },
            "checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}},
            # The event stream never ends: a second of it shows its status, headers and first events,
            # where the default would wait ten seconds on every generated request.
            "operations": [{"include-path": "/v1/dispatch/events", "request-timeout": 1}],
        }
    ),
)


@schema.hook
def flatmap_path_parameters(ctx: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Half the time, ids of the seeded rows; else what was generated (mostly a 404)."""
    ids = _served[0].seeded.ids if _served else {}
    real = {name: ids[name] for name in path_parameters or {} if name in ids}
    if not real:
        return st.just(path_parameters)
    return st.sampled_from([{**path_parameters, **real}, path_parameters])


@schema.hook
def filter_failure(ctx: Any, failure: Failure, case: schemathesis.Case, response: schemathesis.Response) -> bool:
    return not any(known.matches(failure) for known in KNOWN_FAILURES)


def problem_details(ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx and 5xx is application/problem+json with the five fields."""
    if response.status_code < 400:
        return
    media_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    assert media_type == "application/problem+json", f"{response.status_code} answered as {media_type!r}"
    body = response.json()
    missing = [name for name in PROBLEM_FIELDS if name not in body]
    assert not missing, f"problem without {missing}: {body}"
    assert body["status"] == response.status_code, body


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
    checks.unsupported_method,
]


# A webhook URL's host is resolved by the server, and DNS leaves the machine; the suite stays on
# loopback, so a generated URL gets an address of the documentation range instead, which the server
# refuses as not public (422 `url_not_allowed`) without asking DNS or ever calling it.
NOT_PUBLIC = "192.0.2.1"


def _no_dns(case: schemathesis.Case) -> None:
    if not case.operation.path.startswith("/v1/webhook-endpoints") or not isinstance(case.body, dict):
        return
    url = case.body.get("url")
    if not isinstance(url, str):
        return
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return
    if host:
        case.body["url"] = urlunsplit(parts._replace(netloc=NOT_PUBLIC))


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_api(case: schemathesis.Case, served: Served) -> None:
    _no_dns(case)
    credential = served.credential(case)
    client = next(_clients)
    forwarded = {"X-Forwarded-For": f"10.{client >> 16 & 255}.{client >> 8 & 255}.{client & 255}"}
    response = case.call_and_validate(
        base_url=served.url, headers={**credential, **forwarded}, checks=CHECKS, additional_checks=[problem_details]
    )
    if credential:
        assert response.status_code not in (401, 403), f"the documented credential was refused: {response.text}"


def test_the_served_document_is_the_one_tested(served: Served) -> None:
    assert httpx.get(f"{served.url}/schema/openapi.json").json() == DOCUMENT


def test_known_failures_name_operations_of_the_document() -> None:
    labels = {operation.ok().label for operation in schema.get_all_operations()}
    assert {known.operation for known in KNOWN_FAILURES} <= labels
