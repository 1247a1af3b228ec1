"""Random sequences of job-level and order-level payments, refunds and line-item changes across
several orders (a deposit order among them) never break the money rules."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from server.customers import service as customers
from server.customers.types import CreateCustomer
from server.errors import FlintError
from server.jobs import service as jobs
from server.jobs.types import CreateJob
from server.money import MoneyIn, PositiveMoneyIn
from server.orders import deposits
from server.orders import service as orders
from server.orders.types import CreateOrder, LineItemIn, UpdateOrder
from server.payments import refunds
from server.payments import service as payments
from server.payments import store as payments_store
from server.payments.processor import Charge
from server.payments.service import Collecting, Target
from server.payments.types import CreateRefund, RecordPayment
from server.store import Tx
from server.store.db import connect, write_sync
from server.store.migrations import migrate
from server.trail import service as trail
from server.wire import Actor
from sync import ledger

OFFICE = Actor(kind="office", id="office")
KINDS = st.sampled_from(["service", "addon", "travel", "material", "deposit", "discount"])
AMOUNTS = st.integers(min_value=1, max_value=60_000)
# Amounts near a limit are where the rules matter: draw an offset from it as often as not.
NEAR = st.integers(min_value=-150, max_value=150)
WHICH = st.integers(min_value=0, max_value=20)


def near(limit: int, offset: int | None, anywhere: int) -> int:
    return anywhere if offset is None else max(1, limit + offset)


def usd(amount: int) -> MoneyIn:
    return MoneyIn(amount, "USD")


class JobMoneyRules(RuleBasedStateMachine):
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
        deposit = CreateOrder(
            line_items=[LineItemIn(name="Dispatch deposit", quantity=1, unit_price_money=usd(7500), kind="deposit")],
            metadata={"jobId": self.job_id, "paymentStage": "dispatch_deposit"},
        )
        self.order_ids = [self.run(lambda tx: orders.create(tx, OFFICE, deposit)).id]
        work = CreateOrder(metadata={"jobId": self.job_id, "paymentStage": "onsite"})
        for _ in range(2):
            self.order_ids.append(self.run(lambda tx: orders.create(tx, OFFICE, work)).id)

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

    def order(self, index: int) -> Any:
        order_id = self.order_ids[index % len(self.order_ids)]
        return self.run(lambda tx: orders.get(tx, order_id))

    def job(self) -> Any:
        return self.run(lambda tx: jobs.get(tx, self.job_id))

    def due(self) -> int:
        return int(self.run(lambda tx: payments.owed(tx, Target(job_id=self.job_id)).due))

    def settled(self) -> list[Any]:
        return self.run(lambda tx: payments.list_page(tx, 0, 200, None, self.job_id)).data  # type: ignore[no-any-return]

    def ready(self) -> bool:
        return hasattr(self, "conn")

    @precondition(ready)
    @rule(which=WHICH, kind=KINDS, amount=st.integers(min_value=0, max_value=40_000), quantity=st.integers(1, 4))
    def add_line_item(self, which: int, kind: str, amount: int, quantity: int) -> None:
        line = LineItemIn(name="x", quantity=quantity, unit_price_money=usd(amount), kind=kind)  # type: ignore[arg-type]
        order_id = self.order(which).id
        self.attempt(lambda tx: orders.add_line_items(tx, OFFICE, order_id, [line]))

    @precondition(ready)
    @rule(which=WHICH, index=WHICH)
    def remove_line_item(self, which: int, index: int) -> None:
        order = self.order(which)
        if order.line_items:
            uid = order.line_items[index % len(order.line_items)].uid
            self.attempt(lambda tx: orders.remove_line_item(tx, OFFICE, order.id, uid))

    @precondition(ready)
    @rule(which=WHICH, anywhere=AMOUNTS, offset=st.one_of(st.none(), NEAR), method=st.sampled_from(["cash", "check"]))
    def pay_an_order(self, which: int, anywhere: int, offset: int | None, method: str) -> None:
        order = self.order(which)
        amount = near(order.balance_money.amount, offset, anywhere)
        data = RecordPayment(order_id=order.id, amount_money=PositiveMoneyIn(amount, "USD"), method=method)  # type: ignore[arg-type]
        self.attempt(lambda tx: payments.record_offline(tx, OFFICE, data))

    @precondition(ready)
    @rule(anywhere=AMOUNTS, offset=st.one_of(st.none(), NEAR), method=st.sampled_from(["cash", "check"]))
    def pay_the_job(self, anywhere: int, offset: int | None, method: str) -> None:
        amount = near(self.due(), offset, anywhere)
        data = RecordPayment(job_id=self.job_id, amount_money=PositiveMoneyIn(amount, "USD"), method=method)  # type: ignore[arg-type]
        self.attempt(lambda tx: payments.record_offline(tx, OFFICE, data))

    @precondition(ready)
    @rule(which=st.one_of(st.none(), WHICH), whole=st.booleans(), anywhere=AMOUNTS, approved=st.booleans())
    def pay_by_card(self, which: int | None, whole: bool, anywhere: int, approved: bool) -> None:
        target = Target(job_id=self.job_id) if which is None else Target(order_id=self.order(which).id)
        collecting = Collecting(source="pay_link")
        amount = None if whole else anywhere
        attempt = self.attempt(lambda tx: payments.reserve_card(tx, OFFICE, target, amount, collecting))
        if attempt is None:
            return
        result = Charge(
            approved=approved,
            brand="visa",
            last4="4242",
            reference="ch",
            decline_code=None if approved else "card_declined",
        )
        self.run(lambda tx: payments.settle_card(tx, OFFICE, attempt.charge_id, result, "Flint"))

    @precondition(lambda self: self.ready() and any(p.status == "captured" for p in self.settled()))
    @rule(index=WHICH, anywhere=AMOUNTS, offset=st.one_of(st.none(), NEAR))
    def refund(self, index: int, anywhere: int, offset: int | None) -> None:
        paid = self.settled()
        payment = paid[index % len(paid)]
        left = payment.amount_money.amount - payment.refunded_money.amount
        data = CreateRefund(
            payment_id=payment.id, amount_money=PositiveMoneyIn(near(left, offset, anywhere), "USD"), reason="r"
        )

        def refund_now(tx: Tx) -> Any:
            plan = refunds.plan_refund(tx, data)
            return refunds.complete_refund(tx, OFFICE, plan.refund_id)

        self.attempt(refund_now)

    @precondition(ready)
    @rule(which=WHICH, state=st.sampled_from(["completed", "cancelled"]))
    def close(self, which: int, state: str) -> None:
        order = self.order(which)
        self.attempt(lambda tx: orders.update(tx, OFFICE, order.id, UpdateOrder(version=order.version, state=state)))  # type: ignore[arg-type]

    @invariant()
    def every_order_and_the_job_add_up(self) -> None:
        if not self.ready():
            return
        shown = [self.order(i) for i in range(len(self.order_ids))]
        for order in shown:
            total, paid, refunded, balance = (
                order.total_money.amount,
                order.paid_money.amount,
                order.refunded_money.amount,
                order.balance_money.amount,
            )
            assert balance == total - (paid - refunded)
            assert min(total, paid, refunded, balance) >= 0, order
            assert refunded <= paid
            assert all(line.total_money.amount >= 0 for line in order.line_items)
        summary = self.job().payment
        live = [o for o in shown if o.state != "cancelled"]
        assert summary.total_money.amount == sum(o.total_money.amount for o in live)
        assert summary.paid_money.amount == sum(o.paid_money.amount for o in shown)
        assert summary.refunded_money.amount == sum(o.refunded_money.amount for o in shown)
        assert summary.balance_money.amount == sum(o.balance_money.amount for o in live) - sum(
            o.paid_money.amount - o.refunded_money.amount for o in shown if o.state == "cancelled"
        )
        assert min(summary.total_money.amount, summary.deposit_unapplied_money.amount) >= 0

    @invariant()
    def the_deposit_applied_is_the_ledgers(self) -> None:
        if not self.ready():
            return
        found = self.run(lambda tx: deposits.job_money(tx, self.job_id))
        application = ledger.deposit_application([money for _, money in found])
        for row, money in found:
            order = self.order(self.order_ids.index(row["id"]))
            applied = sum(line.total_money.amount for line in order.line_items if line.kind == "deposit_applied")
            assert applied == (0 if money.deposit or money.cancelled else application.of(row["id"]))
        assert self.job().payment.deposit_unapplied_money.amount == application.unapplied

    @invariant()
    def each_charge_is_its_parts_and_is_on_the_trail_once(self) -> None:
        if not self.ready():
            return
        events = self.run(lambda tx: trail.for_job(tx, self.job_id)).events
        charged = [e for e in events if e.type in ("payment.captured", "payment.recorded", "payment.declined")]
        seen: set[str] = set()
        for event in charged:
            charge_id = event.data["chargeId"]
            assert charge_id not in seen
            seen.add(charge_id)
            parts = self.run(lambda tx, c=charge_id: payments_store.parts_of(tx, c))
            assert sum(p["amount"] for p in parts) == event.data["amountMoney"]["amount"]
            assert [p["id"] for p in parts] == [part["paymentId"] for part in event.data["parts"]]
        for payment in self.settled():
            assert payment.charge_id in seen
            assert payment.refunded_money.amount <= payment.amount_money.amount
        refunded = [e for e in events if e.type == "refund.created"]
        assert sum(e.data["amountMoney"]["amount"] for e in refunded) == self.job().payment.refunded_money.amount


JobMoneyRules.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestJobMoneyRules = JobMoneyRules.TestCase
