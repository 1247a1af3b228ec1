"""Webhooks for a running server: the URL rules it applies (and the DNS it asks), the sender,
and the worker that drains the outbox through it."""

from __future__ import annotations

from dataclasses import dataclass

from server.config import Settings
from server.store import Database
from server.webhooks.sending import HttpSender, Resolver, UrlPolicy, system_resolver
from server.webhooks.worker import WebhookWorker


@dataclass(frozen=True, slots=True)
class Webhooks:
    policy: UrlPolicy
    worker: WebhookWorker


def webhooks(settings: Settings, db: Database, resolver: Resolver = system_resolver) -> Webhooks:
    """Outside `--demo` an endpoint must be https:// on a public address; `--demo` and
    `FLINT_WEBHOOK_ALLOW_PRIVATE=1` (tests) lift both rules."""
    policy = UrlPolicy(allow_private=settings.demo or settings.webhook_allow_private, resolver=resolver)
    return Webhooks(policy=policy, worker=WebhookWorker(db, HttpSender(policy)))
