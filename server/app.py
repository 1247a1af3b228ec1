"""The Litestar application: routers, the lifespan that opens the store, problem+json, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, get
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
from server.money import display
from server.orders.routes import router as orders_router
from server.payments import refunding
from server.payments.routes import router as payments_router
from server.runtime import Runtime
from server.scheduler import Scheduler
from server.store import Database
from server.technicians.routes import router as technicians_router
from server.web.auth import office_guard
from server.web.context import provide_ctx
from server.web.problems import fallback_handlers, problem_plugin
from server.wire import Actor

MAX_BODY = 1024 * 1024
TEMPLATES = Path(__file__).parent / "templates"


def _filters(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["money"] = display


@get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


RECOVERY = Actor(kind="system", id="recovery")


def create_app(settings: Settings, clock: Clock = system_clock) -> Litestar:
    runtime = Runtime(settings=settings, db=Database(settings.db_path, clock))

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await runtime.db.open()
        await paying.settle_abandoned(runtime)
        await refunding.resume_pending(runtime, RECOVERY)
        scheduler = Scheduler(runtime.db)
        if settings.scheduler:
            scheduler.start()
        try:
            yield
        finally:
            scheduler.shutdown()
            await runtime.db.close()

    office = [customers_router, technicians_router, jobs_router, orders_router, links_router, payments_router]
    for router in office:
        router.guards = [office_guard, *router.guards]

    return Litestar(
        route_handlers=[healthz, *office, pay_pages],
        dependencies={"ctx": Provide(provide_ctx)},
        lifespan=[lifespan],
        plugins=[problem_plugin()],
        exception_handlers=fallback_handlers(),
        request_max_body_size=MAX_BODY,
        template_config=TemplateConfig(
            directory=TEMPLATES, engine=JinjaTemplateEngine, engine_callback=_filters
        ),
        openapi_config=OpenAPIConfig(
            title="Flint",
            version="1.0.0",
            path="/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        state=State({"runtime": runtime}),
    )
