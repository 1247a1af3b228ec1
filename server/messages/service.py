"""The message outbox. A text is decided (queued) in the same transaction as what caused it;
the worker (`server.messages.worker`) claims, sends and records. Each step here is one transaction.

    queued ──claim──▶ sending ──answer──▶ sending (sid) ──callbacks──▶ sent ▶ delivered
      ▲                  │                                           └──▶ undelivered / failed
      └── retry / in doubt (backoff) ◀──┘──▶ failed (4xx, or 5 attempts)
    blocked: the number opted out; never sent.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal

from server.clock import format_time, parse_time
from server.errors import NotFound
from server.ids import new_id
from server.messages import rules, store
from server.messages.types import SmsMessage
from server.store import Row, Tx
from server.store.paging import Page, each, paginate
from server.trail import service as trail
from server.wire import Actor
from sms import policy
from sms.sender import SendResult

TOPIC = "sms"
SYSTEM = Actor(kind="system", id="sms")
SAME_TEXT_WINDOW = timedelta(minutes=10)  # the same link texted again this soon sends nothing new
TRAIL_TYPES = {
    "sent": "sms.sent",
    "delivered": "sms.delivered",
    "undelivered": "sms.failed",
    "failed": "sms.failed",
}


def to_message(row: Row) -> SmsMessage:
    return SmsMessage(
        id=row["id"],
        to=row["to_number"],
        body=row["body"],
        status=row["status"],
        provider_sid=row["provider_sid"],
        error_code=row["error_code"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        payment_link_id=row["payment_link_id"],
        invoice_id=row["invoice_id"],
        order_id=row["order_id"],
        job_id=row["job_id"],
    )


def get(tx: Tx, message_id: str) -> SmsMessage:
    row = store.get(tx, message_id)
    if row is None:
        raise NotFound(f"no text message {message_id}")
    return to_message(row)


def list_page(tx: Tx, after: int, limit: int, job_id: str | None, order_id: str | None) -> Page[SmsMessage]:
    return paginate(store.page(tx, after, limit, job_id, order_id), limit, each(to_message))


def _event(tx: Tx, message: Row, kind: str, actor: Actor = SYSTEM, client_at: str | None = None) -> None:
    data: dict[str, Any] = {"smsId": message["id"], "to": message["to_number"]}
    if message["payment_link_id"]:
        data["paymentLinkId"] = message["payment_link_id"]
    if message["invoice_id"]:
        data["invoiceId"] = message["invoice_id"]
    fresh = store.get(tx, message["id"]) or message
    if fresh["error_code"] is not None:
        data["errorCode"] = fresh["error_code"]
    trail.record(tx, kind, actor, data, job_id=message["job_id"], order_id=message["order_id"], client_at=client_at)


def queue(
    tx: Tx,
    actor: Actor,
    *,
    to: str,
    body: str,
    job_id: str | None,
    order_id: str | None,
    payment_link_id: str | None = None,
    invoice_id: str | None = None,
    dedupe_key: str | None = None,
    client_at: str | None = None,
) -> SmsMessage:
    """Decide to text `to`. A number that opted out gets a `blocked` message, never a text;
    the same `dedupe_key` twice gets the first message back, and so does the same link texted
    to the same number with the same words within `SAME_TEXT_WINDOW` (a double tap)."""
    if dedupe_key is not None:
        earlier = store.by_dedupe_key(tx, dedupe_key)
        if earlier is not None:
            return to_message(earlier)
    blocked = store.is_opted_out(tx, to)
    if payment_link_id is not None and not blocked:
        since = format_time(parse_time(tx.now) - SAME_TEXT_WINDOW)
        earlier = store.same_text_since(tx, payment_link_id, to, body, since)
        if earlier is not None:
            return to_message(earlier)
    message_id = new_id("sms")
    store.insert(
        tx,
        id=message_id,
        to_number=to,
        body=body,
        status="blocked" if blocked else "queued",
        error_code=policy.OPTED_OUT if blocked else None,
        next_attempt_at=None if blocked else tx.now,
        payment_link_id=payment_link_id,
        invoice_id=invoice_id,
        order_id=order_id,
        job_id=job_id,
        dedupe_key=dedupe_key,
    )
    row = store.get(tx, message_id)
    assert row is not None
    _event(tx, row, "sms.blocked" if blocked else "sms.queued", actor, client_at)
    if not blocked:
        tx.notify(TOPIC)
    return to_message(row)


def due(tx: Tx, limit: int = 20) -> list[Row]:
    return store.due(tx, tx.now, limit)


def next_due_at(tx: Tx) -> str | None:
    return store.next_due_at(tx)


Claim = Literal["send", "reconcile", "skip"]


def claim(tx: Tx, message_id: str) -> tuple[Claim, Row]:
    """Take a due message for this worker. A number that opted out since it was queued is
    blocked here; one whose last send is in doubt is reconciled before anything is sent."""
    row = store.get(tx, message_id)
    assert row is not None
    if row["status"] != "queued" or (row["next_attempt_at"] or "") > tx.now:
        return "skip", row
    if store.is_opted_out(tx, row["to_number"]) and not row["in_doubt"]:
        store.update(tx, row, status="blocked", error_code=policy.OPTED_OUT, next_attempt_at=None)
        _event(tx, row, "sms.blocked")
        return "skip", row
    if row["in_doubt"]:
        store.update(tx, row, status="sending")
        return "reconcile", row
    store.update(tx, row, status="sending", attempts=row["attempts"] + 1, claimed_at=tx.now)
    claimed = store.get(tx, message_id)
    assert claimed is not None
    return "send", claimed


def record(tx: Tx, message_id: str, result: SendResult, retry_base: float) -> None:
    """What one send came to, by the policy: accepted, failed for good, or tried again later."""
    row = store.get(tx, message_id)
    assert row is not None
    if result.kind == "accepted":
        assert result.sid is not None
        _accepted(tx, row, result.sid, result.provider_status or "queued")
    elif result.kind == "rejected":
        _failed(tx, row, result.error_code)
        if result.error_code == policy.OPTED_OUT:
            store.set_opt_out(tx, row["to_number"], True)
    elif row["attempts"] >= rules.MAX_ATTEMPTS and result.kind == "retry":
        _failed(tx, row, result.error_code)
    else:
        delay = rules.backoff(row["attempts"], retry_base)
        store.update(
            tx,
            row,
            status="queued",
            in_doubt=int(result.kind == "in_doubt"),
            error_code=result.error_code,
            next_attempt_at=format_time(parse_time(tx.now) + timedelta(seconds=delay)),
        )


def reconciled(tx: Tx, message_id: str, sid: str | None, provider_status: str | None) -> Claim:
    """Twilio was asked whether it took the doubtful send. If it did, record it and send nothing;
    if not, the message is sent now (a fresh attempt), or fails when it has had its five."""
    row = store.get(tx, message_id)
    assert row is not None
    if row["provider_sid"] is not None:  # a marked callback recorded it meanwhile
        return "skip"
    if sid is not None and store.by_sid(tx, sid) is None:
        _accepted(tx, row, sid, provider_status or "queued")
        return "skip"
    if row["attempts"] >= rules.MAX_ATTEMPTS:
        _failed(tx, row, row["error_code"])
        return "skip"
    store.update(tx, row, in_doubt=0, attempts=row["attempts"] + 1, claimed_at=tx.now)
    return "send"


def still_in_doubt(tx: Tx, message_id: str, retry_base: float) -> None:
    """Twilio could not be asked; ask again later. Nothing is sent until it answers."""
    row = store.get(tx, message_id)
    assert row is not None
    delay = rules.backoff(max(1, row["attempts"]), retry_base)
    store.update(tx, row, status="queued", next_attempt_at=format_time(parse_time(tx.now) + timedelta(seconds=delay)))


def taken_sids(tx: Tx, message_id: str) -> set[str]:
    """Sids already recorded for other texts to this message's number: never this one's."""
    row = store.get(tx, message_id)
    assert row is not None
    return store.sids_to(tx, row["to_number"])


def recover(tx: Tx) -> int:
    """At start-up: sends a dead process claimed but never recorded are in doubt."""
    rows = store.unsettled_sends(tx)
    for row in rows:
        store.update(tx, row, status="queued", in_doubt=1, next_attempt_at=tx.now)
    return len(rows)


def _accepted(tx: Tx, row: Row, sid: str, provider_status: str) -> None:
    store.update(tx, row, provider_sid=sid, in_doubt=0, error_code=None, next_attempt_at=None, status="sending")
    apply_status(tx, sid, provider_status, None)
    for early in store.take_early_callbacks(tx, sid):
        apply_status(tx, sid, early["status"], early["error_code"])


def _failed(tx: Tx, row: Row, error_code: int | None) -> None:
    store.update(tx, row, status="failed", error_code=error_code, next_attempt_at=None)
    _event(tx, row, "sms.failed")


def apply_status(tx: Tx, sid: str, provider_status: str, error_code: int | None, message_id: str | None = None) -> bool:
    """A status from Twilio (a callback or an answer). Statuses only move forward; a repeat
    changes nothing. Returns whether anything changed.

    `message_id` is the marker the send carried in its status callback URL: a callback for a
    send whose answer never came back names its message, so the sid is recorded at once."""
    row = store.by_sid(tx, sid)
    if row is None and message_id is not None:
        marked = store.get(tx, message_id)
        if marked is not None and marked["provider_sid"] is None and marked["status"] in ("queued", "sending"):
            _accepted(tx, marked, sid, "queued")
            row = store.by_sid(tx, sid)
    if row is None:
        store.hold_early_callback(tx, sid, provider_status, error_code)
        return False
    new = policy.FROM_TWILIO.get(provider_status)
    if new is None or not rules.moves_forward(row["status"], new):
        return False
    fields: dict[str, Any] = {"status": new}
    if error_code is not None:
        fields["error_code"] = error_code
    store.update(tx, row, **fields)
    if new in TRAIL_TYPES:
        _event(tx, row, TRAIL_TYPES[new])
    return True


def set_opt_out(tx: Tx, phone: str, opted_out: bool) -> None:
    store.set_opt_out(tx, phone, opted_out)


CodeReply = Callable[[Tx, str, str], None]  # (tx, sender, code): an approval code a customer replied


def receive(
    tx: Tx,
    sid: str,
    sender: str,
    keyword: Literal["opt_out", "opt_in"] | None,
    code: str | None = None,
    on_code: CodeReply | None = None,
) -> bool:
    """A text from a customer (Twilio's inbound webhook), handled once per `MessageSid`: its
    sid is recorded in the transaction that acts on it, so a replay (Twilio retrying, or a
    signed request sent again) changes nothing. An opt-out or opt-in keyword moves the number's
    opt-out; a 6-digit code is answered by `on_code` (the approvals domain, wired above this one)
    in the same transaction. Returns whether it was acted on."""
    if not store.mark_inbound(tx, sid, sender, keyword):
        return False
    if sender and keyword is not None:
        store.set_opt_out(tx, sender, keyword == "opt_out")
    elif sender and code is not None and on_code is not None:
        on_code(tx, sender, code)
    return True


EARLY_CALLBACKS_KEPT = timedelta(days=7)


def purge_early_callbacks(tx: Tx) -> int:
    """Status callbacks held for a sid no text of ours was ever given are kept a week (a send's
    answer can be late, never that late), then forgotten."""
    return store.purge_early_callbacks(tx, format_time(parse_time(tx.now) - EARLY_CALLBACKS_KEPT))
