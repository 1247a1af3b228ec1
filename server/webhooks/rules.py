"""Webhooks, the pure parts: secrets and Standard Webhooks 1.0 signatures, the body, the retry
schedule, what an answer means, and which URLs Flint may call (contract §11)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from server.errors import FieldError, InvalidRequest, RuleViolation

SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix every secret carries, not a secret
SECRET_BYTES = 32
TIMEOUT = 10.0  # seconds an attempt may take, from asking DNS to the answer's status line
OVERLAP = timedelta(hours=24)  # a rotated-out secret keeps signing this long beside the new one
FAILING_FOR = timedelta(days=3)  # an endpoint whose every delivery failed this long is disabled
# After the first attempt fails: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 24 h, 24 h (about 3 days).
SCHEDULE = tuple(
    timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000, 86400, 86400)
)  # fmt: skip
MAX_ATTEMPTS = len(SCHEDULE) + 1
JITTER = 0.1  # each wait is up to this much longer, so retries to one endpoint spread out
PER_ENDPOINT = 4  # deliveries in flight at once to one endpoint: a slow one holds only its own
MAX_ENDPOINTS = 20
MAX_URL = 2000

DisabledReason = Literal["office", "gone", "failing"]
GONE = 410


# Secrets and signatures.


def new_secret() -> str:
    """`whsec_` and the base64 of 32 random bytes: what the receiver's library takes as is."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the secret's decoded bytes."""
    digest = hmac.new(_key(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(live: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """One signature per live secret, space-separated: during a rotation both verify."""
    return " ".join(sign(secret, message_id, timestamp, body) for secret in live)


class Payload(msgspec.Struct):
    """The body: `{type, timestamp, data}`, `data` the event's object, byte for byte as stored."""

    type: str
    timestamp: str
    data: msgspec.Raw


_encode = msgspec.json.Encoder().encode


def body(type: str, timestamp: str, data: msgspec.Raw) -> bytes:
    return _encode(Payload(type=type, timestamp=timestamp, data=data))


def headers(message_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
        "user-agent": "Flint-Webhooks/1.0",
    }


# Attempts and what they come to.


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one attempt got: an HTTP status, or an error before there was one."""

    status_code: int | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, from a `Retry-After` the endpoint sent

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == GONE

    def describe(self) -> str | None:
        """`lastError` in the delivery log; a 2xx has none."""
        if self.delivered:
            return None
        if self.status_code is not None:
            return f"HTTP {self.status_code}"
        return self.error or "no answer"


def next_attempt(
    attempts: int, now: datetime, retry_after: float | None = None, rng: random.Random | None = None
) -> datetime | None:
    """When to try again after `attempts` failed ones, or None: give up (`failed`). An endpoint's
    `Retry-After` longer than the schedule's wait is honoured, up to the longest wait."""
    if attempts >= MAX_ATTEMPTS:
        return None
    step = SCHEDULE[attempts - 1]
    if retry_after is not None:
        step = min(max(step, timedelta(seconds=retry_after)), SCHEDULE[-1])
    return now + step * (1 + (rng or _rng).uniform(0, JITTER))


_rng = random.Random()


def failing_too_long(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= FAILING_FOR


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` in seconds (the HTTP-date form is rare from webhook receivers: ignored)."""
    if value is None or not value.strip().isdigit() or len(value.strip()) > 9:
        return None
    return float(value.strip())


# Which URLs Flint calls.


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    scheme: str
    host: str  # without brackets for IPv6
    port: int


def parse_url(url: str) -> Target:
    """An absolute http(s) URL with a host and no user name or password; 400 otherwise."""

    def bad(message: str) -> InvalidRequest:
        return InvalidRequest(f"url: {message}", [FieldError("url", message)])

    if len(url) > MAX_URL:
        raise bad(f"has at most {MAX_URL} characters")
    if not url.isascii() or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise bad("must be an ASCII URL with no spaces (encode other characters)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad("is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad("must be an absolute http or https URL, such as https://hooks.example.com/flint")
    if parts.username is not None or parts.password is not None:
        raise bad("must not carry a user name or password (sign requests with the secret instead)")
    return Target(
        url=url, scheme=parts.scheme, host=parts.hostname, port=port or (443 if parts.scheme == "https" else 80)
    )


def refuse(detail: str) -> RuleViolation:
    return RuleViolation("url_not_allowed", detail)


def check_scheme(target: Target, allow_private: bool) -> None:
    if target.scheme != "https" and not allow_private:
        raise refuse("the URL must be https://")


def address_refused(address: str) -> str | None:
    """Why Flint will not call this address (loopback, private, link-local or otherwise not a
    public one), or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "not a public address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_multicast:
        return "not a public address"
    return None


def check_addresses(target: Target, addresses: Sequence[str]) -> None:
    """Every address the host resolves to must be a public one: one private answer among public
    ones is how DNS is used to reach inside."""
    if not addresses:
        raise refuse(f"{target.host} resolves to no address")
    for address in addresses:
        why = address_refused(address)
        if why is not None:
            raise refuse(f"{target.host} resolves to {address}, {why}")
