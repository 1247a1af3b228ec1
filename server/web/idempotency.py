"""`Idempotency-Key`: the first response to a key is stored in the same transaction as the
effects that produced it, so a retry after a lost response or a crash replays it and does
nothing more.

A key is scoped to its caller and lives 7 days. The same key with another body (or another
route) is `idempotency_key_reused`. Malformed requests (400) never reach the store and are not
recorded, so a client may fix its body and retry with the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import msgspec

from server.clock import format_time, parse_time
from server.errors import FieldError, FlintError, InvalidRequest, RuleViolation
from server.store import Tx
from server.store import idempotency as store
from server.web.problems import encode_problem

KEEP_FOR = timedelta(days=7)
HEADER = "idempotency-key"

_encoder = msgspec.json.Encoder(order="sorted")
_canonical_decoder = msgspec.json.Decoder()


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    scope: str
    key: str
    request_hash: str


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    body: bytes
    problem: bool
    replayed: bool


def parse_key(value: str | None, *, scope: str, method: str, path: str, body: bytes) -> IdempotencyKey | None:
    if value is None:
        return None
    if not 1 <= len(value) <= 255:
        raise InvalidRequest(
            "Idempotency-Key must be 1-255 characters",
            [FieldError("Idempotency-Key", "must be 1-255 characters")],
        )
    return IdempotencyKey(scope, value, request_fingerprint(method, path, body))


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """Same route and same JSON (whitespace and key order aside) give the same fingerprint."""
    try:
        canonical = _encoder.encode(_canonical_decoder.decode(body)) if body.strip() else b""
    except (msgspec.DecodeError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def stored(tx: Tx, key: IdempotencyKey) -> Outcome | None:
    """The outcome stored for this key, if any (an expired one counts as none)."""
    row = store.find(tx, key.scope, key.key)
    if row is None:
        return None
    if parse_time(row["created_at"]) + KEEP_FOR <= parse_time(tx.now):
        return None
    if row["request_hash"] != key.request_hash:
        raise RuleViolation("idempotency_key_reused", "this Idempotency-Key was already used with a different request")
    status = int(row["status"])
    return Outcome(status, bytes(row["body"]), problem=status >= 400, replayed=True)


def run_once(tx: Tx, key: IdempotencyKey, unit: Callable[[Tx], tuple[int, bytes, bytes]]) -> Outcome:
    """Inside a write transaction: replay the stored outcome, or run `unit` and store its outcome.
    `unit` returns the status, the answer and the form of it that may be stored (no secret in it)."""
    earlier = stored(tx, key)
    if earlier is not None:
        return earlier
    outcome: Outcome
    try:
        with tx.savepoint("idempotent_unit"):
            status, body, keep = unit(tx)
        outcome = Outcome(status, body, problem=False, replayed=False)
    except InvalidRequest:
        raise
    except FlintError as err:
        outcome = Outcome(err.status, encode_problem(err), problem=True, replayed=False)
        keep = outcome.body
    store.save(tx, key.scope, key.key, key.request_hash, outcome.status, keep)
    return outcome


def purge_expired(tx: Tx) -> int:
    return store.purge_before(tx, format_time(parse_time(tx.now) - KEEP_FOR))
