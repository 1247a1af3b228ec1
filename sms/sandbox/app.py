"""The sandbox as an app of its own: alone (`python -m sms.sandbox`, the suite's Twilio), or
mounted by the Flint server under `/sandbox` when no Twilio account is configured."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from sms.sandbox.routes import TEMPLATES, phone, twilio_api
from sms.sandbox.state import SandboxState

DEFAULT_FROM = "+15005550006"
MOUNT_PATH = "/sandbox"
MOUNTED_API_PREFIX = "/twilio"  # the Messages API, under the mount path
MAX_BODY = 1024 * 1024  # as Flint's own routes: a larger request body is 413


def create_sandbox_app(state: SandboxState, from_number: str = DEFAULT_FROM, *, mounted: bool = False) -> Litestar:
    """Alone, the Messages API answers at `/2010-04-01/...` (as Twilio's host does) and the pages
    at `/sandbox/...`. Mounted at `MOUNT_PATH`, the API is at `/sandbox/twilio/2010-04-01/...`
    and the pages stay where a browser expects them; the host app then runs the lifespan."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await state.close()

    api, pages = (MOUNTED_API_PREFIX, "/") if mounted else ("/", MOUNT_PATH)
    return Litestar(
        route_handlers=[twilio_api(state, api), phone(state, from_number, prefix=pages, base=MOUNT_PATH)],
        template_config=TemplateConfig(directory=TEMPLATES, engine=JinjaTemplateEngine),
        lifespan=[] if mounted else [lifespan],
        openapi_config=None,
        request_max_body_size=MAX_BODY,
    )
