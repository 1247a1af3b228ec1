"""Random sequences of line-item changes, payments and refunds never break the money rules."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from server.customers import service as customers
from server.customers.types import CreateCustomer
from server.errors import FlintError
from server.jobs import service as jobs
from server.jobs.types import CreateJob
from server.links import checkout
from server.links import service as links
from server.money import Money
from server.orders import service as orders
from server.orders.types import CreateOrder, LineItemIn, UpdateOrder
from server.payments import service as payments
from server.payments.processor import Charge
from server.payments.types import CreateRefund, RecordPayment
from server.store import Tx
from server.store.db import connect, write_sync
from server.store.migrations import migrate
from server.trail import service as trail
from server.wire import Actor

T = TypeVar("T")
OFFICE = Actor(kind="office", id="office")
KINDS = st.sampled_from(["service", "addon", "travel", "material", "deposit", "discount"])
AMOUNTS = st.integers(min_value=1, max_value=60_000)
# Amounts near the limit are where the rules matter: draw an offset from it as often as not.
NEAR = st.integers(min_value=-150, max_value=150)


def near(limit: int, offset: int | None, anywhere: int) -> int:
    return anywhere if offset is None else max(1, limit + offset)


class MoneyRules(RuleBasedStateMachine):
    @initialize()
    def open_store(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        path = Path(self.dir.name) / "flint.db"
        migrate(str(path))
        self.conn = connect(path)
        self.conn.execute("PRAGMA synchronous = OFF")  # durability is not what this test is about
        self.tick = 0
        customer = self.run(lambda tx: customers.create(tx, CreateCustomer("Ana", "+15555550101", "residential")))
        self.job_id = self.run(
            lambda tx: jobs.create(tx, OFFICE, CreateJob(customer_id=customer.id, title="t", address="a"))
        ).id
        self.order_id = self.run(lambda tx: orders.create(tx, OFFICE, CreateOrder(metadata={"jobId": self.job_id}))).id

    def teardown(self) -> None:
        if hasattr(self, "conn"):
            self.conn.close()
            self.dir.cleanup()

    def run(self, unit: Any) -> Any:
        self.tick += 1
        return write_sync(self.conn, f"2026-05-01T14:{self.tick // 60 % 60:02d}:{self.tick % 60:02d}.000Z", unit)

    def attempt(self, unit: Any) -> Any:
        """A step that may break a rule; a refused step must leave no trace."""
        try:
            return self.run(unit)
        except FlintError:
            return None

    @rule(kind=KINDS, amount=st.integers(min_value=0, max_value=40_000), quantity=st.integers(1, 4))
    def add_line_item(self, kind: str, amount: int, quantity: int) -> None:
        line = LineItemIn(name="x", quantity=quantity, unit_price_money=Money(amount, "USD"), kind=kind)  # type: ignore[arg-type]
        self.attempt(lambda tx: orders.add_line_items(tx, OFFICE, self.order_id, [line]))

    @rule(index=st.integers(min_value=0, max_value=20))
    def remove_line_item(self, index: int) -> None:
        lines = self.order().line_items
        if lines:
            uid = lines[index % len(lines)].uid
            self.attempt(lambda tx: orders.remove_line_item(tx, OFFICE, self.order_id, uid))

    def settled(self) -> list[Any]:
        return self.run(lambda tx: payments.list_page(tx, 0, 200, self.order_id)).data  # type: ignore[no-any-return]

    def due(self) -> bool:
        return hasattr(self, "conn") and self.order().balance_money.amount > 0

    def refundable(self) -> bool:
        return hasattr(self, "conn") and any(p.status == "captured" for p in self.settled())

    @precondition(due)
    @rule(anywhere=AMOUNTS, offset=st.one_of(st.none(), NEAR), method=st.sampled_from(["cash", "check"]))
    def record_payment(self, anywhere: int, offset: int | None, method: str) -> None:
        amount = near(self.order().balance_money.amount, offset, anywhere)
        data = RecordPayment(order_id=self.order_id, amount_money=Money(amount, "USD"), method=method)  # type: ignore[arg-type]
        self.attempt(lambda tx: payments.record_offline(tx, OFFICE, data))

    @precondition(due)
    @rule(anywhere=st.one_of(st.none(), AMOUNTS), offset=st.one_of(st.none(), NEAR), approved=st.booleans())
    def pay_by_link(self, anywhere: int | None, offset: int | None, approved: bool) -> None:
        balance = self.order().balance_money.amount
        amount = anywhere if offset is None else max(1, balance + offset)

        def open_it(tx: Tx) -> Any:
            return links.open_link(tx, OFFICE, orders.load(tx, self.order_id), name="n", amount=amount)

        link = self.attempt(open_it)
        if link is None:
            return
        attempt = self.attempt(lambda tx: checkout.begin(tx, link["token"]))
        if attempt is None:
            return
        charge = Charge(
            approved=approved,
            brand="visa",
            last4="4242",
            reference="ch",
            decline_code=None if approved else "card_declined",
        )
        self.run(lambda tx: checkout.finish(tx, attempt, charge))

    @precondition(refundable)
    @rule(index=st.integers(min_value=0, max_value=20), anywhere=AMOUNTS, offset=st.one_of(st.none(), NEAR))
    def refund(self, index: int, anywhere: int, offset: int | None) -> None:
        paid = self.settled()
        payment = paid[index % len(paid)]
        left = payment.amount_money.amount - payment.refunded_money.amount
        amount = near(left, offset, anywhere)
        data = CreateRefund(payment_id=payment.id, amount_money=Money(amount, "USD"), reason="r")

        def refund_now(tx: Tx) -> Any:
            plan = payments.plan_refund(tx, data)
            return payments.complete_refund(tx, OFFICE, plan.refund_id)

        self.attempt(refund_now)

    @rule(state=st.sampled_from(["completed", "cancelled"]))
    def close(self, state: str) -> None:
        version = self.order().version
        self.attempt(lambda tx: orders.update(tx, OFFICE, self.order_id, UpdateOrder(version=version, state=state)))  # type: ignore[arg-type]

    def order(self) -> Any:
        return self.run(lambda tx: orders.get(tx, self.order_id))

    @invariant()
    def figures_hold(self) -> None:
        if not hasattr(self, "conn"):
            return
        order = self.order()
        total, paid, refunded, balance = (
            order.total_money.amount,
            order.paid_money.amount,
            order.refunded_money.amount,
            order.balance_money.amount,
        )
        assert balance == total - (paid - refunded)
        assert min(total, paid, refunded, balance) >= 0
        assert refunded <= paid
        assert all(line.total_money.amount >= 0 for line in order.line_items)
        summary = self.run(lambda tx: jobs.get(tx, self.job_id)).payment
        if order.state != "cancelled":
            assert summary.balance_money.amount == balance
        assert summary.paid_money.amount == paid

    @invariant()
    def every_money_change_is_on_the_trail(self) -> None:
        if not hasattr(self, "conn"):
            return
        events = self.run(lambda tx: trail.for_job(tx, self.job_id)).events
        settled = self.run(lambda tx: payments.list_page(tx, 0, 200, self.order_id)).data
        for payment in settled:
            assert payment.refunded_money.amount <= payment.amount_money.amount
            mentions = [e for e in events if e.data.get("paymentId") == payment.id and e.type.startswith("payment.")]
            assert len(mentions) == 1, (payment, mentions)
        refunds = [e for e in events if e.type == "refund.created"]
        assert sum(e.data["amountMoney"].get("amount") for e in refunds) == self.order().refunded_money.amount


MoneyRules.TestCase.settings = settings(
    max_examples=80, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestMoneyRules = MoneyRules.TestCase
