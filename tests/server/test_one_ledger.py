"""One ledger (contract §3 v3), as a state machine: random sequences of orders made in any order
(deposit orders before and after the work), order links and job links paid by card, charges
held in doubt and settled either way, cash and checks by job and by order, refunds of any part,
add-ons, lines removed, orders moved between two jobs and cancelled. After every step, for both
jobs:

- the figures each order and job keeps equal the rule worked out from scratch (issue 19);
- the job's balance is one answer: the API's, a job link's, the board's, the trail page's and
  the device's (a snapshot pull shown by `sync.shown`);
- paying it leaves 0; nothing is negative; a charge is the sum of its parts;
- the deposit applied never exceeds what the deposits hold, and the customer never holds more
  on the job than the work plus what `depositUnappliedMoney` says can be refunded.
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from server.customers import service as customers
from server.customers.types import CreateCustomer
from server.dispatch import service as dispatch
from server.errors import FlintError
from server.jobs import service as jobs
from server.jobs.types import CreateJob
from server.links import checkout as link_checkout
from server.links import service as links
from server.money import MoneyIn, PositiveMoneyIn
from server.orders import ledger as kept
from server.orders import service as orders
from server.orders import store as orders_store
from server.orders.types import CreateOrder, LineItemIn, UpdateOrder
from server.payments import refunds
from server.payments import service as payments
from server.payments import store as payments_store
from server.payments.processor import Charge
from server.payments.service import Target
from server.payments.types import CreateRefund, RecordPayment
from server.replication import pull, push
from server.replication.mutations import Device
from server.store import Tx
from server.store.db import connect, write_sync
from server.store.migrations import migrate
from server.technicians import service as technicians
from server.technicians.types import CreateTechnician, EnrolDevice
from server.wire import Actor
from sync import ledger
from sync import protocol as p
from sync.shown import shown_jobs

OFFICE = Actor(kind="office", id="office")
PUBLIC = "http://flint.test"
AMOUNTS = st.integers(min_value=1, max_value=90_000)
NEAR = st.integers(min_value=-120, max_value=120)  # amounts near a limit are where rules matter
WHICH = st.integers(min_value=0, max_value=30)
SHARE = st.sampled_from([None, 0.25, 0.5, 1.0])  # of the balance; None: an amount of its own
APPROVED = Charge(approved=True, brand="visa", last4="4242", reference="ch_test")
DECLINED = Charge(approved=False, brand="visa", last4="0002", decline_code="card_declined")


def usd(amount: int) -> MoneyIn:
    return MoneyIn(amount, "USD")


def some(amount: int, share: float | None, anywhere: int, offset: int) -> int:
    """Part of `amount`, all of it, a little past it, or an amount of its own."""
    if share is None:
        return anywhere
    return max(1, int(amount * share) + (offset if share == 1.0 else 0))


class OneLedger(RuleBasedStateMachine):
    @initialize()
    def open_store(self) -> None:
        self.dir = tempfile.TemporaryDirectory()
        path = Path(self.dir.name) / "flint.db"
        migrate(str(path))
        self.conn = connect(path)
        self.conn.execute("PRAGMA synchronous = OFF")  # durability is not what this test is about
        self.tick = 0
        self.tech = self.run(lambda tx: technicians.create(tx, CreateTechnician(name="Sam"))).id
        customer = self.run(lambda tx: customers.create(tx, CreateCustomer("Ana", "+15555550101", "residential")))
        self.job_ids = [
            self.run(
                lambda tx, t=title: jobs.create(
                    tx, OFFICE, CreateJob(customer_id=customer.id, title=t, address="a", technician_id=self.tech)
                )
            ).id
            for title in ("Boiler", "Porch light")
        ]
        self.order_ids: list[str] = []
        self.in_doubt: list[str] = []  # card charges reserved, the processor not heard from yet
        enrolled = self.run(lambda tx: technicians.enrol_device(tx, self.tech, EnrolDevice(label="phone")))
        self.device = Device(Actor(kind="device", id=enrolled.id), self.tech, PUBLIC, "Flint")
        self.device_id = enrolled.id
        self.mutation_id = 0

    def teardown(self) -> None:
        if hasattr(self, "conn"):
            self.conn.close()
            self.dir.cleanup()

    def run(self, unit: Any) -> Any:
        self.tick += 1
        return write_sync(
            self.conn,
            f"2026-05-01T{self.tick // 3600 % 24:02d}:{self.tick // 60 % 60:02d}:{self.tick % 60:02d}.000Z",
            unit,
        )

    def attempt(self, unit: Any) -> Any:
        """A step that may break a rule; a refused step must leave no trace."""
        try:
            return self.run(unit)
        except FlintError:
            return None

    def ready(self) -> bool:
        return hasattr(self, "conn")

    def has_orders(self) -> bool:
        return self.ready() and bool(self.order_ids)

    def order_row(self, which: int) -> Any:
        order_id = self.order_ids[which % len(self.order_ids)]
        return self.run(lambda tx: orders_store.get(tx, order_id))

    def job_id(self, which: int) -> str:
        return self.job_ids[which % 2]

    # Steps.

    @precondition(ready)
    @rule(which=WHICH, deposit=st.booleans(), amount=AMOUNTS, extra=st.one_of(st.none(), AMOUNTS))
    def make_an_order(self, which: int, deposit: bool, amount: int, extra: int | None) -> None:
        lines = [LineItemIn(name="Deposit" if deposit else "Repair", quantity=1, unit_price_money=usd(amount))]
        if extra is not None:
            lines.append(LineItemIn(name="Travel", quantity=1, unit_price_money=usd(extra), kind="travel"))
        stage = "dispatch_deposit" if deposit else "work"
        data = CreateOrder(line_items=lines, metadata={"jobId": self.job_id(which), "paymentStage": stage})
        made = self.attempt(lambda tx: orders.create(tx, OFFICE, data))
        if made is not None:
            self.order_ids.append(made.id)

    @precondition(has_orders)
    @rule(
        which=WHICH, kind=st.sampled_from(["addon", "material", "discount"]), amount=AMOUNTS, quantity=st.integers(1, 3)
    )
    def add_a_line(self, which: int, kind: str, amount: int, quantity: int) -> None:
        order_id = self.order_row(which)["id"]
        line = LineItemIn(name="x", quantity=quantity, unit_price_money=usd(amount), kind=kind)  # type: ignore[arg-type]
        self.attempt(lambda tx: orders.add_line_items(tx, OFFICE, order_id, [line]))

    @precondition(ready)
    @rule(which=WHICH, amount=AMOUNTS)
    def add_an_add_on_by_job(self, which: int, amount: int) -> None:
        line = LineItemIn(name="Add-on", quantity=1, unit_price_money=usd(amount), kind="addon")
        made = self.attempt(lambda tx: orders.add_to_job(tx, OFFICE, self.job_id(which), [line]))
        if made is not None and made not in self.order_ids:
            self.order_ids.append(made)

    @precondition(ready)
    @rule(
        lines=st.lists(
            st.tuples(st.one_of(st.none(), WHICH), WHICH, st.integers(-30_000, 60_000), st.booleans()),
            min_size=1,
            max_size=8,
        )
    )
    def push_add_ons(self, lines: list[tuple[int | None, int, int, bool]]) -> None:
        """A device's push of several add-ons (by order, or by job), some breaking rules (a deposit
        order, a discount past what was paid, a uid used twice): the batch takes each or refuses it."""
        mutations = []
        for by_order, which, amount, again in lines:
            if by_order is not None and not self.order_ids:
                continue
            self.mutation_id += 1
            uid = "dup" if again else f"u{self.mutation_id}"
            kind, price = ("discount", -amount) if amount < 0 else ("addon", max(1, amount))
            where = {"jobId": self.job_id(which)} if by_order is None else {"orderId": self.order_row(by_order)["id"]}
            args = {
                **where,
                "uid": uid,
                "name": "Add-on",
                "quantity": 1,
                "unitPriceMoney": {"amount": price, "currency": "USD"},
                "kind": kind,
            }
            mutations.append(msgspec.json.encode({"id": self.mutation_id, "name": "order.addLineItem", "args": args}))
        if not mutations:
            return
        request = p.PushRequest(client_id="phone", schema_version=1, mutations=[msgspec.Raw(m) for m in mutations])
        found = push.envelopes(request)
        outcome = self.run(lambda tx: push.push(tx, request, found, self.device, self.device_id))
        for result in outcome.results:
            if result.status == "applied" and result.data and result.data["orderId"] not in self.order_ids:
                self.order_ids.append(result.data["orderId"])

    @precondition(has_orders)
    @rule(which=WHICH, index=WHICH)
    def remove_a_line(self, which: int, index: int) -> None:
        order_id = self.order_row(which)["id"]
        own = self.run(lambda tx: orders.get(tx, order_id)).line_items
        if own:
            uid = own[index % len(own)].uid
            self.attempt(lambda tx: orders.remove_line_item(tx, OFFICE, order_id, uid))

    @precondition(ready)
    @rule(which=WHICH, by_order=st.one_of(st.none(), WHICH), share=SHARE, anywhere=AMOUNTS, offset=NEAR)
    def cash_or_check(self, which: int, by_order: int | None, share: float | None, anywhere: int, offset: int) -> None:
        if by_order is not None and not self.order_ids:
            return
        target = (
            Target(job_id=self.job_id(which)) if by_order is None else Target(order_id=self.order_row(by_order)["id"])
        )
        due = self.run(lambda tx: payments.owed(tx, target).due)
        amount = some(due, share, anywhere, offset)
        data = RecordPayment(
            job_id=target.job_id, order_id=target.order_id, amount_money=PositiveMoneyIn(amount, "USD"), method="cash"
        )
        self.attempt(lambda tx: payments.record_offline(tx, OFFICE, data, business="Flint"))

    @precondition(ready)
    @rule(which=WHICH, by_order=st.one_of(st.none(), WHICH), fixed=st.one_of(st.none(), AMOUNTS))
    def a_link_paid_by_card(self, which: int, by_order: int | None, fixed: int | None) -> None:
        """An order or job link (a balance link, or a fixed one), its card charge reserved through
        the one checkout's own step and left in doubt until a `settle` step."""
        if by_order is not None and not self.order_ids:
            return
        target = (
            Target(job_id=self.job_id(which)) if by_order is None else Target(order_id=self.order_row(by_order)["id"])
        )

        def begin(tx: Tx) -> Any:
            link = links.open_link(tx, OFFICE, target, name="Pay", amount=fixed).link
            now = link_checkout.charging_now(tx, link["token"], PUBLIC)
            if now is None:
                return None
            return payments.reserve_card(tx, now.actor, now.target, now.amount.amount, now.collecting)

        attempt = self.attempt(begin)
        if attempt is not None:
            self.in_doubt.append(attempt.charge_id)

    @precondition(lambda self: self.ready() and bool(self.in_doubt))
    @rule(index=WHICH, approved=st.booleans())
    def settle(self, index: int, approved: bool) -> None:
        charge_id = self.in_doubt.pop(index % len(self.in_doubt))
        result = APPROVED if approved else DECLINED
        self.run(lambda tx: payments.settle_card(tx, OFFICE, charge_id, result, "Flint"))

    @precondition(ready)
    @rule(index=WHICH, share=SHARE, anywhere=AMOUNTS, offset=NEAR)
    def refund(self, index: int, share: float | None, anywhere: int, offset: int) -> None:
        captured = self.run(lambda tx: payments_store.charges_in_status(tx, "captured"))
        parts = [part for c in captured for part in self.run(lambda tx, c=c: payments_store.parts_of(tx, c["id"]))]
        if not parts:
            return
        part = parts[index % len(parts)]
        left = part["amount"] - self.run(lambda tx: payments_store.refunded(tx, [part["id"]]))[part["id"]]
        data = CreateRefund(
            payment_id=part["id"], amount_money=PositiveMoneyIn(some(left, share, anywhere, offset), "USD"), reason="r"
        )

        def refund_now(tx: Tx) -> Any:
            plan = refunds.plan_refund(tx, data)
            return refunds.complete_refund(tx, OFFICE, plan.refund_id, "Flint")

        self.attempt(refund_now)

    @precondition(has_orders)
    @rule(which=WHICH)
    def move_to_the_other_job(self, which: int) -> None:
        row = self.order_row(which)
        metadata = {**orders_store.decode_metadata(row["metadata"])}
        metadata["jobId"] = self.job_ids[1] if row["job_id"] == self.job_ids[0] else self.job_ids[0]
        self.attempt(
            lambda tx: orders.update(tx, OFFICE, row["id"], UpdateOrder(version=row["version"], metadata=metadata))
        )

    @precondition(has_orders)
    @rule(which=WHICH, state=st.sampled_from(["completed", "cancelled"]))
    def close(self, which: int, state: str) -> None:
        row = self.order_row(which)
        self.attempt(lambda tx: orders.update(tx, OFFICE, row["id"], UpdateOrder(version=row["version"], state=state)))  # type: ignore[arg-type]

    # What must hold after every step.

    @invariant()
    def kept_figures_are_the_rule_from_scratch(self) -> None:
        if not self.ready():
            return
        for job_id in self.job_ids:
            rows = self.run(lambda tx, j=job_id: orders_store.for_job(tx, j))
            monies, want = self.run(lambda tx, j=job_id: kept.from_scratch(tx, j))
            assert [kept.money_of(r) for r in rows] == monies
            for row in rows:
                own = want.of(row["id"])
                assert (row["applied"], row["refunded_deposit"]) == (own.applied, own.refunded_deposit)
                if row["state"] != "cancelled":
                    assert (row["total"], row["balance"]) == (own.total, own.balance)
            job = self.run(lambda tx, j=job_id: kept.jobs_money(tx, [j]))[job_id]
            assert (job.total, job.paid, job.refunded, job.balance, job.unapplied) == (
                want.total, want.paid, want.refunded, want.balance, want.unapplied,
            )  # fmt: skip

    @invariant()
    def the_balance_is_one_answer_everywhere(self) -> None:
        if not self.ready():
            return
        board = self.run(lambda tx: dispatch.board(tx))
        snapshot = self.run(
            lambda tx: pull.pull(
                tx, p.PullRequest(client_id="c1", schema_version=1, limit=1000), self.tech, "dev", PUBLIC
            )
        )[0]
        raw: dict[str, list[bytes]] = {}
        for change in snapshot.changes:
            raw.setdefault(change.entity, []).append(msgspec.json.encode(change.data))
        device = {
            j.id: j for j in shown_jobs(raw.get("job", []), raw.get("customer", []), raw.get("order", []), [], []).jobs
        }
        for job_id in self.job_ids:
            api = self.run(lambda tx, j=job_id: jobs.get(tx, j)).payment
            balance = api.balance_money.amount
            link = self.run(lambda tx, j=job_id: payments.owed(tx, Target(job_id=j)).due)
            on_board = next(line for line in board.jobs if line.job.id == job_id).job.payment.balance_money.amount
            trail_page = self.run(lambda tx, j=job_id: dispatch.job_page(tx, j, PUBLIC, False)).due.amount
            assert balance == link == on_board == trail_page == device[job_id].balance
            assert (api.total_money.amount, api.paid_money.amount) == (device[job_id].total, device[job_id].paid)

    @invariant()
    def paying_the_balance_leaves_nothing_and_nothing_is_negative(self) -> None:
        if not self.ready():
            return
        for job_id in self.job_ids:
            rows = self.run(lambda tx, j=job_id: orders_store.for_job(tx, j))
            monies = [kept.money_of(r) for r in rows]
            figures = ledger.figure(monies)
            parts = ledger.allocate(monies)
            assert sum(part for _, part in parts) == figures.balance
            paid = {order_id: part for order_id, part in parts}
            after = [replace(m, paid=m.paid + paid.get(m.id, 0)) for m in monies]
            assert ledger.figure(after).balance == 0
            assert min(figures.total, figures.balance, figures.unapplied, figures.paid - figures.refunded) >= 0
            for own in figures.orders.values():
                assert min(own.applied, own.total, own.balance, own.refunded_deposit) >= 0
            deposits_hold = sum(max(0, m.held) for m in monies if m.deposit and not m.cancelled)
            applied = sum(own.applied for own in figures.orders.values())
            assert applied <= deposits_hold
            assert applied + figures.unapplied == deposits_hold
            held = sum(m.held for m in monies)
            work = sum(m.base for m in monies if m.work) if figures.has_work else figures.total
            assert held <= work + figures.unapplied

    @invariant()
    def each_charge_is_its_parts(self) -> None:
        if not self.ready():
            return
        for status in ("pending", "captured", "declined"):
            for charge in self.run(lambda tx, s=status: payments_store.charges_in_status(tx, s)):
                parts = self.run(lambda tx, c=charge: payments_store.parts_of(tx, c["id"]))
                assert sum(part["amount"] for part in parts) == charge["amount"]
                assert {part["status"] for part in parts} == {status}


OneLedger.TestCase.settings = settings(
    max_examples=40, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestOneLedger = OneLedger.TestCase
