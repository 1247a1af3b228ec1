"""The device's HTTP client for push and pull: timeouts, a few retries with backoff for what
is worth retrying, and one error type that says why a sync could not finish.

    SyncError            the sync did not finish; the outbox is as it was
    ├── Unreachable      no answer: no network, server down, timeouts
    ├── Refused          the server said no (401 revoked token, 403, 426 update required, ...)
"""

from __future__ import annotations

import time
from typing import TypeVar

import httpx
import msgspec

from sync import protocol as p

T = TypeVar("T")

TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class SyncError(Exception):
    pass


class Unreachable(SyncError):
    """`connected`: some attempt reached the server, so what it carried may have been applied."""

    def __init__(self, message: str, connected: bool = True) -> None:
        super().__init__(message)
        self.connected = connected


class Refused(SyncError):
    def __init__(self, status: int, code: str, detail: str, body: dict[str, object]) -> None:
        super().__init__(f"the server refused ({status} {code}): {detail}")
        self.status = status
        self.code = code
        self.body = body


class SyncClient:
    def __init__(
        self,
        server: str,
        token: str,
        *,
        attempts: int = 3,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.server = server.rstrip("/")
        self.attempts = attempts
        self.backoff = backoff
        self._http = httpx.Client(
            base_url=self.server,
            headers={"Authorization": f"Bearer {token}", "User-Agent": "flint-device/1"},
            timeout=TIMEOUT,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def push(self, client_id: str, mutations: list[p.BaseMutation]) -> p.PushResponse:
        body = p.Push(client_id=client_id, schema_version=p.SCHEMA_VERSION, mutations=mutations)  # type: ignore[arg-type]
        return self._post("/v1/sync/push", msgspec.json.encode(body), p.PushResponse)

    def pull(self, client_id: str, cursor: str | None, limit: int = p.DEFAULT_PULL) -> p.PullResponse:
        body = p.PullRequest(client_id=client_id, schema_version=p.SCHEMA_VERSION, cursor=cursor, limit=limit)
        return self._post("/v1/sync/pull", msgspec.json.encode(body), p.PullResponse)

    def _post(self, path: str, body: bytes, answer: type[T]) -> T:
        """Retried: no connection, timeouts, 429 and 5xx. Push and pull are safe to repeat: the
        server answers a repeated mutation id with its first result."""
        last: Exception | None = None
        connected = False
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self._http.post(path, content=body, headers={"Content-Type": "application/json"})
            except httpx.TransportError as exc:
                last = exc
                connected = connected or not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                continue
            connected = True
            if response.status_code == 429 or response.status_code >= 500:
                last = SyncError(f"the server answered {response.status_code}")
                continue
            if response.status_code != 200:
                raise _refused(response)
            return msgspec.json.decode(response.content, type=answer)
        raise Unreachable(f"could not reach {self.server}: {_reason(last)}", connected)


def _refused(response: httpx.Response) -> Refused:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return Refused(
        response.status_code,
        str(body.get("code", "error")),
        str(body.get("detail", response.reason_phrase)),
        body,
    )


def _reason(exc: Exception | None) -> str:
    if isinstance(exc, httpx.ConnectError):
        return "no connection (offline, or the server is down)"
    if isinstance(exc, httpx.TimeoutException):
        return "it did not answer in time"
    return str(exc) if exc else "unknown error"
