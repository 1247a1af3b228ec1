"""Sending through the real `twilio` library, pointed at `TWILIO_API_URL`.

The library has no base-URL option; its documented way to send elsewhere is a custom HTTP
client, so `RoutedHttpClient` subclasses `TwilioHttpClient` and rewrites where each request
goes. The library's own retries stay off: a retried POST can send one text twice, and the
outbox decides retries itself, knowing which failures are safe to retry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from sms.sender import Found, Kind, SendResult

log = logging.getLogger("flint.sms")

TIMEOUT_SECONDS = 10.0


class RoutedHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends every request to `base_url` (scheme, host, port and path prefix) instead of Twilio's host."""

    def __init__(self, base_url: str, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.base = urlsplit(base_url.rstrip("/"))

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        parts = urlsplit(url)
        routed = parts._replace(scheme=self.base.scheme, netloc=self.base.netloc, path=self.base.path + parts.path)
        return super().request(method, urlunsplit(routed), *args, **kwargs)


def classify(http_status: int, error_code: int | None) -> Kind:
    """What an error answer from Twilio means for the message."""
    if http_status == 429 or http_status >= 500:
        return "retry"
    return "rejected"


class TwilioSender:
    """The `Sender` backed by Twilio's Messages API, through the real `twilio` client."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_url: str,
        from_number: str,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.from_number = from_number
        self.timeout = timeout
        self._client = Client(account_sid, auth_token, http_client=RoutedHttpClient(api_url, timeout))

    async def send(self, to: str, body: str, status_callback: str) -> SendResult:
        return await asyncio.to_thread(self._send, to, body, status_callback)

    def _send(self, to: str, body: str, status_callback: str) -> SendResult:
        try:
            message = self._client.messages.create(
                to=to, from_=self.from_number, body=body, status_callback=status_callback
            )
        except TwilioRestException as exc:
            return SendResult(
                classify(exc.status, exc.code), error_code=exc.code, http_status=exc.status, detail=exc.msg
            )
        except requests.exceptions.ConnectionError as exc:
            # No connection was made, so nothing reached Twilio: safe to send again. A
            # connection that broke after the request went out may have reached it.
            never_reached = isinstance(exc, requests.exceptions.ConnectTimeout) or _refused(exc)
            return SendResult("retry" if never_reached else "in_doubt", detail=str(exc))
        except requests.exceptions.Timeout as exc:
            return SendResult("in_doubt", detail=f"no answer in {self.timeout:g}s: {exc}")
        except requests.exceptions.RequestException as exc:
            return SendResult("in_doubt", detail=str(exc))
        return SendResult("accepted", sid=message.sid, provider_status=message.status)

    async def find(self, to: str, body: str, since: datetime, taken: Collection[str] = ()) -> Found | None:
        """Raises `requests` or `TwilioRestException` errors when Twilio cannot be asked."""
        return await asyncio.to_thread(self._find, to, body, since, taken)

    def _find(self, to: str, body: str, since: datetime, taken: Collection[str]) -> Found | None:
        for message in self._client.messages.list(to=to, from_=self.from_number, limit=50):
            created = message.date_created
            if message.sid in taken:
                continue
            if message.body == body and created is not None and created.astimezone(UTC) >= since:
                return Found(sid=str(message.sid), provider_status=str(message.status))
        return None


def _refused(exc: requests.exceptions.ConnectionError) -> bool:
    text = repr(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolutionError" in text
