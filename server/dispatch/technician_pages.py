"""The office's page of one technician, `/dispatch/technicians/<id>`: their phones, and a form
that enrols a new one. The answer to that form shows the device token once, as text and as a QR
code of `FLINT_PUBLIC_URL/tech#token=<token>` (contract §9), which the technician app takes
when the phone's camera opens it. A phone can be turned off here too (its token stops working).

Behind the browser session like every dispatch page, with the same headers; each form carries
the CSRF token and a `formKey`, so a form sent twice acts once (and shows no token the second
time, as a replayed enrolment through the API does not)."""

from __future__ import annotations

import secrets
from functools import partial
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.dispatch import actions, qr, rules
from server.errors import FieldError, InvalidRequest, NotFound
from server.store import Tx
from server.technicians import service as technicians
from server.technicians.types import Device, EnrolDevice, Technician
from server.web.context import Ctx
from server.web.session import PAGE_HEADERS, office_page_guard, refused

MISSING = "We can't find that technician"
APP_PATH = "/tech"
MAX_DEVICES = 200  # shown on the page; a technician has a handful


def enrolment_url(public_url: str, token: str) -> str:
    """What the QR code holds: the app, with the token in the fragment, which a browser never
    sends to any server."""
    return f"{public_url}{APP_PATH}#token={token}"


def _page_data(tx: Tx, technician_id: str) -> tuple[Technician, list[Device]]:
    return technicians.get(tx, technician_id), technicians.devices_page(tx, technician_id, 0, MAX_DEVICES).data


async def _page(ctx: Ctx, technician_id: str, status: int = 200, **context: Any) -> Template:
    try:
        technician, devices = await ctx.read(partial(_page_data, technician_id=technician_id))
    except NotFound as err:
        return Template(
            template_name="dispatch/missing.html",
            context={"business": ctx.settings.business_name, "logged_in": True, "message": err.detail,
                     "heading": MISSING},
            status_code=404,
        )  # fmt: skip
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return Template(
        template_name="dispatch/technician.html",
        context={
            "business": ctx.settings.business_name,
            "logged_in": True,
            "when": rules.when,
            "technician": technician,
            "devices": devices,
            "keys": {"enrol": secrets.token_urlsafe(16), "off": secrets.token_urlsafe(16)},
            "app_url": ctx.public_url + APP_PATH,
            **context,
        },
        status_code=status,
    )


@get("/{technician_id:str}")
async def technician_page(
    technician_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]
) -> Template:
    notice = request.session.pop("notice", None) if isinstance(request.session, dict) else None
    return await _page(ctx, technician_id, notice=notice)


class _Enrolled:
    def __init__(self) -> None:
        self.token: str | None = None


def _enrol(tx: Tx, key: str | None, technician_id: str, label: str | None) -> _Enrolled:
    made = _Enrolled()

    def unit(tx: Tx) -> str:
        enrolled = technicians.enrol_device(tx, technician_id, EnrolDevice(label=label))
        made.token = enrolled.token
        return enrolled.id

    actions.once(tx, key, unit)
    return made


def _label(form: dict[str, str]) -> str | None:
    """A name to tell the phones apart by, one line of printable text."""
    label = "".join(c for c in form.get("label", "") if c.isprintable()).strip()
    if len(label) > 200:
        raise InvalidRequest("label: too long", [FieldError("label", "Keep it under 200 characters.")])
    return label or None


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    try:
        data = await request.form()
    except Exception:  # not a form: every field is missing
        return {}
    return {key: value for key, value in data.items() if isinstance(value, str)}


@post("/{technician_id:str}/devices", status_code=201)
async def enrol(
    technician_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]
) -> Response[Any] | Template:
    form = await _form(request)
    try:
        label = _label(form)
        made = await ctx.write(partial(_enrol, key=actions.form_key(form), technician_id=technician_id, label=label))
    except InvalidRequest as err:
        return await _page(ctx, technician_id, 400, errors={e.field: e.message for e in err.errors}, form=form)
    except NotFound:
        return await _page(ctx, technician_id, 404)
    if made.token is None:  # the same form sent again: the code was shown the first time
        request.session["notice"] = "That phone was enrolled already; its code was shown then."
        return Redirect(f"/dispatch/technicians/{technician_id}", status_code=303)
    link = enrolment_url(ctx.public_url, made.token)
    code = qr.svg(link, "QR code that enrols a phone in the technician app")
    return await _page(ctx, technician_id, 201, token=made.token, link=link, code=code, notice="Phone enrolled.")


@post("/{technician_id:str}/devices/{device_id:str}/off", status_code=303)
async def turn_off(
    technician_id: FromPath[str], device_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx]
) -> Response[Any] | Template:
    form = await _form(request)

    def unit(tx: Tx) -> str:
        known = {d.id for d in technicians.devices_page(tx, technician_id, 0, MAX_DEVICES).data}
        if device_id not in known:
            raise NotFound(f"{technician_id} has no device {device_id[:64]}")
        technicians.revoke_device(tx, device_id)
        return "Phone turned off: its token no longer works."

    try:
        notice = await ctx.write(partial(actions.once, key=actions.form_key(form), unit=unit))
    except NotFound:
        return await _page(ctx, technician_id, 404, failed="That phone is not this technician's.")
    request.session["notice"] = notice
    return Redirect(f"/dispatch/technicians/{technician_id}", status_code=303)


pages = Router(
    "/dispatch/technicians",
    route_handlers=[technician_page, enrol, turn_off],
    guards=[office_page_guard],
    response_headers=PAGE_HEADERS,
    exception_handlers={PermissionDeniedException: refused},
    include_in_schema=False,
)
