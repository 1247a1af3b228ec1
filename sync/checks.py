"""What the device checks before it queues or sends anything (contract §1 limits, §7): each
check returns the value to use or raises `BadInput` with the reason in plain words. Pure.

The bounds are the protocol's, so anything that passes here also passes the server's decoding
of the mutation; what depends on the replica (balances, targets) is checked in `sync.device`.
"""

from __future__ import annotations

import re
import unicodedata

import httpx

from sync import ledger

MAX_NAME = 200
MAX_TEXT = 2000
MAX_REFERENCE = 100  # the protocol's bound for `payment.recordOffline`'s reference
MAX_QUANTITY = 10_000
MAX_TOKEN = 64
ECHOED = 64  # at most this much of what was typed is said back

_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_TOKEN = re.compile(r"[!-~]+")  # printable ASCII, no spaces: it travels in an HTTP header


class BadInput(Exception):
    """Input refused before anything is queued: exit 2."""


def echo(text: str, limit: int = ECHOED) -> str:
    """What was typed, quoted, cut short and with anything unprintable escaped."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return ascii(cut) if any(_control(ch) or _surrogate(ch) for ch in cut) else repr(cut)


def _control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def _surrogate(ch: str) -> bool:
    return unicodedata.category(ch) == "Cs"


def _text(value: str, what: str, limit: int, lines: bool) -> str:
    if not value.strip():
        raise BadInput(f"give a {what}; it cannot be empty")
    if len(value) > limit:
        raise BadInput(f"the {what} is {len(value):,} characters long; at most {limit:,} fit")
    if any(_surrogate(ch) for ch in value):
        raise BadInput(f"the {what} {echo(value)} is not valid text (UTF-8)")
    allowed = "\n\t" if lines else ""
    if any(_control(ch) and ch not in allowed for ch in value):
        kind = "control characters other than newline and tab" if lines else "control characters or line breaks"
        raise BadInput(f"the {what} {echo(value)} has {kind}")
    return value


def name(value: str, what: str = "name") -> str:
    """A name or title: one line, 1-200 characters."""
    return _text(value, what, MAX_NAME, lines=False)


def text(value: str, what: str = "text", limit: int = MAX_TEXT) -> str:
    """Free text (a note, a reference): newlines and tabs allowed, no other control character."""
    return _text(value, what, limit, lines=True)


def quantity(value: int) -> int:
    if not 1 <= value <= MAX_QUANTITY:
        raise BadInput(f"the quantity must be a whole number from 1 to {MAX_QUANTITY:,}, not {value}")
    return value


def amount(value: int, what: str = "amount") -> int:
    """Minor units, more than zero, at most the largest amount Flint takes."""
    if not 1 <= value <= ledger.MAX_AMOUNT:
        raise BadInput(f"the {what} must be from 1 to {ledger.MAX_AMOUNT:,} in minor units (cents), not {value:,}")
    return value


def phone(value: str) -> str:
    if not _E164.fullmatch(value):
        raise BadInput(f"{echo(value)} is not a phone number in E.164 form, e.g. +15551234567")
    return value


def server_url(value: str) -> str:
    """An http(s) URL with a host, without a trailing slash."""
    try:
        url = httpx.URL(value.strip())
    except (httpx.InvalidURL, UnicodeError, TypeError):
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        raise BadInput(f"{echo(value)} is not a server address; give one like https://flint.example.com")
    return str(url).rstrip("/")


def same_server(a: str, b: str) -> bool:
    """The same server, however its address was written (case, default port, trailing slash)."""
    try:
        x, y = httpx.URL(a), httpx.URL(b)
    except (httpx.InvalidURL, UnicodeError, TypeError):
        return False
    return (x.scheme, x.host, x.port, x.path.rstrip("/")) == (y.scheme, y.host, y.port, y.path.rstrip("/"))


def token(value: str) -> str:
    if not 1 <= len(value) <= MAX_TOKEN or not _TOKEN.fullmatch(value):
        raise BadInput(f"that is not a device token (they are up to {MAX_TOKEN} characters, no spaces)")
    return value
