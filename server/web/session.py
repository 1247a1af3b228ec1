"""Browser sessions for the office's pages: a login form that takes the office key, a session
cookie, and CSRF protection on every form. The dispatch pages use it; so will any other page
the office opens in a browser (the sandbox's, contract §2).

- Sessions are Litestar's server-side sessions, kept in the Flint store (`session_store`), so a
  restart of the server logs nobody out. The cookie holds only a random id (256 bits):
  `HttpOnly`, `SameSite=Lax`, `Secure` when the public URL is https.
- A login gets a fresh session id (one planted before it is never promoted), and a visitor who
  has not logged in gets no session cookie and no stored session at all.
- CSRF is Litestar's double-submit token: every form carries `_csrf_token`, which must match
  the `flint_csrf` cookie, both signed with `csrf_secret`. Paths whose credential is something
  else (a bearer key, a link's token, Twilio's signature) are left out: `OPEN_PATHS`.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response, Router, get, post
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import Empty, Message, ScopeSession

from server.config import Settings
from server.errors import RateLimited, Unauthorized
from server.web.auth import OFFICE, client_address, office_by_bearer, office_key_matches
from server.web.state import web_state

SESSION_COOKIE = "flint_session"
CSRF_COOKIE = "flint_csrf"
SESSION_HOURS = 12
HOME = "/dispatch"

# No CSRF check here: the API takes a bearer key, pay, invoice, estimate, approval and card forms
# carry their link's token. The sandbox is an app mounted under this one, whose forms (the
# phone's reply form) `server.web.mounted_forms` checks instead, since Litestar's middleware cannot read a mounted
# app's form; its Messages API stands in for Twilio (Basic auth), and its control routes take
# a change only with the office key as a bearer header (`office_or_login`). The technician app's
# files are static (the app speaks only to the sync API, with its device token).
OPEN_PATHS = [
    r"^/v1/", r"^/pay/", r"^/invoices/", r"^/estimates/", r"^/approvals/", r"^/cards/",
    r"^/sandbox(/|$)", r"^/healthz$", r"^/schema", r"^/static/", r"^/tech(/|$)",
]  # fmt: skip
# No session either: those requests never read one. The sandbox keeps it, to guard its pages.
SESSIONLESS_PATHS = [path for path in OPEN_PATHS if "sandbox" not in path]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Every office page: scripts and styles from this site only (no inline script), never framed.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
        " form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

_OFFICE = "office"
_FRESH_ID = "flint_fresh_session_id"


def csrf_secret(api_key: str) -> str:
    """Derived from the office key rather than made per process: Litestar keeps using a CSRF
    cookie it finds, even one it can no longer verify, so a secret that changed at every
    restart would refuse each open browser's forms until its cookie was cleared. The HMAC keeps
    the key itself out of every token, and a new office key voids the old tokens."""
    return hmac.new(api_key.encode(), b"flint csrf v1", hashlib.sha256).hexdigest()


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def csrf_config(settings: Settings) -> CSRFConfig:
    return CSRFConfig(
        secret=csrf_secret(settings.api_key),
        cookie_name=CSRF_COOKIE,
        cookie_httponly=True,  # the token reaches the page inside its forms; no script reads the cookie
        cookie_secure=_secure(settings),
        cookie_samesite="lax",
        exclude=OPEN_PATHS,
    )


class _OfficeSessions(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        fresh: str | None = connection.scope.get("state", {}).get(_FRESH_ID)
        return fresh or super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        brought = connection.cookies.get(SESSION_COOKIE) not in (None, "", "null")  # "null": logged out
        if scope_session is not Empty and not scope_session and not brought:
            return  # not logged in: nothing to remember, no cookie
        await super().store_in_message(scope_session, message, connection)


class _OfficeSessionConfig(ServerSideSessionConfig):
    _backend_class = _OfficeSessions


def session_config(settings: Settings) -> ServerSideSessionConfig:
    return _OfficeSessionConfig(
        key=SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        renew_on_access=True,
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        exclude=SESSIONLESS_PATHS,
    )


def has_office_session(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    session = connection.scope.get("session")
    return isinstance(session, dict) and session.get(_OFFICE) is True


class LoginRequired(Exception):
    """A page asked for without a session; answered with a 303 to the login form."""

    def __init__(self, then: str) -> None:
        super().__init__(then)
        self.then = then


async def office_page_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Pages: without a session, to the login form (and back here after it)."""
    if not has_office_session(connection):
        url = connection.url
        raise LoginRequired(url.path + (f"?{url.query}" if url.query else ""))
    connection.state.caller = OFFICE


async def office_session_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """What a page's script fetches (a stream, a fragment): without a session, 401."""
    if not has_office_session(connection):
        raise Unauthorized("log in at /login first")
    connection.state.caller = OFFICE


def office_or_login(
    mounted_at: str, open_prefix: str
) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    """A guard for an app mounted under this one (the built-in Twilio sandbox): the office key as
    a bearer header or the browser session. Its pages send a browser to the login form (303);
    its other routes answer 401, and take a change only with the bearer key (they carry no CSRF
    token: a session alone must not be enough). Paths under `open_prefix` (inside the mount,
    where the app checks credentials of its own) pass."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        inner = connection.scope["path"]  # routing leaves the path inside the mount here
        if inner.startswith(open_prefix):
            return
        page = _mounted_page(inner)
        reading = connection.scope.get("method") in SAFE_METHODS
        by_session = has_office_session(connection) and (page is not None or reading)
        if by_session or office_by_bearer(connection):
            connection.state.caller = OFFICE
            return
        if page is not None:
            raise LoginRequired(mounted_at + page)
        raise Unauthorized("send the office key as `Authorization: Bearer <key>`, or log in at /login")

    return guard


def _mounted_page(inner: str) -> str | None:
    """The page a browser should come back to after logging in: a phone's page, also after
    posting its reply form; None for the routes scripts call."""
    parts = [part for part in inner.split("/") if part]
    if len(parts) >= 2 and parts[0] == "phone":
        return f"/phone/{parts[1]}"
    return None


def to_login(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    return Redirect(f"/login?next={quote(exc.then, safe='/')}", status_code=303)


def refused(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    """A form without its CSRF token (or with a stale one), as a page rather than JSON, with a
    way back to the page the form was on."""
    came_from = urlsplit(request.headers.get("referer", ""))
    back = safe_next(came_from.path) if came_from.netloc == request.url.netloc else HOME
    return Template(
        template_name="refused.html",
        context={"business": web_state(request).settings.business_name, "back": back},
        status_code=403,
        headers=PAGE_HEADERS,
    )


def safe_next(value: str | None) -> str:
    """Back to a page of this site only: a path, never another host. Browsers drop tabs and
    newlines from URLs and read a backslash as a slash, so `/<tab>/evil` would be `//evil`."""
    if not value or not value.startswith("/") or len(value) > 2000:
        return HOME
    if value.startswith("//") or any(c in value for c in "\\\t\r\n"):
        return HOME
    return value


# The login form and logout.


def _login_page(
    request: Request[Any, Any, Any],
    then: str,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    return Template(
        template_name="login.html",
        context={"business": web_state(request).settings.business_name, "next": then, **context},
        status_code=status,
        headers=headers,
    )


@get("/login", include_in_schema=False)
async def login_form(
    request: Request[Any, Any, Any], then: Annotated[str | None, QueryParameter(name="next")] = None
) -> Response[Any] | Template:
    if has_office_session(request):
        return Redirect(safe_next(then), status_code=303)
    return _login_page(request, safe_next(then), logged_out=request.query_params.get("out") == "1")


@post("/login", include_in_schema=False, status_code=303)
async def log_in(request: Request[Any, Any, Any]) -> Response[Any] | Template:
    form = await request.form()
    key, then = form.get("key"), safe_next(form.get("next"))
    state, client = web_state(request), client_address(request.scope)
    try:
        state.key_attempts.allow(client)  # guessing the key: a few wrong ones per address, then wait
    except RateLimited as err:
        minutes = max(1, math.ceil(err.retry_after / 60))
        error = f"Too many wrong keys. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        return _login_page(request, then, 429, {"Retry-After": str(err.retry_after)}, error=error)
    if not isinstance(key, str) or not office_key_matches(state.settings, key.strip()):
        state.key_attempts.failed(client)
        return _login_page(request, then, 401, error="That is not the office key.")
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await request.app.stores.get("sessions").delete(old)
    request.state[_FRESH_ID] = secrets.token_hex(32)  # a new id at login, never the one the browser brought
    request.set_session({_OFFICE: True})
    return Redirect(then, status_code=303)


@post("/logout", include_in_schema=False, status_code=303)
async def log_out(request: Request[Any, Any, Any]) -> Response[Any]:
    session = session_id(request)
    request.clear_session()
    if session is not None:
        web_state(request).session_ended(session)  # its open event streams end now (contract §6)
    return Redirect("/login?out=1", status_code=303)


def session_id(connection: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The id of the browser session the request brought (the cookie holds only that)."""
    found = connection.get_session_id() or connection.cookies.get(SESSION_COOKIE)
    return found if found and found != "null" else None


async def session_alive(connection: ASGIConnection[Any, Any, Any, Any], session: str) -> bool:
    """Whether `session` is still logged in (not logged out, not expired)."""
    return await connection.app.stores.get("sessions").exists(session)


login_router = Router(
    "/",
    route_handlers=[login_form, log_in, log_out],
    response_headers=PAGE_HEADERS,
    exception_handlers={PermissionDeniedException: refused},
    include_in_schema=False,
)
