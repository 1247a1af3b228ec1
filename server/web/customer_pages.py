"""What every customer page shares (the pay page, the invoice page): its headers, its problem
pages, reading its card form, and what a decline says. The token in the address is the
customer's credential, so these pages need no session.

Headers are set for the whole group in one place, `customer_page_headers`, a hook on every
response the app sends: so an error page (a 404 for a path no route knows, a 405, a 413 or a
500) carries them as well as the pages a handler renders."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.types import Message, Scope

from server.config import Settings
from server.errors import FlintError, Gone, NotFound
from server.web.auth import client_address
from server.web.context import Ctx
from server.web.problems import clip
from sync.checks import MAX_NAME

# Where customer pages live: `/pay/<token>`, `/invoices/<token>`, `/estimates/<token>`,
# `/approvals/<token>` and `/cards/<token>` (never the office's `/v1/...`).
CUSTOMER_PATHS = re.compile(r"^/(pay|invoices|estimates|approvals|cards)(/|$)")
SCRIPTED_PATHS = re.compile(r"^/estimates(/|$)")  # the estimate page's own script keeps its amounts current

# Styles from this site's stylesheet only, no script at all, forms posted back here, never framed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
# The estimate page: the same, and its one script from this site (no inline script), which asks
# this site for the amounts of the customer's choice.
SCRIPTED_POLICY = CONTENT_SECURITY_POLICY.replace(
    "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}

DECLINES = {
    "card_declined": "Your card was declined. Try another card, or call the number on the back of your card.",
    "insufficient_funds": "Your card was declined for insufficient funds. Try another card.",
    "processing_error": "We could not reach your bank just now. Nothing was charged; please try again.",
}

# Declines that say nothing about the card (the processor failed): they do not count as card testing.
NOT_THE_CARDS_FAULT = frozenset({"processing_error"})


def is_customer_path(path: str) -> bool:
    return CUSTOMER_PATHS.match(path) is not None


async def customer_page_headers(message: Message, scope: Scope) -> None:
    """`before_send` hook: every answer under a customer path gets the group's headers."""
    await _set_headers(message, scope, HEADERS)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def headers_for(settings: Settings) -> dict[str, str]:
    """The group's headers; with Stripe, its script may run, frame its card field and be talked
    to (Stripe.js from `STRIPE_JS_URL`, the API at `STRIPE_API_BASE`): still no inline script."""
    stripe = settings.stripe
    if stripe is None:
        return HEADERS
    script, api = _origin(stripe.js_url), _origin(stripe.api_base)
    frames = f"{script} https://hooks.stripe.com" if script == "https://js.stripe.com" else script
    policy = (
        f"default-src 'none'; script-src 'self' {script}; style-src 'self'; img-src 'self' data:;"
        f" connect-src 'self' {api} {script}; frame-src {frames}; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    )
    return {**HEADERS, "Content-Security-Policy": policy}


def customer_page_headers_for(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    """`customer_page_headers` with the processor's sources (`headers_for`)."""
    headers = headers_for(settings)

    async def hook(message: Message, scope: Scope) -> None:
        await _set_headers(message, scope, headers)

    return hook


async def _set_headers(message: Message, scope: Scope, group: Mapping[str, str]) -> None:
    if message["type"] != "http.response.start" or scope["type"] != ScopeType.HTTP:
        return
    if not is_customer_path(scope["path"]):
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in group.items():
        headers[name] = value
    if group is HEADERS and SCRIPTED_PATHS.match(scope["path"]) is not None:
        # With Stripe every page's policy already lets this site's own script in and be talked to.
        headers["Content-Security-Policy"] = SCRIPTED_POLICY


def decline_message(code: str) -> str:
    return DECLINES.get(code, DECLINES["card_declined"])


def page_context(settings: Settings) -> dict[str, Any]:
    """What base.html needs: whose page it is, and whether the card processor is the sandbox; with
    Stripe, what its script needs (`_card_fields.html`)."""
    stripe = settings.stripe
    return {
        "business": settings.business_name,
        "sandbox": settings.sandbox_processor,
        "stripe": {"key": stripe.publishable_key, "script": stripe.js_url} if stripe else None,
    }


def page(name: str, ctx: Ctx, status: int = 200, **context: Any) -> Template:
    return Template(template_name=name, context={**page_context(ctx.settings), **context}, status_code=status)


def problem_page(ctx: Ctx, err: FlintError, what: str = "payment request") -> Template:
    if isinstance(err, NotFound):
        heading, hint = f"We can't find this {what}", "Check the link in your text message."
    elif isinstance(err, Gone):
        heading, hint = f"This {what} is no longer active", "Ask the business for a new link."
    else:
        heading, hint = "We couldn't take the payment", "Nothing was charged twice. Please try again in a minute."
    return page("problem.html", ctx, err.status, heading=heading, message=clip(err.detail), hint=hint)


def confirming_page(ctx: Ctx, amount: str) -> Template:
    """A card payment whose outcome is not known yet: say so, take no second one."""
    return page(
        "problem.html",
        ctx,
        202,
        heading="Your payment is being confirmed",
        message=f"We are confirming your payment of {amount} with the card processor.",
        hint="You will not be charged twice. Check back in a minute, or look for the receipt by text.",
    )


def too_many_attempts_page(ctx: Ctx, retry_after: float) -> Template:
    """Too many declined or mistyped cards on one link or invoice (card testing): wait."""
    seconds = max(1, math.ceil(retry_after))
    minutes = max(1, math.ceil(seconds / 60))
    return Template(
        template_name="problem.html",
        context={
            **page_context(ctx.settings),
            "heading": "Too many attempts",
            "message": "Too many cards were declined or mistyped for this payment request, so it is paused.",
            "hint": f"Nothing was charged. Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        },
        status_code=429,
        headers={"Retry-After": str(seconds)},
    )


def too_large_page(settings: Settings) -> Template:
    return Template(
        template_name="problem.html",
        context={
            **page_context(settings),
            "heading": "That was too much to send",
            "message": "The form sent more than this page accepts.",
            "hint": "Nothing was charged. Go back and try again.",
        },
        status_code=413,
    )


@dataclass(frozen=True, slots=True)
class Consent:
    """The customer's signature on a page: the name they typed, having ticked the terms."""

    signer_name: str
    ip: str
    user_agent: str | None


MAX_USER_AGENT = 500  # what is kept of a browser's own description


def read_consent(form: Mapping[str, str], request: Request[Any, Any, Any]) -> Consent | dict[str, str]:
    """`signerName` (required, a name as §1 bounds it) and `acceptTerms=yes` (required); the
    errors by field when either is missing."""
    errors: dict[str, str] = {}
    name = " ".join(form.get("signerName", "").split())
    if not name:
        errors["signerName"] = "Type your full name to sign."
    elif len(name) > MAX_NAME or any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        errors["signerName"] = f"Type your name as plain text, at most {MAX_NAME} characters."
    if form.get("acceptTerms") != "yes":
        errors["acceptTerms"] = "Tick the box to agree to the terms."
    if errors:
        return errors
    agent = request.headers.get("user-agent")
    return Consent(name, client_address(request.scope), agent[:MAX_USER_AGENT] if agent else None)


def started(attempt: str | None, client_secret: str | None, status: int = 200) -> Response[Any]:
    """The answer to a page's script asking to start a charge or setup (Stripe.js): the attempt and
    its client secret, or (none) a sign to post the form and read the page's own answer."""
    if attempt is None or client_secret is None:
        return Response({"attempt": None, "clientSecret": None}, status_code=409 if status == 200 else status)
    return Response({"attempt": attempt, "clientSecret": client_secret}, status_code=status)


async def read_form(request: Request[Any, Any, Any]) -> Mapping[str, str]:
    try:
        data = await request.form()
    except HTTPException as exc:
        if exc.status_code == 413:
            raise  # too large is answered as such, not read as an empty form
        return {}
    except Exception:  # a body that is not a form is an empty form: every field is missing
        return {}
    return {key: value for key, value in data.items() if isinstance(value, str)}
