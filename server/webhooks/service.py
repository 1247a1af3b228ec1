"""Webhook endpoints and the delivery outbox (contract §11). Each step is one transaction.

    an event (its own transaction) ──fan_out──▶ pending ──claim──▶ sending ──record──▶ delivered
                    retry (the office) ──▶ pending ◀── a failure: again in 5 s ... 24 h ──┘
                                                        └──▶ failed (10 attempts, or the endpoint disabled)

A 410 disables its endpoint at once; so does failing for 3 days with nothing delivered. A
claimed delivery whose process died is sent again at start-up with the same `webhook-id`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from server.clock import format_time, parse_time
from server.errors import NotFound, RuleViolation
from server.events import rules as event_rules
from server.events import service as events
from server.events.service import NewEvent
from server.ids import new_id
from server.store import Row, Tx
from server.store.paging import Page, each, paginate
from server.webhooks import rules, store
from server.webhooks.rules import Attempt
from server.webhooks.types import (
    CreateWebhookEndpoint,
    UpdateWebhookEndpoint,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointWithSecret,
)

log = logging.getLogger("flint.webhooks")

TOPIC = "webhooks"  # a commit that made deliveries due wakes the worker


def to_endpoint(row: Row) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row["id"],
        url=row["url"],
        events=store.decode_names(row["events"]),
        description=row["description"],
        status=row["status"],
        disabled_reason=row["disabled_reason"],
        failing_since=row["failing_since"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def to_delivery(row: Row) -> WebhookDelivery:
    return WebhookDelivery(
        id=row["id"],
        endpoint_id=row["endpoint_id"],
        event_id=row["event_id"],
        type=row["type"],
        job_id=row["job_id"],
        attempts=row["attempts"],
        status=row["status"],
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        next_attempt_at=row["next_attempt_at"] if row["status"] == "pending" else None,
        last_attempt_at=row["last_attempt_at"],
        delivered_at=row["delivered_at"],
        created_at=row["created_at"],
    )


def _load(tx: Tx, endpoint_id: str) -> Row:
    row = store.get_endpoint(tx, endpoint_id)
    if row is None:
        raise NotFound(f"no webhook endpoint {endpoint_id}")
    return row


def _events(names: Sequence[str]) -> list[str]:
    unknown = event_rules.unknown_types(list(names))
    if unknown:
        raise RuleViolation(
            "unknown_event_type", f"no such event type: {', '.join(sorted(unknown))[:150]} (see GET /v1/events)"
        )
    return list(dict.fromkeys(names))


def _with_secret(
    endpoint: WebhookEndpoint, secret: str | None, previous_expires: str | None
) -> WebhookEndpointWithSecret:
    return WebhookEndpointWithSecret(
        **{field: getattr(endpoint, field) for field in WebhookEndpoint.__struct_fields__},
        secret=secret,
        previous_secret_expires_at=previous_expires,
    )


def without_secret(answer: WebhookEndpointWithSecret) -> WebhookEndpointWithSecret:
    """What an idempotent replay answers: the secret is shown once."""
    return msgspec.structs.replace(answer, secret=None)


def create(tx: Tx, data: CreateWebhookEndpoint) -> WebhookEndpointWithSecret:
    """`data.url` has passed the URL rules (the route resolved it before this transaction)."""
    names = _events(data.events)
    if store.count_endpoints(tx) >= rules.MAX_ENDPOINTS:
        raise RuleViolation("endpoint_limit", f"an account has at most {rules.MAX_ENDPOINTS} webhook endpoints")
    endpoint_id = new_id("we")
    secret = rules.new_secret()
    store.insert_endpoint(tx, endpoint_id, data.url, names, data.description)
    store.insert_secret(tx, endpoint_id, secret)
    return _with_secret(get(tx, endpoint_id), secret, None)


def get(tx: Tx, endpoint_id: str) -> WebhookEndpoint:
    return to_endpoint(_load(tx, endpoint_id))


def list_page(tx: Tx, after: int, limit: int) -> Page[WebhookEndpoint]:
    return paginate(store.endpoints_page(tx, after, limit), limit, each(to_endpoint))


def all_endpoints(tx: Tx) -> list[WebhookEndpoint]:
    return [to_endpoint(row) for row in store.endpoints(tx)]


def update(tx: Tx, endpoint_id: str, data: UpdateWebhookEndpoint) -> WebhookEndpoint:
    """`data.url`, when given, has passed the URL rules."""
    row = _load(tx, endpoint_id)
    fields: dict[str, object] = {}
    if data.url is not None:
        fields["url"] = data.url
    if data.events is not None:
        fields["events"] = _events(data.events)
    if data.description is not None:
        fields["description"] = data.description
    if data.status == "enabled" and row["status"] != "enabled":
        fields.update(status="enabled", disabled_reason=None, failing_since=None)
    if fields:
        store.update_endpoint(tx, endpoint_id, **fields)
    if data.status == "disabled" and row["status"] != "disabled":
        _disable(tx, endpoint_id, "office")
    return get(tx, endpoint_id)


def delete(tx: Tx, endpoint_id: str) -> None:
    _load(tx, endpoint_id)
    store.delete_endpoint(tx, endpoint_id)


def rotate_secret(tx: Tx, endpoint_id: str) -> WebhookEndpointWithSecret:
    """A new secret signs from now on; the ones signing now go on beside it for 24 hours."""
    _load(tx, endpoint_id)
    ends = format_time(parse_time(tx.now) + rules.OVERLAP)
    store.expire_current_secrets(tx, endpoint_id, ends)
    secret = rules.new_secret()
    store.insert_secret(tx, endpoint_id, secret)
    return _with_secret(get(tx, endpoint_id), secret, ends)


def _disable(tx: Tx, endpoint_id: str, reason: rules.DisabledReason) -> None:
    store.update_endpoint(tx, endpoint_id, status="disabled", disabled_reason=reason)
    why = {"office": "disabled by the office", "gone": "it answered 410 Gone", "failing": "3 days of failures"}
    store.fail_pending(tx, endpoint_id, f"the endpoint was disabled ({why[reason]})")
    if reason != "office":
        log.warning("webhook endpoint %s disabled: %s", endpoint_id, why[reason])


# The outbox.


def fan_out(tx: Tx, new: Sequence[NewEvent]) -> None:
    """A delivery per new event and enabled endpoint that asked for its type, in the event's own
    transaction (a subscriber of `server.events`)."""
    endpoints = [(row["id"], store.decode_names(row["events"])) for row in store.enabled_endpoints(tx)]
    rows = [
        (new_id("whd"), endpoint_id, event.id, event.type, event.job_id)
        for event in new
        for endpoint_id, names in endpoints
        if event_rules.wants(names, event.type)
    ]
    if rows:
        store.insert_deliveries(tx, rows)
        tx.notify(TOPIC)


def due(tx: Tx) -> list[Row]:
    return store.due(tx, tx.now, rules.PER_ENDPOINT)


def next_due_at(tx: Tx) -> str | None:
    return store.next_due_at(tx, tx.now)


@dataclass(frozen=True, slots=True)
class Send:
    """One attempt, as claimed: where, what, and how it is signed. The secrets are in memory for
    the attempt only and never logged."""

    delivery_id: str
    endpoint_id: str
    url: str
    event_id: str
    timestamp: int
    body: bytes
    secrets: list[str]

    def headers(self) -> dict[str, str]:
        signature = rules.signature_header(self.secrets, self.event_id, self.timestamp, self.body)
        return rules.headers(self.event_id, self.timestamp, signature)


def claim(tx: Tx, delivery_id: str) -> Send | None:
    """Take a due delivery for one attempt (counted now, so an attempt a crash cut short counts)."""
    row = store.get_delivery(tx, delivery_id)
    if row is None or row["status"] != "pending" or row["sending_since"] is not None:
        return None
    if (row["next_attempt_at"] or "") > tx.now:
        return None
    endpoint = _load(tx, row["endpoint_id"])
    try:
        event = events.get(tx, row["event_id"])
    except NotFound:
        store.update_delivery(tx, delivery_id, status="failed", next_attempt_at=None, last_error="the event is gone")
        return None
    store.update_delivery(tx, delivery_id, sending_since=tx.now, attempts=row["attempts"] + 1, last_attempt_at=tx.now)
    return Send(
        delivery_id=delivery_id,
        endpoint_id=endpoint["id"],
        url=endpoint["url"],
        event_id=event.id,
        timestamp=int(parse_time(tx.now).timestamp()),
        body=rules.body(event.type, event.created_at, event.data),
        secrets=store.live_secrets(tx, endpoint["id"]),
    )


def record(tx: Tx, delivery_id: str, attempt: Attempt) -> None:
    """What one attempt came to: delivered, tried again later, or failed for good."""
    row = store.get_delivery(tx, delivery_id)
    if row is None or row["sending_since"] is None:
        return  # its endpoint was deleted meanwhile
    endpoint = _load(tx, row["endpoint_id"])
    now = parse_time(tx.now)
    seen = {"sending_since": None, "last_status_code": attempt.status_code, "last_error": attempt.describe()}
    if attempt.delivered:
        store.update_delivery(tx, delivery_id, **seen, status="delivered", delivered_at=tx.now, next_attempt_at=None)
        if endpoint["failing_since"] is not None:
            store.update_endpoint(tx, endpoint["id"], failing_since=None)
        return
    enabled = endpoint["status"] == "enabled"
    failing_since = endpoint["failing_since"] or tx.now
    if enabled and endpoint["failing_since"] is None:
        store.update_endpoint(tx, endpoint["id"], failing_since=failing_since)
    retry_at = rules.next_attempt(row["attempts"], now, attempt.retry_after) if enabled else None
    if retry_at is None or attempt.gone:
        store.update_delivery(tx, delivery_id, **seen, status="failed", next_attempt_at=None)
    else:
        store.update_delivery(tx, delivery_id, **seen, next_attempt_at=format_time(retry_at))
    if enabled and attempt.gone:
        _disable(tx, endpoint["id"], "gone")
    elif enabled and rules.failing_too_long(parse_time(failing_since), now):
        _disable(tx, endpoint["id"], "failing")


def retry(tx: Tx, delivery_id: str) -> WebhookDelivery:
    """Send it again now (an earlier event of the same job still pending for the endpoint goes
    first). One being sent right now is left to finish."""
    row = store.get_delivery(tx, delivery_id)
    if row is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    if row["sending_since"] is None:
        store.update_delivery(tx, delivery_id, status="pending", next_attempt_at=tx.now)
        tx.notify(TOPIC)
    fresh = store.get_delivery(tx, delivery_id)
    assert fresh is not None
    return to_delivery(fresh)


def recover(tx: Tx) -> int:
    """At start-up: attempts a dead process claimed and never recorded are due again, at once,
    with the same `webhook-id` (the receiver dedupes on it)."""
    rows = store.interrupted(tx)
    for row in rows:
        store.update_delivery(tx, row["id"], sending_since=None, next_attempt_at=tx.now)
    return len(rows)


def deliveries_page(tx: Tx, endpoint_id: str, before: int, limit: int, status: str | None) -> Page[WebhookDelivery]:
    _load(tx, endpoint_id)
    return paginate(store.deliveries_page(tx, endpoint_id, before, limit, status), limit, each(to_delivery))


def get_delivery(tx: Tx, delivery_id: str) -> WebhookDelivery:
    row = store.get_delivery(tx, delivery_id)
    if row is None:
        raise NotFound(f"no webhook delivery {delivery_id}")
    return to_delivery(row)


def disabled_for_failing(tx: Tx) -> list[WebhookEndpoint]:
    """For the dispatch board: endpoints switched off because every delivery failed for 3 days."""
    return [e for e in all_endpoints(tx) if e.status == "disabled" and e.disabled_reason == "failing"]


def purge_old(tx: Tx) -> int:
    """Deliveries go with their events after 30 days; rotated-out secrets once they stop signing."""
    before = format_time(parse_time(tx.now) - event_rules.KEPT_FOR)
    store.purge_before(tx, before)
    store.purge_expired_secrets(tx)
    return events.purge_old(tx)
