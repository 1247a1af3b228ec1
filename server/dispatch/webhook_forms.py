"""What the office does on the webhook pages, through the webhooks domain's own services, each in
one write transaction: add an endpoint, turn one off or on, rotate its secret, send a delivery
again. A secret is shown on the page that made it and nowhere else: the answer a sent-twice form
gets back names the endpoint, never the secret."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from server.dispatch import actions
from server.errors import FieldError, InvalidRequest
from server.events import rules as event_rules
from server.store import Tx
from server.webhooks import service as webhooks
from server.webhooks.types import CreateWebhookEndpoint, UpdateWebhookEndpoint

MAX_DESCRIPTION = 200


@dataclass(frozen=True, slots=True)
class EventChoice:
    type: str
    what: str


GROUPS = {
    "job": "Jobs",
    "order": "Orders",
    "payment": "Payments",
    "refund": "Refunds",
    "payment_link": "Payment links",
    "sms": "Texts",
    "invoice": "Invoices",
    "plan": "Service plans",
    "mutation": "Device changes refused",
}


def event_choices() -> list[tuple[str, list[EventChoice]]]:
    """The event types, grouped by what they are about, for the form's checkboxes."""
    groups: dict[str, list[EventChoice]] = {}
    for name, what in event_rules.TYPES.items():
        prefix = name.split(".")[0]
        groups.setdefault(GROUPS.get(prefix, prefix), []).append(EventChoice(name, what))
    return list(groups.items())


def endpoint_request(form: Mapping[str, str], events: Sequence[str]) -> CreateWebhookEndpoint:
    """The add form as an API request: a URL, the events it asked for (`*` wins), a description."""
    url = form.get("url", "").strip()
    if not url:
        raise InvalidRequest("url: required", [FieldError("url", "Enter the URL to send events to.")])
    chosen = [event_rules.ALL] if event_rules.ALL in events else list(dict.fromkeys(events))
    if not chosen:
        raise InvalidRequest("events: required", [FieldError("events", "Choose at least one event.")])
    description = " ".join(form.get("description", "").split())
    if len(description) > MAX_DESCRIPTION:
        message = f"Keep it under {MAX_DESCRIPTION} characters."
        raise InvalidRequest("description: too long", [FieldError("description", message)])
    return CreateWebhookEndpoint(url=url, events=chosen, description=description or None)


@dataclass
class Made:
    """An endpoint made (or a secret rotated) by a form: its id, and the secret when this post made
    it (None when the same form was sent again)."""

    endpoint_id: str
    secret: str | None = None


def create(tx: Tx, key: str | None, data: CreateWebhookEndpoint) -> Made:
    made = Made("")

    def unit(tx: Tx) -> str:
        answer = webhooks.create(tx, data)
        made.secret = answer.secret
        return answer.id

    made.endpoint_id = actions.once(tx, key, unit)
    return made


def rotate(tx: Tx, key: str | None, endpoint_id: str) -> Made:
    made = Made(endpoint_id)

    def unit(tx: Tx) -> str:
        made.secret = webhooks.rotate_secret(tx, endpoint_id).secret
        return endpoint_id

    actions.once(tx, key, unit)
    return made


def switch(tx: Tx, key: str | None, endpoint_id: str, on: bool) -> str:
    def unit(tx: Tx) -> str:
        webhooks.update(tx, endpoint_id, UpdateWebhookEndpoint(status="enabled" if on else "disabled"))
        return "Turned on: it receives the events that happen from now on." if on else "Turned off."

    return actions.once(tx, key, unit)


def retry(tx: Tx, key: str | None, endpoint_id: str, delivery_id: str) -> str:
    def unit(tx: Tx) -> str:
        delivery = webhooks.get_delivery(tx, delivery_id)
        if delivery.endpoint_id != endpoint_id:
            raise InvalidRequest("delivery: not this endpoint's", [FieldError("delivery", "Not this endpoint's.")])
        webhooks.retry(tx, delivery_id)
        return f"Sending the {delivery.type} event again now."

    return actions.once(tx, key, unit)
