"""`Ctx`, injected into every route: who is calling, the settings, and the ways to reach the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

import msgspec
from litestar import Request, Response

from server.config import Settings
from server.errors import FlintError
from server.store import Database, Tx
from server.web.attempts import FailedAttempts
from server.web.auth import Caller
from server.web.idempotency import HEADER, IdempotencyKey, Outcome, parse_key, run_once, stored
from server.web.problems import PROBLEM_MEDIA_TYPE
from server.web.state import web_state
from server.wire import Actor

T = TypeVar("T")
S = TypeVar("S", bound=msgspec.Struct)

JSON = "application/json"
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True, slots=True)
class Answer(Generic[S]):
    """An answer whose status is decided by the work itself (an existing thing found: 200;
    a new one made: 201)."""

    body: S
    status: int


class Ctx:
    def __init__(self, request: Request[Any, Any, Any]) -> None:
        self.request = request
        state = web_state(request)
        self.settings: Settings = state.settings
        self.db: Database = state.db
        self.caller: Caller | None = request.state.get("caller")
        self.card_attempts: FailedAttempts = state.card_attempts

    @property
    def public_url(self) -> str:
        return self.settings.public_url

    @property
    def authenticated(self) -> Caller:
        assert self.caller is not None, "route is not behind a guard"
        return self.caller

    @property
    def actor(self) -> Actor:
        caller = self.authenticated
        return Actor(kind=caller.kind, id=caller.actor_id)

    async def read(self, unit: Callable[[Tx], T]) -> T:
        return await self.db.read(unit)

    async def write(self, unit: Callable[[Tx], T]) -> T:
        """A write with no response to record (webhooks, pages)."""
        return await self.db.write(unit)

    async def idempotency_key(self) -> IdempotencyKey | None:
        request = self.request
        return parse_key(
            request.headers.get(HEADER),
            scope=self.authenticated.scope,
            method=request.method,
            path=request.url.path,
            body=await request.body(),
        )

    async def replayed(self) -> Response[Any] | None:
        """The stored answer to this request's key, for routes that must look before they act."""
        key = await self.idempotency_key()
        if key is None:
            return None
        outcome = await self.read(partial(stored, key=key))
        return None if outcome is None else _respond(outcome)

    async def commit(
        self,
        unit: Callable[[Tx], S | Answer[S]],
        status: int = 200,
        *,
        kept: Callable[[S], msgspec.Struct] | None = None,
    ) -> Response[Any]:
        """Run `unit` in one write transaction and answer with what it returns (with `status`,
        unless it returns an `Answer` saying another).

        With an `Idempotency-Key`, the answer (or the rule it broke) is stored in that same
        transaction, and a retry gets it back with `Idempotent-Replayed: true`. `kept` turns the
        answer into what may be stored: a secret shown once is never kept.
        """

        def encoded(tx: Tx) -> tuple[int, bytes, bytes]:
            result = unit(tx)
            answer, code = (result.body, result.status) if isinstance(result, Answer) else (result, status)
            body = _encoder.encode(answer)
            return code, body, (body if kept is None else _encoder.encode(kept(answer)))

        key = await self.idempotency_key()
        if key is None:
            code, body, _ = await self.write(encoded)
            return Response(body, status_code=code, media_type=JSON)
        return _respond(await self.write(partial(run_once, key=key, unit=encoded)))

    async def refuse(self, err: FlintError) -> Response[Any]:
        """Answer with `err`, stored against the request's key like any other answer."""

        def raise_it(tx: Tx) -> msgspec.Struct:
            raise err

        return await self.commit(raise_it)


def _respond(outcome: Outcome) -> Response[Any]:
    return Response(
        outcome.body,
        status_code=outcome.status,
        media_type=PROBLEM_MEDIA_TYPE if outcome.problem else JSON,
        headers={"Idempotent-Replayed": "true"} if outcome.replayed else None,
    )


async def provide_ctx(request: Request[Any, Any, Any]) -> Ctx:
    return Ctx(request)
