"""The wire to an endpoint: DNS, the URL rules again at every delivery, one POST with a deadline.

The address that was checked is the address that is called: the request goes to that IP, with
the endpoint's host name in `Host` and in TLS's SNI (so its certificate is verified for that
name), never to a second DNS answer that could point inside. Each endpoint has its own HTTP
client and connections, so a dead endpoint's hanging sockets take nothing from another's.

    Attempt(status_code)      an answer (2xx delivered, 410 gone, else a failure to retry)
    Attempt(error)            no answer: url_not_allowed, a timeout, a refused connection, TLS
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from server.errors import RuleViolation
from server.webhooks import rules
from server.webhooks.rules import Attempt, Target

Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT = 5.0
_CLIENTS = rules.MAX_ENDPOINTS * 2  # kept open at once; the least recently used closes first


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the host has, in the resolver's order, once each."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """The URL rules: https, and only public addresses, unless `allow_private` (`--demo`, or
    `FLINT_WEBHOOK_ALLOW_PRIVATE=1` for tests) lifts both."""

    allow_private: bool
    resolver: Resolver = field(default=system_resolver)

    async def check(self, url: str) -> tuple[Target, list[str]]:
        """The URL's target and the addresses to call (none: call it by name, rules lifted).
        Raises 400 for what is no URL, 422 `url_not_allowed` for a URL Flint will not call."""
        target = rules.parse_url(url)
        rules.check_scheme(target, self.allow_private)
        if self.allow_private:
            return target, []
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                addresses = await self.resolver(target.host, target.port)
        except (OSError, TimeoutError, UnicodeError):
            raise rules.refuse(f"{target.host} does not resolve") from None
        rules.check_addresses(target, addresses)
        return target, addresses


class Sender(Protocol):
    async def post(self, endpoint_id: str, url: str, body: bytes, headers: Mapping[str, str]) -> Attempt: ...

    async def close(self) -> None: ...


class HttpSender:
    def __init__(self, policy: UrlPolicy, timeout: float = rules.TIMEOUT, verify: ssl.SSLContext | bool = True) -> None:
        self.policy = policy
        self.timeout = timeout
        self.verify = verify
        self._clients: OrderedDict[str, tuple[str, httpx.AsyncClient]] = OrderedDict()

    async def post(self, endpoint_id: str, url: str, body: bytes, headers: Mapping[str, str]) -> Attempt:
        try:
            async with asyncio.timeout(self.timeout):
                target, addresses = await self.policy.check(url)
                client = await self._client(endpoint_id, target)
                request = _request(client, target, addresses, body, headers)
                response = await client.send(request, stream=True)
                await response.aclose()  # the status is the answer; the body is never read
                return Attempt(
                    status_code=response.status_code,
                    retry_after=rules.parse_retry_after(response.headers.get("retry-after")),
                )
        except RuleViolation as err:
            return Attempt(error=f"url_not_allowed: {err.detail}")
        except TimeoutError:
            return Attempt(error=f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return Attempt(error=_described(exc))

    async def _client(self, endpoint_id: str, target: Target) -> httpx.AsyncClient:
        kept = self._clients.pop(endpoint_id, None)
        if kept is not None and kept[0] != target.host:
            await kept[1].aclose()  # the endpoint moved: its old connections go
            kept = None
        if kept is None:
            client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,  # a redirect is a failure: the URL should be changed instead
                trust_env=False,
                verify=self.verify,
                limits=httpx.Limits(max_connections=rules.PER_ENDPOINT, max_keepalive_connections=rules.PER_ENDPOINT),
            )
            kept = (target.host, client)
        self._clients[endpoint_id] = kept
        while len(self._clients) > _CLIENTS:
            _, (_, oldest) = self._clients.popitem(last=False)
            await oldest.aclose()
        return kept[1]

    async def close(self) -> None:
        clients = [client for _, client in self._clients.values()]
        self._clients.clear()
        for client in clients:
            await client.aclose()


def _request(
    client: httpx.AsyncClient, target: Target, addresses: list[str], body: bytes, headers: Mapping[str, str]
) -> httpx.Request:
    url = httpx.URL(target.url)
    if not addresses:
        return client.build_request("POST", url, content=body, headers=dict(headers))
    pinned = url.copy_with(host=addresses[0])
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    return client.build_request(
        "POST", pinned, content=body, headers={**headers, "host": url.netloc.decode()}, extensions=extensions
    )


def _described(exc: httpx.HTTPError) -> str:
    names: dict[type[httpx.HTTPError], str] = {
        httpx.ConnectError: "could not connect",
        httpx.ConnectTimeout: "could not connect in time",
        httpx.ReadTimeout: "no answer in time",
        httpx.RemoteProtocolError: "the endpoint broke the HTTP exchange",
    }
    name = names.get(type(exc), type(exc).__name__)
    detail = str(exc)
    return f"{name}: {detail}"[:200] if detail else name
