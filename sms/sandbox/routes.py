"""The sandbox's HTTP side: Twilio's Messages API, the phone page, and a control API for tests."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import re
from collections import deque
from pathlib import Path
from typing import Any

import msgspec
from litestar import Request, Response, Router, delete, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from sms.sandbox.state import MAGIC_TO, FaultPlan, SandboxMessage, SandboxState

TEMPLATES = Path(__file__).parent / "templates"
STYLESHEET = (TEMPLATES / "phone.css").read_text()
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
LINK = re.compile(r"(https?://\S+)")


def _error(status: int, code: int, message: str) -> Response[Any]:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(body, status_code=status)


def _authorized(state: SandboxState, request: Request[Any, Any, Any], account_sid: str) -> bool:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return (
        scheme.lower() == "basic"
        and account_sid == state.account_sid
        and hmac.compare_digest(user, state.account_sid)
        and hmac.compare_digest(password, state.auth_token)
    )


def twilio_api(state: SandboxState, prefix: str = "/") -> Router:
    """`POST/GET {prefix}/2010-04-01/Accounts/{sid}/Messages.json`, as Twilio answers them."""

    @post("/2010-04-01/Accounts/{account_sid:str}/Messages.json", status_code=201)
    async def create_message(account_sid: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        if not _authorized(state, request, account_sid):
            return _error(401, 20003, "Authentication Error - invalid username")
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        fault = state.next_fault(to)
        if fault is not None and fault.status is not None:
            return _error(fault.status, fault.code or (20429 if fault.status == 429 else 20500), "sandbox fault")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if not E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in MAGIC_TO:
            code, message = MAGIC_TO[to]
            return _error(400, code, message)
        if to in state.opted_out:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        taken: SandboxMessage | None = None
        if fault is None or fault.record or not fault.hold:
            taken = state.take(to, from_, body, form.get("StatusCallback"), fault is None or fault.callbacks)
        if fault is not None and fault.hold:
            await asyncio.sleep(fault.hold)
        if taken is None:
            return _error(500, 20500, "sandbox fault")
        return Response(taken.resource(), status_code=201)

    @get("/2010-04-01/Accounts/{account_sid:str}/Messages.json")
    async def list_messages(account_sid: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        if not _authorized(state, request, account_sid):
            return _error(401, 20003, "Authentication Error - invalid username")
        query = request.query_params
        found = [
            m
            for m in reversed(state.messages)
            if (not query.get("To") or m.to == query.get("To"))
            and (not query.get("From") or m.from_ == query.get("From"))
        ]
        size = min(1000, int(query.get("PageSize") or 50))
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages.json"
        return Response(
            {
                "messages": [m.resource() for m in found[:size]],
                "end": min(size, len(found)) - 1,
                "first_page_uri": uri,
                "next_page_uri": None,
                "page": 0,
                "page_size": size,
                "previous_page_uri": None,
                "start": 0,
                "uri": uri,
            }
        )

    @get("/2010-04-01/Accounts/{account_sid:str}/Messages/{sid:str}")
    async def fetch_message(
        account_sid: FromPath[str], sid: FromPath[str], request: Request[Any, Any, Any]
    ) -> Response[Any]:
        if not _authorized(state, request, account_sid):
            return _error(401, 20003, "Authentication Error - invalid username")
        wanted = sid.removesuffix(".json")
        for message in state.messages:
            if message.sid == wanted:
                return Response(message.resource())
        return _error(404, 20404, f"The requested resource {request.url.path} was not found")

    return Router(prefix, route_handlers=[create_message, list_messages, fetch_message], include_in_schema=False)


def _parts(body: str) -> list[tuple[str, bool]]:
    """A text split into plain runs and links, so the page can link them without trusting the text."""
    return [(piece, bool(LINK.fullmatch(piece))) for piece in LINK.split(body) if piece]


def phone(state: SandboxState, from_number: str, prefix: str = "/sandbox", base: str = "/sandbox") -> Router:
    """`{prefix}/phone/<number>` and the control API tests use; `base` is where a browser finds
    `prefix` (the two differ when the sandbox is mounted under another app)."""

    @get("/phone/{number:str}")
    async def phone_page(number: FromPath[str]) -> Template:
        texts = [
            {
                "body": _parts(m.body),
                "at": m.date_created.strftime("%H:%M"),
                "mine": m.direction == "inbound",
                "status": m.status,
            }
            for m in state.messages
            if m.to == number or m.from_ == number
        ]
        return Template(
            template_name="phone.html",
            context={"number": number, "texts": texts, "opted_out": number in state.opted_out, "base": base},
        )

    @get("/phone.css", media_type="text/css")
    async def stylesheet() -> str:
        return STYLESHEET

    @post("/phone/{number:str}/reply", status_code=303)
    async def reply(number: FromPath[str], request: Request[Any, Any, Any]) -> Redirect:
        form = await request.form()
        body = form.get("Body")
        if isinstance(body, str) and body.strip():
            await state.receive(number, from_number, body.strip())
        return Redirect(f"{base}/phone/{number}", status_code=303)

    @get("/messages")
    async def messages(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
        to = request.query_params.get("to")
        return [m.resource() for m in state.messages if to is None or m.to == to]

    @delete("/messages", status_code=204)
    async def reset() -> None:
        state.reset()

    @post("/faults", status_code=204)
    async def faults(request: Request[Any, Any, Any]) -> None:
        plan = msgspec.json.decode(await request.body(), type=FaultPlan)
        state.faults.setdefault(plan.to, deque()).extend(plan.faults)

    @post("/inbound", status_code=204)
    async def inbound(request: Request[Any, Any, Any]) -> None:
        """A customer texts the business (as `POST /phone/<number>/reply`, for scripts)."""
        data = msgspec.json.decode(await request.body(), type=dict[str, str])
        await state.receive(data["from"], from_number, data["body"])

    return Router(
        prefix,
        route_handlers=[phone_page, stylesheet, reply, messages, reset, faults, inbound],
        include_in_schema=False,
    )
