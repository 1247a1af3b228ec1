"""The office's webhook pages: `/dispatch/webhooks` lists the endpoints and adds one (its secret
shown once, on the page the form answers with), and `/dispatch/webhooks/<id>` shows one
endpoint's deliveries, newest first, each with a button to send it again.

Behind the browser session like every dispatch page, with the same headers; every form carries
the CSRF token and a `formKey`, so a form sent twice acts once."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.dispatch import actions, rules, webhook_forms
from server.errors import FlintError, InvalidRequest, NotFound
from server.store.paging import decode_cursor
from server.web.context import Ctx
from server.web.params import Cursor
from server.web.session import PAGE_HEADERS, office_page_guard, refused
from server.webhooks import service as outbox
from server.webhooks.runtime import Webhooks
from server.webhooks.types import CreateWebhookEndpoint

PAGE = 50
MISSING = "We can't find that webhook endpoint"


def _template(ctx: Ctx, name: str, status: int = 200, **context: Any) -> Template:
    return Template(
        template_name=name,
        context={"business": ctx.settings.business_name, "logged_in": True, "when": rules.when, **context},
        status_code=status,
    )


async def _form(request: Request[Any, Any, Any]) -> tuple[dict[str, str], list[str]]:
    """The fields, and every `events` box ticked."""
    try:
        data = await request.form()
    except Exception:  # not a form: every field is missing
        return {}, []
    fields = {key: value for key, value in data.items() if isinstance(value, str)}
    return fields, [value for value in data.getall("events", []) if isinstance(value, str)]


async def _list_page(ctx: Ctx, status: int = 200, **context: Any) -> Template:
    endpoints = await ctx.read(outbox.all_endpoints)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    context.setdefault("ticked", ["*"])
    return _template(
        ctx,
        "dispatch/webhooks.html",
        status,
        endpoints=endpoints,
        groups=webhook_forms.event_choices(),
        key=secrets.token_urlsafe(16),
        **context,
    )


@get("/", name="dispatch-webhooks")
async def list_page(request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]) -> Template:
    notice = request.session.pop("notice", None) if isinstance(request.session, dict) else None
    return await _list_page(ctx, notice=notice)


@post("/", status_code=201)
async def add_endpoint(
    request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], webhooks: NamedDependency[Webhooks]
) -> Response[Any] | Template:
    form, ticked = await _form(request)
    try:
        data: CreateWebhookEndpoint = webhook_forms.endpoint_request(form, ticked)
        await webhooks.policy.check(data.url)
        made = await ctx.write(partial(webhook_forms.create, key=actions.form_key(form), data=data))
    except InvalidRequest as err:
        errors = {e.field: e.message for e in err.errors}
        return await _list_page(ctx, 400, errors=errors, form=form, ticked=ticked)
    except FlintError as err:
        field = "url" if err.code == "url_not_allowed" else "events"
        return await _list_page(ctx, err.status, errors={field: err.detail}, form=form, ticked=ticked)
    if made.secret is None:  # the same form sent again: the secret was shown the first time
        request.session["notice"] = "This endpoint was added already; its secret was shown then."
        return Redirect(f"/dispatch/webhooks/{made.endpoint_id}", status_code=303)
    return await _endpoint_page(ctx, made.endpoint_id, None, 201, secret=made.secret, notice="Endpoint added.")


async def _endpoint_page(ctx: Ctx, endpoint_id: str, cursor: str | None, status: int = 200, **context: Any) -> Template:
    try:
        endpoint = await ctx.read(partial(outbox.get, endpoint_id=endpoint_id))
        page = await ctx.read(
            partial(
                outbox.deliveries_page, endpoint_id=endpoint_id, before=decode_cursor(cursor), limit=PAGE, status=None
            )
        )
    except (NotFound, InvalidRequest) as err:
        return _template(ctx, "dispatch/missing.html", 404, message=err.detail, heading=MISSING)
    return _template(
        ctx,
        "dispatch/webhook.html",
        status,
        endpoint=endpoint,
        deliveries=page.data,
        older=page.next_cursor,
        keys={name: secrets.token_urlsafe(16) for name in ("switch", "rotate", "retry")},
        **context,
    )


@get("/{endpoint_id:str}")
async def endpoint_page(
    endpoint_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], cursor: Cursor = None
) -> Template:
    notice = request.session.pop("notice", None) if isinstance(request.session, dict) else None
    return await _endpoint_page(ctx, endpoint_id, cursor, notice=notice)


async def _act(request: Request[Any, Any, Any], ctx: Ctx, endpoint_id: str, unit: Any) -> Response[Any] | Template:
    try:
        notice = await ctx.write(unit)
    except NotFound as err:
        return _template(ctx, "dispatch/missing.html", 404, message=err.detail, heading=MISSING)
    except FlintError as err:
        return await _endpoint_page(ctx, endpoint_id, None, err.status, failed=err.detail)
    request.session["notice"] = notice
    return Redirect(f"/dispatch/webhooks/{endpoint_id}", status_code=303)


@post("/{endpoint_id:str}/switch", status_code=303)
async def switch(
    endpoint_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]
) -> Response[Any] | Template:
    form, _ = await _form(request)
    unit = partial(webhook_forms.switch, key=actions.form_key(form), endpoint_id=endpoint_id, on=form.get("on") == "1")
    return await _act(request, ctx, endpoint_id, unit)


@post("/{endpoint_id:str}/deliveries/{delivery_id:str}/retry", status_code=303)
async def retry(
    endpoint_id: FromPath[str], delivery_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]
) -> Response[Any] | Template:
    form, _ = await _form(request)
    unit = partial(webhook_forms.retry, key=actions.form_key(form), endpoint_id=endpoint_id, delivery_id=delivery_id)
    return await _act(request, ctx, endpoint_id, unit)


@post("/{endpoint_id:str}/rotate-secret", status_code=200)
async def rotate(
    endpoint_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]
) -> Response[Any] | Template:
    form, _ = await _form(request)
    try:
        made = await ctx.write(partial(webhook_forms.rotate, key=actions.form_key(form), endpoint_id=endpoint_id))
    except NotFound as err:
        return _template(ctx, "dispatch/missing.html", 404, message=err.detail, heading=MISSING)
    if made.secret is None:
        request.session["notice"] = "The secret was rotated already; the new one was shown then."
        return Redirect(f"/dispatch/webhooks/{endpoint_id}", status_code=303)
    notice = "New secret made. The old one keeps signing beside it for 24 hours, so switch your receiver over now."
    return await _endpoint_page(ctx, endpoint_id, None, secret=made.secret, notice=notice)


pages = Router(
    "/dispatch/webhooks",
    route_handlers=[list_page, add_endpoint, endpoint_page, switch, retry, rotate],
    guards=[office_page_guard],
    response_headers=PAGE_HEADERS,
    exception_handlers={PermissionDeniedException: refused},
    include_in_schema=False,
)
