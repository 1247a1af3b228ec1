"""How trail events read on the page: known types in words, a job charge once with how it was
applied, unknown types as their type and their data in words, and the small rules beside."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from server.dispatch import rules
from server.dispatch.timeline import Lookup, describe
from server.errors import InvalidRequest, RuleViolation

AT = "2026-05-01T14:02:07.000Z"
LOOK = Lookup(
    technicians={"tech_1": "Sam Ortiz"},
    devices={"dev_1": "Sam Ortiz (Sam's phone)"},
    customers={"cus_1": "Maria Alvarez"},
    orders={"ord_1": "Order 1 · Dispatch deposit", "ord_2": "Order 2 · Onsite"},
    text_status={"sms_1": "delivered"},
    link_status={"plink_1": "paid"},
    pay_pages={"plink_1": "http://flint.test/pay/tok"},
    phone_page=lambda number: f"/sandbox/phone/{number}",
)


def usd(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD"}


def said(type: str, data: dict[str, Any], actor: tuple[str, str | None] = ("office", "office"), **kw: Any) -> Any:
    return describe(1, AT, type, actor, data, kw.get("look", LOOK), kw.get("client_at"))


def test_known_events_read_as_words() -> None:
    status = said("job.status_changed", {"from": "en_route", "to": "on_site"}, ("device", "dev_1"), client_at=AT)
    assert (status.title, status.details, status.actor) == (
        "Status: On site",
        ["was En route"],
        "Sam Ortiz (Sam's phone)",
    )
    assert (status.time, status.device_time) == ("14:02:07", "14:02:07")
    assert (
        said("job.assigned", {"technicianId": "tech_1", "previousTechnicianId": None}).title == "Assigned to Sam Ortiz"
    )

    card = said(
        "payment.captured",
        {"paymentId": "pay_1", "orderId": "ord_1", "amountMoney": usd(150000), "method": "card",
         "card": {"brand": "visa", "last4": "4242"}},
        ("customer", "cus_1"),
    )  # fmt: skip
    assert (card.title, card.tone, card.actor) == ("Card payment $1,500.00", "money", "Maria Alvarez (customer)")
    assert card.details == ["Visa •••• 4242", "Paid on Order 1 · Dispatch deposit"]

    cash = said(
        "payment.recorded", {"orderId": "ord_2", "amountMoney": usd(2000), "method": "check", "reference": "1042"}
    )
    assert cash.title == "Check payment $20.00" and "Reference 1042" in cash.details

    refund = said(
        "refund.created", {"paymentId": "pay_1", "orderId": "ord_1", "amountMoney": usd(2500), "reason": "late"}
    )
    assert (refund.title, refund.details) == ("Refund $25.00", ["Reason: late", "From Order 1 · Dispatch deposit"])

    rejected = said(
        "mutation.rejected", {"name": "job.setStatus", "code": "invalid_transition", "detail": "job is completed"}
    )
    assert (rejected.title, rejected.details, rejected.tone) == (
        "Device change refused: job.setStatus",
        ["invalid_transition: job is completed"],
        "bad",
    )


def test_texts_and_links_show_their_status_and_where_to_open_them() -> None:
    text = said("sms.queued", {"smsId": "sms_1", "to": "+15555550101", "paymentLinkId": "plink_1"})
    assert text.title == "Text to +15555550101"
    assert [(c.text, c.tone) for c in text.chips] == [("Delivered", "good")]
    assert [(x.label, x.href) for x in text.links] == [("Open the customer's phone", "/sandbox/phone/+15555550101")]
    link = said("payment_link.created", {"paymentLinkId": "plink_1", "orderId": "ord_1", "amountMoney": usd(7500)})
    assert link.title == "Payment link for $75.00"
    assert [c.text for c in link.chips] == ["Paid"]
    assert [x.href for x in link.links] == ["http://flint.test/pay/tok"]
    # Without a sandbox there is nothing to open.
    plain = said("sms.queued", {"smsId": "sms_1", "to": "+15555550101"}, look=Lookup())
    assert plain.links == [] and plain.chips == []


def test_a_job_charge_shows_once_with_how_it_was_applied() -> None:
    charge = said(
        "payment.captured",
        {
            "chargeId": "ch_1",
            "amountMoney": usd(120000),
            "method": "card",
            "card": {"brand": "visa", "last4": "4242"},
            "parts": [
                {"paymentId": "pay_1", "orderId": "ord_1", "amountMoney": usd(7500)},
                {"paymentId": "pay_2", "orderId": "ord_2", "amountMoney": usd(112500)},
            ],
        },
    )
    assert charge.title == "Card payment $1,200.00"
    assert charge.details == [
        "Visa •••• 4242",
        "$75.00 applied to Order 1 · Dispatch deposit",
        "$1,125.00 applied to Order 2 · Onsite",
    ]


def test_an_unknown_event_shows_its_type_and_its_data_in_words() -> None:
    entry = said(
        "invoice.reminder_sent",
        {"invoiceId": "inv_7", "orderId": "ord_2", "dueMoney": usd(32700), "attempt": 2, "late": True, "note": None},
        ("system", "scheduler"),
    )
    assert (entry.title, entry.actor) == ("invoice.reminder_sent", "Scheduler")
    assert entry.details == ["Invoice id: inv_7", "Order 2 · Onsite", "Due: $327.00", "Attempt: 2", "Late: yes"]
    # A known type whose data changed shape falls back the same way instead of failing the page.
    odd = said("job.assigned", {"technicianId": ["not", "an", "id"]})
    assert odd.title


def test_amounts_typed_by_people() -> None:
    assert rules.parse_amount("1,500", "USD") == 150000
    assert rules.parse_amount(" $1,500.5 ", "USD") == 150050
    assert rules.parse_amount("20.05", "USD") == 2005
    assert rules.parse_amount("1500", "JPY") == 1500
    for bad in ("", "abc", "1.005", "-5", "0", "0.00", "1e3"):
        with pytest.raises(InvalidRequest) as refused:
            rules.parse_amount(bad, "USD")
        assert refused.value.errors[0].field == "amount"
    with pytest.raises(InvalidRequest):
        rules.parse_amount("12.5", "JPY")


def test_syncs_read_as_fresh_or_stale() -> None:
    now = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
    assert rules.sync_state(None, now) == rules.SyncState(True, "Never synced")
    assert rules.sync_state("2026-05-01T13:57:00Z", now) == rules.SyncState(False, "Synced 3 min ago")
    assert rules.sync_state("2026-05-01T13:18:00Z", now) == rules.SyncState(True, "Not synced for 42 minutes")
    assert rules.sync_state("2026-05-01T09:00:00Z", now).text == "Not synced for 5 hours"
    assert rules.sync_state("2026-04-27T09:00:00Z", now).text == "Not synced for 4 days"


def test_refusals_read_as_money() -> None:
    over = RuleViolation(
        "amount_exceeds_balance", "the amount (20000) is more than the balance due (8900)", balance=8900
    )
    assert rules.in_words(over, "USD") == "That is more than the $89.00 still due."
    back = RuleViolation("refund_exceeds_payment", "…", refundable=150000)
    assert rules.in_words(back, "USD") == "At most $1,500.00 of that payment can still be refunded."
    assert rules.in_words(RuleViolation("something_new", "a rule broke"), "USD") == "A rule broke."
