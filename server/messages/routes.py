from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromPath, QueryParameter

from server.errors import FieldError, Forbidden, InvalidRequest
from server.messages import service as outbox
from server.messages.texting import Texting
from server.messages.types import SmsMessage
from server.messages.worker import MARKER
from server.store.paging import Page, decode_cursor
from server.web.context import Ctx
from server.web.params import Cursor, Limit
from sms import policy
from sms.signature import is_valid
from sync.limits import MAX_ID

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@get("/sms")
async def list_messages(
    ctx: NamedDependency[Ctx],
    limit: Limit = 50,
    cursor: Cursor = None,
    job_id: Annotated[str | None, QueryParameter(name="jobId")] = None,
    order_id: Annotated[str | None, QueryParameter(name="orderId")] = None,
) -> Page[SmsMessage]:
    return await ctx.read(
        partial(outbox.list_page, after=decode_cursor(cursor), limit=limit, job_id=job_id, order_id=order_id)
    )


@get("/sms/{message_id:str}")
async def get_message(message_id: FromPath[str], ctx: NamedDependency[Ctx]) -> SmsMessage:
    return await ctx.read(partial(outbox.get, message_id=message_id))


async def _signed_form(request: Request[Any, Any, Any], ctx: Ctx, auth_token: str) -> dict[str, str]:
    """The form Twilio posted, once its signature checks out against FLINT_PUBLIC_URL + path."""
    try:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    except HTTPException as exc:
        if exc.status_code == 413:
            raise  # too large is said as such (413), whoever sent it
        raise Forbidden("the X-Twilio-Signature does not match this request") from None
    except Exception:  # a body that is no form cannot carry a valid signature either
        raise Forbidden("the X-Twilio-Signature does not match this request") from None
    url = ctx.public_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not is_valid(auth_token, url, form, request.headers.get("x-twilio-signature")):
        raise Forbidden("the X-Twilio-Signature does not match this request")
    return form


@post("/webhooks/twilio/status", status_code=204)
async def status_callback(
    request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], texting: NamedDependency[Texting]
) -> None:
    form = await _signed_form(request, ctx, texting.auth_token)
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        return
    code = form.get("ErrorCode", "")
    marker = request.query_params.get(MARKER)
    await ctx.write(
        partial(
            outbox.apply_status,
            sid=sid,
            message_id=marker if marker and len(marker) <= 64 else None,
            provider_status=status,
            error_code=int(code) if code.isascii() and code.isdigit() and len(code) <= 9 else None,
        )
    )


@post("/webhooks/twilio/inbound", status_code=200)
async def inbound(
    request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], texting: NamedDependency[Texting]
) -> Response[str]:
    form = await _signed_form(request, ctx, texting.auth_token)
    sender, word = form.get("From", "")[:64], policy.keyword(form.get("Body", ""))
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    if not sid:
        # Handled once per sid (contract §5): one without could be replayed and applied again.
        raise InvalidRequest("MessageSid is required", [FieldError("MessageSid", "is required")])
    if len(sid) > MAX_ID:
        raise InvalidRequest("MessageSid is too long", [FieldError("MessageSid", f"has at most {MAX_ID} characters")])
    code = policy.reply_code(form.get("Body", "")) if word is None else None
    await ctx.write(partial(outbox.receive, sid=sid, sender=sender, keyword=word, code=code, on_code=texting.on_code))
    return Response(EMPTY_TWIML, media_type="text/xml")  # a replay answers as the first did


office = Router("/v1", route_handlers=[list_messages, get_message], tags=["text messages"])
webhooks = Router("/v1", route_handlers=[status_callback, inbound], include_in_schema=False)
