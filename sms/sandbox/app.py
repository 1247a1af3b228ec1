"""The sandbox on its own: `python -m sms.sandbox`, the test double the suite talks to over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from sms.sandbox.routes import TEMPLATES, phone, twilio_api
from sms.sandbox.state import SandboxState

DEFAULT_FROM = "+15005550006"


def create_sandbox_app(state: SandboxState, from_number: str = DEFAULT_FROM) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await state.close()

    return Litestar(
        route_handlers=[twilio_api(state), phone(state, from_number)],
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        lifespan=[lifespan],
        openapi_config=None,
    )
