"""Query parameters every list route takes: `limit` (1-200, default 50) and `cursor`; and what
every filter of the office API refuses."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.params import QueryParameter

from server.errors import FieldError, InvalidRequest

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size, 1-200.")]
Cursor = Annotated[
    str | None, QueryParameter(description="`nextCursor` of the previous page.", pattern="^[A-Za-z0-9_-]{1,200}$")
]


def refuse_null_filters(request: Request[Any, Any, Any]) -> None:
    """A filter left out is no filter; `?status=null` is not the same thing. Parsing reads the word
    `null` as a missing value, so the office API would list everything for `?jobId=null`: it is
    refused instead, naming the parameter (the reference offers no `null` choice either)."""
    named = sorted({name for name, value in request.query_params.multi_items() if value == "null"})
    if named:
        errors = [FieldError(name, "is `null`: leave the parameter out instead") for name in named]
        raise InvalidRequest(f"{', '.join(named)[:100]}: leave the parameter out rather than send null", errors)
