"""The server's error tree. Each error has a stable `code`; `server.web.problems` maps it to
problem+json in one place.

    FlintError                 any rule the server refuses to break
    ├── InvalidRequest     400 a malformed request (with field errors)
    ├── Unauthorized       401 no or unknown credentials
    ├── Forbidden          403 credentials that do not reach this
    ├── NotFound           404
    ├── VersionConflict    409 a stale `version` (carries `currentVersion`)
    ├── Conflict           409 other conflicts (e.g. `mutation_gap`)
    ├── Gone               410 a link that can no longer be used
    ├── TooLarge           413
    ├── UpdateRequired     426 a device speaking a protocol version this server does not
    ├── RuleViolation      422 a business rule, code named by the contract
    ├── RateLimited        429 too many attempts; try again after `retry_after` seconds
    ├── ChargeInDoubt      202 a card charge whose outcome is not known yet
    ├── RefundInDoubt      202 a refund whose outcome is not known yet
    ├── ProcessorUnavailable 502 the card processor did not answer
    └── ConfigError            the process cannot start
"""

from __future__ import annotations

from typing import Any

import msgspec


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class FlintError(Exception):
    status = 500
    code = "internal_error"
    title = "Internal error"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.extra = extra


class InvalidRequest(FlintError):
    status = 400
    code = "invalid_request"
    title = "Invalid request"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


class Unauthorized(FlintError):
    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(FlintError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class NotFound(FlintError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(FlintError):
    status = 409
    code = "conflict"
    title = "Conflict"


class VersionConflict(Conflict):
    code = "version_conflict"
    title = "Version conflict"

    def __init__(self, detail: str, current_version: int) -> None:
        super().__init__(detail, currentVersion=current_version)


class Gone(FlintError):
    status = 410
    code = "gone"
    title = "No longer available"


class TooLarge(FlintError):
    status = 413
    code = "too_large"
    title = "Request too large"


class RuleViolation(FlintError):
    status = 422
    title = "Request breaks a rule"

    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail, code=code, **extra)


class UpdateRequired(FlintError):
    status = 426
    code = "update_required"
    title = "Update required"


class RateLimited(FlintError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)


class ChargeInDoubt(FlintError):
    """A card charge was sent to the processor and its outcome is not known yet."""

    status = 202
    code = "charge_in_doubt"
    title = "Payment being confirmed"


class RefundInDoubt(FlintError):
    """A refund was sent to the processor and its outcome is not known yet."""

    status = 202
    code = "refund_in_doubt"
    title = "Refund being confirmed"


class ProcessorUnavailable(FlintError):
    status = 502
    code = "processor_unavailable"
    title = "The card processor did not answer"


class ConfigError(FlintError):
    code = "config_error"
    title = "Configuration error"
