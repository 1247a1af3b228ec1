"""What every customer page shares (the pay page, the invoice page): its headers, its problem
pages, reading its card form, and what a decline says. The token in the address is the
customer's credential, so these pages need no session."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request
from litestar.response import Template

from server.errors import FlintError, Gone, NotFound
from server.web.context import Ctx

HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}

DECLINES = {
    "card_declined": "Your card was declined. Try another card, or call the number on the back of your card.",
    "insufficient_funds": "Your card was declined for insufficient funds. Try another card.",
    "processing_error": "We could not reach your bank just now. Nothing was charged; please try again.",
}


def decline_message(code: str) -> str:
    return DECLINES.get(code, DECLINES["card_declined"])


def page(name: str, ctx: Ctx, status: int = 200, **context: Any) -> Template:
    return Template(
        template_name=name,
        context={"business": ctx.settings.business_name, **context},
        status_code=status,
        headers=HEADERS,
    )


def problem_page(ctx: Ctx, err: FlintError, what: str = "payment request") -> Template:
    if isinstance(err, NotFound):
        heading, hint = f"We can't find this {what}", "Check the link in your text message."
    elif isinstance(err, Gone):
        heading, hint = f"This {what} is no longer active", "Ask the business for a new link."
    else:
        heading, hint = "We couldn't take the payment", "Nothing was charged twice. Please try again in a minute."
    return page("problem.html", ctx, err.status, heading=heading, message=err.detail, hint=hint)


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


async def read_form(request: Request[Any, Any, Any]) -> Mapping[str, str]:
    try:
        data = await request.form()
    except Exception:  # a body that is not a form is an empty form: every field is missing
        return {}
    return {key: value for key, value in data.items() if isinstance(value, str)}
