"""The Litestar application: the one place that wires the domains together (routers, the
store, the payment desk, texting, the scheduler) and maps errors to problem+json."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from litestar import Litestar, Router, asgi, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import ASGIRouteHandler
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig
from litestar.types import Receive, Scope, Send

from server.approvals import answers as approval_answers
from server.approvals import pages as approval_pages
from server.approvals import routes as approvals_routes
from server.cards import pages as card_pages
from server.cards import service as cards
from server.cards.routes import router as cards_router
from server.clock import Clock, system_clock
from server.config import Settings
from server.customers.routes import router as customers_router
from server.dispatch import pages as dispatch_pages
from server.dispatch import technician_pages, webhook_pages
from server.dispatch.events import TrailFeed
from server.dispatch.routes import router as dispatch_router
from server.estimates import answers
from server.estimates import pages as estimate_pages
from server.estimates.routes import router as estimates_router
from server.events.routes import router as events_router
from server.invoices import reminders
from server.invoices.pages import router as invoice_pages
from server.invoices.routes import router as invoices_router
from server.jobs.routes import router as jobs_router
from server.links.pages import router as pay_pages
from server.links.routes import router as links_router
from server.messages import routes as messages_routes
from server.messages import service as outbox
from server.messages.texting import Sandbox, Texting, texting
from server.money import display
from server.orders.routes import router as orders_router
from server.payments import charging, refunding
from server.payments.desk import PaymentDesk, settled_within
from server.payments.processor import Processor
from server.payments.routes import router as payments_router
from server.payments.sandbox import SandboxProcessor
from server.payments.sandbox import file_beside as sandbox_file
from server.payments.stripe_processor import ATTEMPT, SETUP, StripeProcessor
from server.payments.webhook import router as stripe_webhook
from server.plans import autopay
from server.plans import routes as plans_routes
from server.plans import service as plans
from server.publishing import publisher
from server.replication.routes import router as sync_router
from server.scheduler import Scheduler
from server.store import Database
from server.technicians import service as technicians
from server.technicians.routes import router as technicians_router
from server.trail import service as trail
from server.web.attempts import card_attempts, key_attempts
from server.web.auth import authenticate, identify_unrouted, office_guard
from server.web.context import provide_ctx
from server.web.customer_pages import customer_page_headers_for
from server.web.mounted_forms import csrf_protected
from server.web.openapi import created_location, finish, openapi_config
from server.web.page_headers import page_headers
from server.web.params import refuse_null_filters
from server.web.path_ids import IdTooLong, id_too_long, refuse_long_ids
from server.web.problems import document_errors, fallback_handlers, problem_plugin
from server.web.session import (
    SESSION_HOURS,
    LoginRequired,
    csrf_config,
    login_router,
    office_or_login,
    refused,
    session_config,
    to_login,
)
from server.web.session_store import SessionStore
from server.web.state import STATE_KEY, WebState
from server.web.static import asset_url, static_router
from server.web.tech_app import router as tech_app
from server.web.too_large import MAX_BODY, refuse_announced, too_large
from server.webhooks import reference
from server.webhooks import service as webhooks_service
from server.webhooks.routes import router as webhooks_router
from server.webhooks.runtime import Webhooks, webhooks
from server.webhooks.sending import Resolver, system_resolver
from server.wire import Actor
from sms.sandbox.app import MOUNT_PATH, MOUNTED_API_PREFIX

log = logging.getLogger("flint")

SANDBOX_WARNING = (
    "no TWILIO_ACCOUNT_SID: texts go nowhere but the built-in Twilio sandbox; no customer gets them."
    " Read them at %s/phone/<number> with the office key."
)
STOPPING = "stopping"
WEBHOOKS = "webhooks"  # app.state key of the running `Webhooks` (its worker), for tests
SETTLE_PROMISE = timedelta(minutes=1)  # contract §4: a charge in doubt is settled within a minute
TEMPLATES = Path(__file__).parent / "templates"
RECOVERY = Actor(kind="system", id="recovery")


def _filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["money"] = display
    engine.engine.globals["static"] = asset_url


@get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _mount(sandbox: Sandbox, settings: Settings) -> ASGIRouteHandler:
    """The built-in Twilio sandbox, an app of its own, under `/sandbox`. Outside the demo its
    pages and control routes need the office key (contract §2); its Messages API checks the
    sandbox's own account credentials, which this server's Twilio client sends."""

    guards = [] if settings.demo else [office_or_login(MOUNT_PATH, MOUNTED_API_PREFIX + "/")]
    pages = csrf_protected(sandbox.app, csrf_config(settings))  # the phone and its reply form

    @asgi(
        MOUNT_PATH,
        is_mount=True,
        copy_scope=True,
        include_in_schema=False,
        guards=guards,
        exception_handlers={PermissionDeniedException: refused},
    )
    async def sandbox_app(scope: Scope, receive: Receive, send: Send) -> None:
        await (pages if scope["path"].startswith("/phone/") else sandbox.app)(scope, receive, send)

    return sandbox_app


def api_document(app: Litestar) -> dict[str, Any]:
    """The finished OpenAPI document the app serves at `/schema/openapi.json`."""
    return finish(app.openapi_schema.to_schema(), reference.document)


def on_stop(app: Litestar) -> Callable[[], None]:
    """What the server calls the moment it is asked to stop, before it waits for open requests:
    the live event streams end (a browser reconnects to the next server and resumes)."""
    stopping: Callable[[], None] = app.state[STOPPING]
    return stopping


def create_app(settings: Settings, clock: Clock = system_clock, *, resolver: Resolver = system_resolver) -> Litestar:
    """`resolver` is the DNS webhook URLs are checked against (tests give one of their own)."""
    db = Database(settings.db_path, clock, readers=settings.db_readers)
    db.finishing.append(publisher(settings.public_url).finish)
    hooks: Webhooks = webhooks(settings, db, resolver)
    processor: Processor = SandboxProcessor(sandbox_file(settings.db_path))
    if settings.stripe is not None:
        processor = StripeProcessor(settings.stripe, clock, settings.processor_timeout)
    desk = PaymentDesk(
        db,
        processor=processor,
        business=settings.business_name,
        timeout=settings.processor_timeout,
        completions={"estimate": answers.complete},  # an estimate's deposit settles with its approval
    )
    desk.after_settle[autopay.SOURCE] = partial(
        autopay.after_charge, public_url=settings.public_url, business=settings.business_name
    )
    desk.on_card_saved.append(partial(autopay.card_saved, desk, settings.public_url))

    async def setup_read_back(setup_id: str) -> None:
        card = await cards.settle_pending(desk, setup_id)
        if card is not None:
            await desk.card_saved(card["customer_id"])

    desk.read_back[ATTEMPT] = partial(charging.settle_pending, desk)
    desk.read_back[SETUP] = setup_read_back

    async def settle_payments() -> None:
        """Charges and refunds in doubt, settled with the processor (which may be down: then
        they wait for the next run, and nothing else waits for them)."""
        try:
            await charging.settle_in_doubt(desk)
            await refunding.settle_in_doubt(desk, RECOVERY)
            for customer_id in await cards.settle_in_doubt(desk):
                await desk.card_saved(customer_id)
        except Exception:
            log.exception("settling payments in doubt failed; trying again at the next run")

    if settled_within(settings.processor_timeout, settings.settle_every) > SETTLE_PROMISE:
        log.warning(
            "FLINT_PROCESSOR_TIMEOUT and FLINT_SETTLE_EVERY let a charge in doubt wait past a minute"
            " (%.0f s): customers are promised less",
            settled_within(settings.processor_timeout, settings.settle_every).total_seconds(),
        )
    texts: Texting = texting(settings, db)
    texts.on_code = partial(approval_answers.answer_code, business=settings.business_name)  # a customer's approval code
    worker = texts.worker
    feed = TrailFeed()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.open()
        if texts.sandbox is not None and not settings.demo:
            log.warning(SANDBOX_WARNING, settings.public_url + MOUNT_PATH)
        await settle_payments()
        await worker.recover()
        await hooks.worker.recover()
        db.listeners.add(outbox.TOPIC, worker.kick)
        db.listeners.add(webhooks_service.TOPIC, hooks.worker.kick)
        db.listeners.add(trail.TOPIC, feed.wake)
        await feed.start(db)  # the one reader of the trail for every event stream
        scheduler = Scheduler(db)
        if settings.scheduler:
            worker.wake_at = lambda when: scheduler.at(when, "sms_next_due", worker.run_due)
            scheduler.every(15, "sms_sweep", worker.run_due)
            hooks.worker.wake_at = lambda when: scheduler.at(when, "webhooks_next_due", hooks.worker.run_due)
            scheduler.every(15, "webhooks_sweep", hooks.worker.run_due)
            scheduler.every(settings.settle_every, "settle_payments", settle_payments)
            # Billing and reminders read what is due from the store by the app's clock; a
            # start-up run catches up on what was missed while the server was down.
            business, public_url, every = settings.business_name, settings.public_url, settings.billing_interval

            async def billing_run() -> None:
                await plans.run_billing(db, None, public_url, business)
                await autopay.run_due(desk, public_url)

            scheduler.every(every, "billing_run", billing_run, at_start=True)
            scheduler.every(every, "invoice_reminders", lambda: reminders.run(db, public_url, business), at_start=True)
            scheduler.every(every, "estimates_expired", lambda: db.write(answers.expire_due), at_start=True)
            scheduler.every(3600, "purge_approval_code_misses", lambda: db.write(approval_answers.purge_misses))
            scheduler.start()
        worker.kick()
        hooks.worker.kick()
        try:
            yield
        finally:
            await feed.close()
            scheduler.shutdown()
            await worker.close()
            await hooks.worker.close()
            if texts.sandbox is not None:
                await texts.sandbox.state.close()
            await desk.close()
            await db.close()

    office = [
        customers_router,
        technicians_router,
        jobs_router,
        orders_router,
        links_router,
        cards_router,
        payments_router,
        invoices_router,
        estimates_router,
        approvals_routes.router,
        plans_routes.plans,
        plans_routes.billing,
        messages_routes.office,
        dispatch_router,
        events_router,
        webhooks_router,
    ]
    public: list[Router | ASGIRouteHandler] = [
        pay_pages,
        invoice_pages,
        estimate_pages.router,
        approval_pages.router,
        card_pages.router,
        messages_routes.webhooks,
        stripe_webhook,
        sync_router,
        login_router,
        dispatch_pages.pages,
        dispatch_pages.live,
        webhook_pages.pages,
        technician_pages.pages,
        static_router(),
        tech_app,
    ]
    if texts.sandbox is not None:
        public.append(_mount(texts.sandbox, settings))
    app = Litestar(
        route_handlers=[
            healthz,
            Router(
                "/",
                route_handlers=office,
                guards=[office_guard],
                before_request=refuse_null_filters,
                after_request=created_location,
            ),
            *public,
        ],
        dependencies={
            "ctx": Provide(provide_ctx),
            "desk": Provide(lambda: desk, use_cache=True, sync_to_thread=False),
            "texting": Provide(lambda: texts, use_cache=True, sync_to_thread=False),
            "feed": Provide(lambda: feed, use_cache=True, sync_to_thread=False),
            "webhooks": Provide(lambda: hooks, use_cache=True, sync_to_thread=False),
        },
        lifespan=[lifespan],
        plugins=[problem_plugin()],
        before_send=[customer_page_headers_for(settings), page_headers],
        after_exception=[identify_unrouted],
        exception_handlers={**fallback_handlers(), LoginRequired: to_login, 413: too_large, IdTooLong: id_too_long},
        csrf_config=csrf_config(settings),
        stores={"sessions": SessionStore(db, timedelta(hours=SESSION_HOURS))},
        middleware=[refuse_announced, authenticate, refuse_long_ids, session_config(settings).middleware],
        request_max_body_size=MAX_BODY,
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_filters),
        openapi_config=openapi_config(reference.document),
        state=State(
            {
                STATE_KEY: WebState(
                    settings=settings,
                    db=db,
                    find_device=technicians.device_for_token,
                    may_be_device=technicians.may_be_device_token,
                    card_attempts=card_attempts(clock),
                    key_attempts=key_attempts(clock),
                    session_ended=feed.end_session,
                ),
                STOPPING: feed.stop,
                WEBHOOKS: hooks,
            }
        ),
    )
    document_errors(app)
    return app
