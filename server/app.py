"""The Litestar application: routers, the lifespan that opens the store, problem+json, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from server.clock import Clock, system_clock
from server.config import Settings
from server.customers.routes import router as customers_router
from server.jobs.routes import router as jobs_router
from server.links import paying
from server.links.pages import router as pay_pages
from server.links.routes import router as links_router
from server.messages import routes as messages_routes
from server.money import display
from server.orders.routes import router as orders_router
from server.payments import refunding
from server.payments.routes import router as payments_router
from server.replication.routes import router as sync_router
from server.runtime import Runtime
from server.scheduler import Scheduler
from server.store import Database
from server.technicians.routes import router as technicians_router
from server.web.auth import office_guard
from server.web.context import provide_ctx
from server.web.problems import document_errors, fallback_handlers, problem_plugin
from server.wire import Actor
from sms import outbox
from sms.sandbox import routes as sandbox_routes
from sms.setup import SANDBOX_API_PATH, texting

MAX_BODY = 1024 * 1024
TEMPLATES = Path(__file__).parent / "templates"


def _filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["money"] = display


@get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


RECOVERY = Actor(kind="system", id="recovery")


def create_app(settings: Settings, clock: Clock = system_clock) -> Litestar:
    db = Database(settings.db_path, clock)
    runtime = Runtime(settings=settings, db=db, texting=texting(settings, db))
    worker = runtime.texting.worker

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.open()
        await paying.settle_abandoned(runtime)
        await refunding.resume_pending(runtime, RECOVERY)
        await worker.recover()
        db.listeners.add(outbox.TOPIC, worker.kick)
        scheduler = Scheduler(db)
        if settings.scheduler:
            worker.wake_at = lambda when: scheduler.at(when, "sms_next_due", worker.run_due)
            scheduler.every(15, "sms_sweep", worker.run_due)
            scheduler.start()
        worker.kick()
        try:
            yield
        finally:
            scheduler.shutdown()
            await worker.close()
            if runtime.texting.sandbox is not None:
                await runtime.texting.sandbox.close()
            await db.close()

    office = [
        customers_router,
        technicians_router,
        jobs_router,
        orders_router,
        links_router,
        payments_router,
        messages_routes.office,
    ]
    public = [pay_pages, messages_routes.webhooks, sync_router]
    sandbox = runtime.texting.sandbox
    if sandbox is not None:
        public += [
            sandbox_routes.twilio_api(sandbox, SANDBOX_API_PATH),
            sandbox_routes.phone(sandbox, runtime.texting.from_number),
        ]
    app = Litestar(
        route_handlers=[healthz, Router("/", route_handlers=office, guards=[office_guard]), *public],
        dependencies={"ctx": Provide(provide_ctx)},
        lifespan=[lifespan],
        plugins=[problem_plugin()],
        exception_handlers=fallback_handlers(),
        request_max_body_size=MAX_BODY,
        template_config=TemplateConfig(
            directory=[TEMPLATES, sandbox_routes.TEMPLATES],
            engine=JinjaTemplateEngine,
            engine_callback=_filters,
        ),
        openapi_config=OpenAPIConfig(
            title="Flint",
            version="1.0.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        state=State({"runtime": runtime}),
    )
    document_errors(app)
    return app
