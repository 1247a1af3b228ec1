"""`flint serve --demo`: a store with a few customers, technicians with enrolled devices, jobs and
orders, so the product explains itself in a minute. Seeding happens once per database file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import msgspec

from server.approvals import service as approvals
from server.clock import Clock, format_time, parse_time, system_clock
from server.config import DEFAULT_BUSINESS_NAME
from server.customers import service as customers
from server.customers import store as customers_store
from server.customers.types import CreateCustomer
from server.estimates import drafting
from server.estimates import service as estimates
from server.estimates.types import CreateEstimate, DepositIn, EstimateOptionIn
from server.ids import hash_token, new_id
from server.invoices import service as invoices
from server.invoices.types import CreateInvoice, PaymentRequestIn, RecipientIn
from server.jobs import service as jobs
from server.jobs.types import CreateJob, JobStatus, UpdateJob
from server.orders import service as orders
from server.orders.types import CreateOrder, LineItemIn, Metadata
from server.payments import service as payments
from server.payments.processor import CardDetails, Charge
from server.payments.sandbox import SandboxProcessor, file_beside
from server.payments.service import Collecting, Target
from server.plans import service as plans
from server.plans.types import Billing, CreateServicePlan, Interval
from server.publishing import publisher
from server.store import Tx
from server.store.db import connect, write_sync
from server.store.migrations import migrate
from server.technicians import service as technicians
from server.technicians import store as technicians_store
from server.technicians.types import CreateTechnician
from server.wire import Actor

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "demo.json"
SYSTEM = Actor(kind="system", id="demo")


class DemoInvoice(msgspec.Struct, rename="camel"):
    """A published invoice for the order: a deposit share due soon, the balance later."""

    recipient: RecipientIn
    deposit_percentage: float
    deposit_due_in_days: int
    balance_due_in_days: int
    po_number: str | None = None


class DemoOrder(msgspec.Struct, rename="camel"):
    line_items: list[LineItemIn]
    metadata: Metadata = {}
    paid_by_card: bool = False  # the customer already paid it (a dispatch deposit, say)
    invoice: DemoInvoice | None = None


class DemoPlan(msgspec.Struct, rename="camel"):
    """A service plan starting today, its first period billed (an autopay plan's first charge is
    made by the server's billing run at start-up, to the sandbox `card` its customer saved)."""

    customer: str
    name: str
    line_items: list[LineItemIn]
    interval: Interval
    billing: Billing
    address: str | None = None
    card: str | None = None


class DemoEstimate(msgspec.Struct, rename="camel"):
    """An estimate on the job, sent to its customer (open, their text on their sandbox phone)."""

    title: str
    options: list[EstimateOptionIn]
    deposit: DepositIn | None = None
    terms: str | None = None


class DemoJob(msgspec.Struct, rename="camel"):
    key: str
    customer: str
    technician: str | None
    title: str
    address: str
    scheduled_in_hours: Annotated[int, msgspec.Meta(ge=0)]
    orders: list[DemoOrder]
    status: JobStatus | None = None
    change_order: list[LineItemIn] = []  # lines added to the work order that wait for the customer, who is asked
    estimate: DemoEstimate | None = None


class DemoCustomer(CreateCustomer, rename="camel"):
    key: str = ""


class DemoTechnician(CreateTechnician, rename="camel"):
    key: str = ""
    device: str | None = None


class Fixtures(msgspec.Struct, rename="camel"):
    device_token: str
    customers: list[DemoCustomer]
    technicians: list[DemoTechnician]
    jobs: list[DemoJob]
    plans: list[DemoPlan] = []


@dataclass(frozen=True)
class DemoInfo:
    device_token: str
    first_phone: str
    seeded: bool
    estimate_url: str | None = None  # the open estimate's page, as its customer's text has it


def load_fixtures(path: Path = FIXTURES) -> Fixtures:
    return msgspec.json.decode(path.read_bytes(), type=Fixtures)


def seed(
    db_path: str,
    clock: Clock = system_clock,
    fixtures: Fixtures | None = None,
    *,
    public_url: str = "http://127.0.0.1:8000",
    business: str = DEFAULT_BUSINESS_NAME,
) -> DemoInfo:
    """Load the demo fixtures into an empty store; a store that has customers is left alone."""
    data = fixtures or load_fixtures()
    migrate(db_path)
    now = clock()

    def unit(tx: Tx) -> bool:
        if customers_store.any_exist(tx):
            return False
        customer_ids = {c.key: customers.create(tx, c).id for c in data.customers}
        technician_ids: dict[str, str] = {}
        for index, t in enumerate(data.technicians):
            technician_ids[t.key] = technicians.create(tx, t).id
            if t.device is not None:
                # The first device gets the fixture's known token, so the demo can print it every start.
                token = data.device_token if index == 0 else f"{data.device_token}_{index}"
                technicians_store.insert_device(tx, new_id("dev"), technician_ids[t.key], t.device, hash_token(token))
        for j in data.jobs:
            job = jobs.create(
                tx,
                SYSTEM,
                CreateJob(
                    customer_id=customer_ids[j.customer],
                    title=j.title,
                    address=j.address,
                    technician_id=technician_ids.get(j.technician or ""),
                    scheduled_at=format_time(now + timedelta(hours=j.scheduled_in_hours)),
                ),
            )
            for o in j.orders:
                made = orders.create(
                    tx, SYSTEM, CreateOrder(line_items=o.line_items, metadata={**o.metadata, "jobId": job.id})
                )
                if o.paid_by_card:
                    _paid_by_card(tx, made.id, made.customer_id)
                if o.invoice is not None:
                    _invoice(tx, made.id, o.invoice, public_url, business)
            if j.change_order:
                work = orders.add_to_job(tx, SYSTEM, job.id, j.change_order)
                approvals.ask(tx, SYSTEM, orders.load(tx, work), None, None, public_url=public_url, business=business)
            if j.estimate is not None:
                _estimate(tx, job.id, j.estimate, public_url, business)
            if j.status is not None:
                jobs.update(tx, SYSTEM, job.id, UpdateJob(version=job.version, status=j.status))
        for p in data.plans:
            if p.card is not None:
                _card_on_file(tx, db_path, customer_ids[p.customer], p.card, now.year + 3)
            plan = plans.create(
                tx,
                SYSTEM,
                CreateServicePlan(
                    customer_id=customer_ids[p.customer],
                    name=p.name,
                    line_items=p.line_items,
                    interval=p.interval,
                    start_date=now.date().isoformat(),
                    billing=p.billing,
                    address=p.address,
                ),
            )
            plans.bill_next(tx, plan.id, now.date(), public_url, business)
        return True

    conn = connect(db_path)
    try:
        seeded = write_sync(conn, format_time(now), unit, finishing=[publisher(public_url).finish])
        # The open estimate's page, to print (seeded now or on an earlier start).
        estimate_url = write_sync(conn, format_time(now), partial(estimates.first_open_url, public_url=public_url))
    finally:
        conn.close()
    return DemoInfo(
        device_token=data.device_token, first_phone=data.customers[0].phone, seeded=seeded, estimate_url=estimate_url
    )


def _estimate(tx: Tx, job_id: str, demo: DemoEstimate, public_url: str, business: str) -> None:
    """As if the office had drafted the estimate and sent it: its customer got the text."""
    made = drafting.create(
        tx,
        SYSTEM,
        CreateEstimate(job_id=job_id, title=demo.title, options=demo.options, deposit=demo.deposit, terms=demo.terms),
        public_url,
    )
    estimates.send(tx, SYSTEM, made.id, None, public_url, business)


def _paid_by_card(tx: Tx, order_id: str, customer_id: str | None) -> None:
    """As if the customer had paid the order on its pay page with the sandbox's test card."""
    customer = Actor(kind="customer", id=customer_id)
    attempt = payments.reserve_card(tx, customer, Target(order_id=order_id), None, Collecting(source="pay_link"))
    approved = Charge(approved=True, brand="visa", last4="4242", reference=f"sbx_ch_demo_{attempt.charge_id}")
    payments.settle_card(tx, customer, attempt.charge_id, approved, DEFAULT_BUSINESS_NAME)


def _card_on_file(tx: Tx, db_path: str, customer_id: str, number: str, exp_year: int) -> None:
    """As if the customer had saved the card on a card link's page: the sandbox processor keeps it."""
    card = CardDetails(number=number, exp_month=12, exp_year=exp_year, cvc="123", postal_code="94110")
    setup = SandboxProcessor(file_beside(db_path)).save_now(card, f"demo-card-{customer_id}")
    saved = setup.saved
    assert saved is not None, "the demo's card is one the sandbox saves"
    customers.save_card(
        tx,
        customer_id,
        processor=SandboxProcessor.name,
        reference=saved.reference,
        processor_customer=saved.customer,
        brand=saved.brand,
        last4=saved.last4,
        exp_month=saved.exp_month,
        exp_year=saved.exp_year,
        card_link_id=None,
    )


def _invoice(tx: Tx, order_id: str, demo: DemoInvoice, public_url: str, business: str) -> None:
    """As if the office had invoiced the order and published it: its recipient got the text."""
    today = parse_time(tx.now).date()
    made = invoices.create(
        tx,
        SYSTEM,
        CreateInvoice(
            order_id=order_id,
            recipient=demo.recipient,
            po_number=demo.po_number,
            payment_requests=[
                PaymentRequestIn(
                    type="deposit",
                    percentage=demo.deposit_percentage,
                    due_date=(today + timedelta(days=demo.deposit_due_in_days)).isoformat(),
                ),
                PaymentRequestIn(
                    type="balance", due_date=(today + timedelta(days=demo.balance_due_in_days)).isoformat()
                ),
            ],
        ),
        public_url,
    )
    invoices.publish(tx, SYSTEM, made.id, public_url, business)


def banner(info: DemoInfo, *, api_key: str, public_url: str) -> str:
    lines: list[Any] = [
        "Flint demo is running.",
        f"  Office API key   {api_key}",
        f"  Dispatch board   {public_url}/dispatch  (log in with the office API key)",
        f"  Customer phone   {public_url}/sandbox/phone/{info.first_phone}",
        *([f"  Estimate page    {info.estimate_url}  (three options, a deposit)"] if info.estimate_url else []),
        f"  Device token     {info.device_token}",
        f"  Technician app   {public_url}/tech  (on a phone; enrol with the device token)",
        f"  API spec         {public_url}/schema/openapi.json",
        "",
        f"  Try: curl -H 'Authorization: Bearer {api_key}' {public_url}/v1/jobs",
    ]
    return "\n".join(str(line) for line in lines)
