"""`POST /v1/sync/push`: every mutation applied exactly once, in order, in one transaction.

Each mutation runs in a savepoint of its own. Its result and the client's `lastMutationId`
commit with its effects, so a push replayed after a crash or a lost response answers the
mutations it already took with their first results and applies nothing twice. A rejected
mutation is used up: its savepoint is undone, its code is recorded, its job's trail says so.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec

from server.clock import parse_time
from server.errors import FieldError, FlintError, Forbidden, InvalidRequest, NotFound, RuleViolation
from server.orders.batch import LineBatch
from server.replication import store
from server.replication.mutations import HANDLERS, Device, batched, job_of
from server.store import Tx
from server.store.changelog import touch
from server.technicians import store as technicians_store
from server.trail import service as trail
from server.web.body import UNKNOWN_FIELD, field_error
from server.web.problems import clip
from sync import protocol as p

log = logging.getLogger("flint.sync")

MAX_NAME = 64  # a mutation's name, as stored and as repeated back in a rejection
OUT_OF_SCOPE = frozenset({"not_assigned", "not_found"})  # rejections that touch no trail (contract §7)
_decode_mutation = msgspec.json.Decoder(p.Mutation).decode
_decode_envelope = msgspec.json.Decoder(p.Envelope).decode
_encode = msgspec.json.Encoder().encode
_decode_data = msgspec.json.Decoder(dict[str, Any]).decode


@dataclass(frozen=True, slots=True)
class Outcome:
    last_mutation_id: int
    results: list[p.MutationResult]
    gap: bool = False


def envelopes(request: p.PushRequest) -> list[p.Envelope]:
    """Every mutation must at least say its id and name, in increasing id order; else the push
    is malformed as a whole."""
    found: list[p.Envelope] = []
    for index, raw in enumerate(request.mutations):
        try:
            envelope = _decode_envelope(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            field = f"mutations[{index}]"
            raise InvalidRequest(f"{field}: {exc}", [FieldError(field, str(exc))]) from None
        if found and envelope.id <= found[-1].id:
            field = f"mutations[{index}].id"
            raise InvalidRequest(f"{field}: ids must increase", [FieldError(field, "ids must increase")])
        found.append(envelope)
    return found


def claim_client(tx: Tx, client_id: str, device: Device, device_id: str) -> int:
    """The client's last mutation id; a new client belongs to the first device that uses it."""
    row = store.client(tx, client_id)
    if row is None:
        store.create_client(tx, client_id, device_id, device.technician_id)
        return 0
    if row["device_id"] != device_id:
        raise Forbidden("this clientId belongs to another device")
    return int(row["last_mutation_id"])


def push(tx: Tx, request: p.PushRequest, found: list[p.Envelope], device: Device, device_id: str) -> Outcome:
    last = claim_client(tx, request.client_id, device, device_id)
    earlier = store.results(tx, request.client_id, [e.id for e in found if e.id <= last])
    results: list[p.MutationResult] = []
    saved: list[dict[str, Any]] = []
    gap = False
    batch = LineBatch(tx, device.actor)
    for envelope, raw in zip(found, request.mutations, strict=True):
        if envelope.id <= last:
            if envelope.id in earlier:
                results.append(_stored(earlier[envelope.id]))
            continue
        if envelope.id > last + 1:
            gap = True
            break
        applied = _apply(tx, device, envelope, raw, request.client_id, batch)
        result = applied.result
        results.append(result)
        saved.append(
            {
                "client_id": request.client_id,
                "mutation_id": result.id,
                "seq": applied.seq,
                "name": envelope.name[:MAX_NAME],
                "status": result.status,
                "code": result.code,
                "detail": result.detail,
                "data": _encode(result.data).decode() if result.data is not None else None,
                "applied_at": tx.now,
            }
        )
        last = envelope.id
    batch.flush()
    store.save_results(tx, saved)
    store.set_last_mutation(tx, request.client_id, last)
    technicians_store.mark_synced(tx, device.technician_id)
    return Outcome(last, results, gap)


def _apply(tx: Tx, device: Device, envelope: p.Envelope, raw: msgspec.Raw, client_id: str, batch: LineBatch) -> Applied:
    """One mutation: an add-on the batch can take is held for it (checked now, written with the
    batch); anything else is applied in a savepoint of its own once the batch is written, so
    everything lands in the order the device sent it."""
    client_at = _client_time(envelope.client_at)
    try:
        mutation = _decoded(envelope, raw, client_at)
        held = batched(tx, device, mutation, batch)
        if held is not None:
            return Applied(p.MutationResult(id=envelope.id, status="applied", data=held.data))
    except (FlintError, sqlite3.IntegrityError) as err:
        return _rejected(tx, device, envelope, raw, client_id, client_at, batch, err)
    except Exception:
        return _rejected(tx, device, envelope, raw, client_id, client_at, batch, None)
    batch.flush()
    try:
        with tx.savepoint("mutation"):
            data = HANDLERS[type(mutation)](tx, device, mutation)
        return Applied(p.MutationResult(id=envelope.id, status="applied", data=data))
    except (FlintError, sqlite3.IntegrityError) as err:
        return _rejected(tx, device, envelope, raw, client_id, client_at, batch, err)
    except Exception:
        return _rejected(tx, device, envelope, raw, client_id, client_at, batch, None)


def _decoded(envelope: p.Envelope, raw: msgspec.Raw, client_at: str | None) -> p.BaseMutation:
    if len(envelope.name) > MAX_NAME:
        raise RuleViolation("invalid_args", f"a mutation name has at most {MAX_NAME} characters")
    if envelope.name not in p.MUTATIONS:
        raise RuleViolation("unknown_mutation", f"this server does not know {envelope.name!r}")
    if envelope.client_at is not None and client_at is None:
        raise RuleViolation("invalid_args", "clientAt must be an RFC 3339 time such as 2026-05-01T14:30:00Z")
    try:
        mutation: p.BaseMutation = _decode_mutation(raw)
    except msgspec.ValidationError as exc:
        raise RuleViolation("invalid_args", _invalid_args(exc)) from None
    except msgspec.DecodeError as exc:
        raise RuleViolation("invalid_args", str(exc).replace("`", "")) from None
    return mutation


def _rejected(
    tx: Tx,
    device: Device,
    envelope: p.Envelope,
    raw: msgspec.Raw,
    client_id: str,
    client_at: str | None,
    batch: LineBatch,
    err: Exception | None,
) -> Applied:
    """A mutation used up with nothing of it applied: its code, its trail event (after what the
    batch holds from the mutations before it), its place in the change log."""
    if isinstance(err, FlintError):
        code, detail = _code(err), err.detail
    elif err is not None:
        code, detail = _code(err), "it conflicts with what the server has"
    else:
        # The server's own failure, not the device's: the mutation is used up with a code that
        # says so, and the ones after it are still applied.
        log.exception("mutation %s of client %s (%s) failed", envelope.id, client_id, envelope.name[:MAX_NAME])
        code, detail = "internal_error", "the server could not apply this mutation; it has been logged"
    batch.flush()
    detail = clip(detail)
    job_id = None if code in OUT_OF_SCOPE else job_of(tx, raw, device)
    seq = trail.record(
        tx,
        "mutation.rejected",
        device.actor,
        {
            "clientId": client_id,
            "mutationId": envelope.id,
            "name": envelope.name[:MAX_NAME],
            "code": code,
            "detail": detail,
        },
        job_id=job_id,
        client_at=client_at,
    )
    position = touch(tx, "rejection", f"{client_id}:{envelope.id}:{seq}", job_id)
    return Applied(p.MutationResult(id=envelope.id, status="rejected", code=code, detail=detail), position)


@dataclass(frozen=True, slots=True)
class Applied:
    """A mutation's result, and for a rejection its place in the change log."""

    result: p.MutationResult
    seq: int | None = None


def _invalid_args(exc: msgspec.ValidationError) -> str:
    """`args.referance: is not an argument of this mutation`: the field named as sent, so the
    device's outbox says which one (an unknown one is never quietly dropped)."""
    error = field_error(exc)
    message = "is not an argument of this mutation" if error.message == UNKNOWN_FIELD else error.message
    return f"{error.field}: {message}"


def _client_time(text: str | None) -> str | None:
    """The device's own time, if it is one: for display only, never for ordering."""
    if text is None:
        return None
    try:
        parse_time(text)
    except ValueError:
        return None
    return text


def _code(err: Exception) -> str:
    if isinstance(err, NotFound):
        return "not_found"
    if isinstance(err, InvalidRequest):
        return "invalid_args"
    if isinstance(err, FlintError):
        return err.code
    return "conflict"


def _stored(row: Any) -> p.MutationResult:
    return p.MutationResult(
        id=row["mutation_id"],
        status=row["status"],
        code=row["code"],
        detail=row["detail"],
        data=_decode_data(row["data"]) if row["data"] else None,
    )
