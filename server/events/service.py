"""Account events. At the end of every write unit that wrote to the trail (a finishing step of the
store, before `COMMIT`), each new trail event becomes an account event carrying the object it
changed, as the API shows it after the whole unit.

The trail is the lowest domain and cannot call the domains that keep those objects, so they
render them: each registers a `Renderer` per kind of object at wiring time (`server.renderers`).
Each object is rendered once per transaction however many events name it, so a device's push of
500 add-ons to one order renders the order once, and it is stored once (`event_objects`).
Whoever must act on new events in the same transaction (the webhook outbox) subscribes."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from server.clock import format_time, parse_time
from server.errors import FieldError, InvalidRequest, NotFound
from server.events import rules, store
from server.events.rules import Ref
from server.events.types import Event
from server.ids import new_id
from server.store import Row, Tx
from server.store.paging import Page, paginate
from server.trail import service as trail
from server.trail import store as trail_store

log = logging.getLogger("flint.events")

Renderer = Callable[[Tx, str], object]  # (tx, object id) -> the object as the API shows it
FALLBACK = "trail_event"  # a type the catalogue lacks, or a render that failed: the trail's own data

_encode = msgspec.json.Encoder().encode


@dataclass(frozen=True, slots=True)
class NewEvent:
    id: str
    type: str
    job_id: str | None


Subscriber = Callable[[Tx, Sequence[NewEvent]], None]


class Publisher:
    """Makes a transaction's trail events into account events; `finish` is the store's
    finishing step (`Database.finishing`)."""

    def __init__(self, renderers: Mapping[str, Renderer]) -> None:
        self.renderers = dict(renderers)
        self.subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def finish(self, tx: Tx) -> None:
        if trail.TOPIC not in tx.marks:
            return
        rows = trail_store.since(tx, store.published(tx))
        if not rows:
            return
        planned = [(row, self._refs(row)) for row in rows]
        stored: dict[Ref, int] = {}
        for row, refs in planned:
            for ref in refs:
                if ref not in stored:
                    stored[ref] = store.insert_object(tx, ref.kind, ref.id, self._render(tx, ref, row))
        new: list[NewEvent] = []
        inserted: list[tuple[str, int, str, str | None, int, str]] = []
        for row, refs in planned:
            for ref in refs:
                event = NewEvent(new_id("evt"), row["type"], row["job_id"])
                new.append(event)
                inserted.append((event.id, row["seq"], event.type, event.job_id, stored[ref], row["at"]))
        store.insert_events(tx, inserted)
        store.set_published(tx, rows[-1]["seq"])
        for subscriber in self.subscribers:
            subscriber(tx, new)

    def _refs(self, row: Row) -> list[Ref]:
        try:
            return rules.affected(row["type"], row["job_id"], trail_store.decode_data(row["data"]))
        except (rules.UnknownType, KeyError, TypeError) as exc:
            what = "trail event %s (%s) names no object the feed knows (%r); its data is the trail's"
            log.error(what, row["seq"], row["type"], exc)
            return [Ref(FALLBACK, str(row["seq"]))]

    def _render(self, tx: Tx, ref: Ref, row: Row) -> str:
        """The object as JSON text. A render that fails must not undo the change the event is
        about (a payment, a text): it is logged, and the event carries the trail's own data."""
        if ref.kind == FALLBACK:
            return str(row["data"])
        if ref.kind == rules.REJECTION:
            return _encode(rules.rejection(trail_store.decode_data(row["data"]), row["actor_id"])).decode()
        try:
            return _encode(self.renderers[ref.kind](tx, ref.id)).decode()
        except Exception:
            log.exception("could not render %s %s for event %s; its data is the trail's", ref.kind, ref.id, row["type"])
            return str(row["data"])


def _event(row: Row) -> Event:
    return Event(
        id=row["id"],
        type=row["type"],
        created_at=row["created_at"],
        data=msgspec.Raw(row["data"].encode()),
        job_id=row["job_id"],
    )


def get(tx: Tx, event_id: str) -> Event:
    row = store.get(tx, event_id)
    if row is None:
        raise NotFound(f"no event {event_id} (events are kept {rules.KEPT_FOR.days} days)")
    return _event(row)


def list_page(
    tx: Tx, position: int, limit: int, after: str | None = None, type: str | None = None, job_id: str | None = None
) -> Page[Event]:
    """Oldest first, from the cursor's `position` or past the event `after` (whichever is later)."""
    if after is not None:
        found = store.position_of(tx, after)
        if found is None:
            message = f"is not an event of this account (events are kept {rules.KEPT_FOR.days} days)"
            raise InvalidRequest(f"after: {message}", [FieldError("after", message)])
        position = max(position, found)
    return paginate(store.page(tx, position, limit, type, job_id), limit, lambda rows: [_event(r) for r in rows])


def purge_old(tx: Tx) -> int:
    """Events are kept 30 days (contract §11)."""
    return store.purge_before(tx, format_time(parse_time(tx.now) - rules.KEPT_FOR))
