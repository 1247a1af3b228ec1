"""Query parameters every list route takes: `limit` (1-200, default 50) and `cursor`."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

Limit = Annotated[int, QueryParameter(ge=1, le=200, description="Page size, 1-200.")]
Cursor = Annotated[
    str | None, QueryParameter(description="`nextCursor` of the previous page.", pattern="^[A-Za-z0-9_-]{1,200}$")
]
