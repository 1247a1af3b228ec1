"""The office's pages: `/dispatch`, the live board, and `/dispatch/jobs/<id>`, a job's payment
trail with the office's actions. Server-rendered HTML that reads fine with scripts off; one
small script (`static/board.js`) keeps the board current from the event stream.

Behind a browser session (`server.web.session`): pages redirect to `/login` without one; what
the script fetches (the board's rows, the stream) answers 401. Forms post back and redirect
(POST-redirect-GET); a refused form is shown again with what went wrong, in words.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Stream, Template

from server.dispatch import actions, events, rules, service, store
from server.dispatch.events import TrailFeed
from server.dispatch.routes import After, LastEventId
from server.errors import FieldError, FlintError, InvalidRequest, NotFound
from server.messages.texting import Texting
from server.payments.desk import PaymentDesk
from server.web.context import Ctx
from server.web.session import (
    PAGE_HEADERS,
    office_page_guard,
    office_session_guard,
    refused,
    session_alive,
    session_id,
)

FORMS = ("text", "card", "cash", "refund")
Technician = Annotated[str | None, QueryParameter(description="A technician's id, or `none`.")]
Status = Annotated[str | None, QueryParameter()]
PageCursor = Annotated[str | None, QueryParameter(max_length=200)]
JobIds = Annotated[str, QueryParameter(max_length=4000)]


def _filters(technician: str | None, status: str | None) -> tuple[str | None, str | None]:
    """Unknown values show everything rather than an error: the filters are links and a form."""
    chosen = store.UNASSIGNED if technician == "none" else (technician[:64] if technician else None)
    return chosen, status if status in rules.STATUSES else None


def _template(ctx: Ctx, name: str, status: int = 200, **context: Any) -> Template:
    return Template(
        template_name=name,
        context={"business": ctx.settings.business_name, "logged_in": True, **context},
        status_code=status,
    )


def _board_context(view: service.BoardView) -> dict[str, Any]:
    technician = "none" if view.technician == store.UNASSIGNED else (view.technician or "")
    filters = {"technician": technician, "status": view.status or ""}
    kept = {name: value for name, value in filters.items() if value}
    return {
        "view": view,
        "filters": filters,
        "statuses": [(s, rules.STATUS_LABELS[s]) for s in rules.STATUSES],
        "pages": {
            "first": "/dispatch" + (f"?{urlencode(kept)}" if kept else ""),
            "next": "/dispatch?" + urlencode({**kept, "cursor": view.next_cursor or ""}),
        },
    }


async def _board(ctx: Ctx, technician: str | None, status: str | None, cursor: str | None) -> service.BoardView:
    chosen, status = _filters(technician, status)
    after = _page(cursor)
    return await ctx.read(partial(service.board, technician_id=chosen, status=status, after=after))


def _page(cursor: str | None) -> rules.BoardKey | None:
    """A cursor that is not one this board gave shows the first page, as an unknown filter does."""
    try:
        return rules.BoardKey.decode(cursor)
    except InvalidRequest:
        return None


@get("/", name="dispatch-board")
async def board_page(
    ctx: NamedDependency[Ctx], technician: Technician = None, status: Status = None, cursor: PageCursor = None
) -> Template:
    view = await _board(ctx, technician, status, cursor)
    return _template(ctx, "dispatch/board.html", **_board_context(view))


@get("/board")
async def board_part(
    ctx: NamedDependency[Ctx], technician: Technician = None, status: Status = None, cursor: PageCursor = None
) -> Template:
    """The board's live part for one page, for the script to swap in: after the stream was
    reset, and once a minute (how long ago things happened, technicians' last syncs)."""
    view = await _board(ctx, technician, status, cursor)
    return _template(ctx, "dispatch/_board.html", **_board_context(view))


@get("/board/rows")
async def board_rows(
    ctx: NamedDependency[Ctx], ids: JobIds = "", technician: Technician = None, status: Status = None
) -> Template:
    """The rows of the jobs events named (`ids`, comma-separated), read by id: the script swaps
    each in, or takes it out when it no longer matches the filters, instead of reading the board
    again. Each row says whether it still matches (`data-match`)."""
    wanted = [job_id for job_id in ids.split(",") if job_id]
    if len(wanted) > service.MAX_ROWS or any(len(job_id) > 64 for job_id in wanted):
        raise InvalidRequest(
            f"ids: at most {service.MAX_ROWS} job ids", [FieldError("ids", f"at most {service.MAX_ROWS} job ids")]
        )
    chosen, status = _filters(technician, status)
    updates = await ctx.read(partial(service.rows, job_ids=wanted, technician_id=chosen, status=status))
    return _template(ctx, "dispatch/_rows.html", updates=updates)


@get("/board/technicians")
async def board_technicians(ctx: NamedDependency[Ctx]) -> Template:
    """The technicians with their last sync: what changes when a device pushes."""
    technicians = await ctx.read(service.technician_lines)
    return _template(ctx, "dispatch/_technicians.html", technicians=technicians)


@get("/events")
async def board_events(
    request: Request[Any, Any, Any],
    feed: NamedDependency[TrailFeed],
    last_event_id: LastEventId = None,
    after: After = None,
) -> Stream:
    """The same stream as `/v1/dispatch/events`, for a browser session (EventSource sends no
    bearer header). It ends with the session: at once on logout, within 15 s on expiry."""
    session = session_id(request)
    alive = partial(session_alive, request, session) if session is not None else None
    return events.response(feed, events.start_after(last_event_id, after), session=session, still_valid=alive)


# The trail page and its forms.


async def _job_page(
    ctx: Ctx, texting: Texting, job_id: str, status: int = 200, failed: str | None = None, **context: Any
) -> Template:
    try:
        page = await ctx.read(
            partial(service.job_page, job_id=job_id, public_url=ctx.public_url, sandboxed=texting.sandbox is not None)
        )
    except NotFound as err:
        return _template(ctx, "dispatch/missing.html", 404, message=err.detail)
    context.setdefault("errors", {})
    context.setdefault("form", {})
    return _template(
        ctx,
        "dispatch/job.html",
        status,
        page=page,
        failed=failed,
        keys={name: secrets.token_urlsafe(16) for name in FORMS},
        **context,
    )


@get("/jobs/{job_id:str}")
async def job_page(
    job_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], texting: NamedDependency[Texting]
) -> Template:
    notice = request.session.pop("notice", None) if isinstance(request.session, dict) else None
    return await _job_page(ctx, texting, job_id, notice=notice)


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    try:
        data = await request.form()
    except Exception:  # not a form: every field is missing
        return {}
    return {key: value for key, value in data.items() if isinstance(value, str)}


async def _act(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    texting: Texting,
    job_id: str,
    which: str,
    form: Mapping[str, str],
    action: Callable[[], Awaitable[str]],
) -> Response[Any] | Template:
    """Run one action; on success back to the page with its notice, else the page again with the
    form as it was sent and what was wrong with it."""
    try:
        notice = await action()
    except InvalidRequest as err:
        errors = {e.field: e.message for e in err.errors}
        return await _job_page(ctx, texting, job_id, 400, which=which, errors=errors, form=form)
    except NotFound:
        return await _job_page(ctx, texting, job_id, 404)
    except FlintError as err:
        currency = await ctx.read(partial(service.job_currency, job_id=job_id))
        failed = rules.in_words(err, currency)
        return await _job_page(ctx, texting, job_id, err.status, failed, which=which, form=form)
    request.session["notice"] = notice
    return Redirect(f"/dispatch/jobs/{job_id}", status_code=303)


@post("/jobs/{job_id:str}/text-link", status_code=303)
async def text_link(
    job_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], texting: NamedDependency[Texting]
) -> Response[Any] | Template:
    form = await _form(request)
    unit = partial(
        actions.text_balance,
        actor=ctx.actor,
        job_id=job_id,
        form=form,
        public_url=ctx.public_url,
        business=ctx.settings.business_name,
    )
    act = partial(ctx.write, partial(actions.once, key=actions.form_key(form), unit=unit))
    return await _act(request, ctx, texting, job_id, "text", form, act)


@post("/jobs/{job_id:str}/card-link", status_code=303)
async def text_card_link(
    job_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], texting: NamedDependency[Texting]
) -> Response[Any] | Template:
    form = await _form(request)
    unit = partial(
        actions.text_card_link,
        actor=ctx.actor,
        job_id=job_id,
        form=form,
        public_url=ctx.public_url,
        business=ctx.settings.business_name,
    )
    act = partial(ctx.write, partial(actions.once, key=actions.form_key(form), unit=unit))
    return await _act(request, ctx, texting, job_id, "card", form, act)


@post("/jobs/{job_id:str}/payments", status_code=303)
async def record_payment(
    job_id: FromPath[str], request: Request[Any, Any, Any], ctx: NamedDependency[Ctx], texting: NamedDependency[Texting]
) -> Response[Any] | Template:
    form = await _form(request)
    unit = partial(
        actions.record_offline, actor=ctx.actor, job_id=job_id, form=form, business=ctx.settings.business_name
    )
    act = partial(ctx.write, partial(actions.once, key=actions.form_key(form), unit=unit))
    return await _act(request, ctx, texting, job_id, "cash", form, act)


@post("/jobs/{job_id:str}/refunds", status_code=303)
async def refund(
    job_id: FromPath[str],
    request: Request[Any, Any, Any],
    ctx: NamedDependency[Ctx],
    texting: NamedDependency[Texting],
    desk: NamedDependency[PaymentDesk],
) -> Response[Any] | Template:
    form = await _form(request)
    act = partial(actions.refund, desk, ctx.actor, job_id, form, actions.form_key(form))
    return await _act(request, ctx, texting, job_id, "refund", form, act)


pages = Router(
    "/dispatch",
    route_handlers=[board_page, job_page, text_link, text_card_link, record_payment, refund],
    guards=[office_page_guard],
    response_headers=PAGE_HEADERS,
    exception_handlers={PermissionDeniedException: refused},
    include_in_schema=False,
)
live = Router(
    "/dispatch",
    route_handlers=[board_part, board_rows, board_technicians, board_events],
    guards=[office_session_guard],
    response_headers=PAGE_HEADERS,
    include_in_schema=False,
)
