"""What a billing run texts a plan's customer: one text for the periods a run billed, however
many (contract §3, v3), never one per period. Each cycle is billed without a text; the
transaction that bills the last period due now calls `tell_customer`, which covers every cycle
of the plan no text has told the customer of yet (a catch-up cut short by a crash included)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from server.customers import store as customers_store
from server.invoices import service as invoices
from server.links import service as links
from server.links import store as links_store
from server.messages import service as outbox
from server.messages.types import SmsMessage
from server.money import Money, display
from server.orders import service as orders
from server.plans import rules, store
from server.store import Row, Tx
from server.wire import Actor
from sms import bodies

SYSTEM = Actor(kind="system", id="billing")


def tell_customer(tx: Tx, plan: Row, public_url: str, business: str) -> None:
    """Text the plan's customer about every cycle not texted yet: one period as its invoice or
    link always was; several (a catch-up after a gap, or a backfill) in one text with their
    total and the latest one's page, never a text per period. An autopay plan's customer is
    texted by its charges instead (a receipt, or the update-card link after a decline)."""
    if plan["billing"] == "autopay":
        return
    billed = store.untexted_cycles(tx, plan["id"])
    if not billed:
        return
    latest = billed[-1]
    if len(billed) == 1:
        message = (
            invoices.text_published(tx, SYSTEM, latest["invoice_id"], public_url, business)
            if latest["invoice_id"]
            else links.send_sms(tx, SYSTEM, latest["payment_link_id"], None, public_url, business)
        )
    else:
        message = _catch_up_text(tx, plan, billed, public_url, business)
    if message is not None:
        store.mark_texted(tx, plan["id"], [c["period"] for c in billed], message.id)


def _catch_up_text(tx: Tx, plan: Row, billed: Sequence[Row], public_url: str, business: str) -> SmsMessage | None:
    customer = customers_store.get(tx, plan["customer_id"])
    if customer is None or not customer["phone"]:
        return None
    latest = billed[-1]
    each = orders.get(tx, latest["order_id"]).total_money
    span = rules.period_label(date.fromisoformat(billed[0]["period_start"]), date.fromisoformat(latest["period_end"]))
    if latest["invoice_id"]:
        url = invoices.get(tx, latest["invoice_id"], public_url).public_url or ""
    else:
        link = links.load(tx, latest["payment_link_id"])
        links_store.texted(tx, link, customer["phone"])
        url = links.url_of(public_url, link["token"])
    body = bodies.plan_catch_up(
        business, plan["name"], len(billed), span, display(Money(each.amount * len(billed), each.currency)),
        display(each), url,
    )  # fmt: skip
    return outbox.queue(
        tx,
        SYSTEM,
        to=customer["phone"],
        body=body,
        job_id=latest["job_id"],
        order_id=latest["order_id"],
        invoice_id=latest["invoice_id"],
        payment_link_id=latest["payment_link_id"],
        dedupe_key=f"plan:{plan['id']}:catch-up:{latest['period']}",
    )
