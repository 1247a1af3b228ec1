"""Texting for a running server: the sender (Twilio, or the built-in sandbox), and the worker
that drains the outbox through it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from litestar import Litestar

from server.config import SANDBOX_FROM_NUMBER, Settings
from server.errors import ConfigError
from server.messages.service import CodeReply
from server.messages.worker import SmsWorker
from server.store import Database
from sms.client import TwilioSender
from sms.sandbox.app import MOUNT_PATH, MOUNTED_API_PREFIX, create_sandbox_app
from sms.sandbox.state import SandboxState

STATUS_PATH = "/v1/webhooks/twilio/status"
INBOUND_PATH = "/v1/webhooks/twilio/inbound"
MEMORY = ":memory:"  # a store with no file: its sandbox keeps nothing either


def sandbox_file(db_path: str) -> Path:
    """Where the built-in Twilio sandbox keeps its account, texts and opt-outs for the store at `db_path`."""
    return Path(f"{db_path}.sandbox-twilio")


@dataclass
class Sandbox:
    """The built-in Twilio sandbox: what it remembers, and its app, mounted at `MOUNT_PATH`."""

    state: SandboxState
    app: Litestar


@dataclass
class Texting:
    worker: SmsWorker
    auth_token: str
    from_number: str
    sandbox: Sandbox | None
    on_code: CodeReply | None = None  # who answers an approval code a customer replies (wired by the app)


def texting(settings: Settings, db: Database) -> Texting:
    twilio = settings.twilio
    sandbox: Sandbox | None = None
    if twilio.sandboxed:
        # The sandbox lives in this process; it posts its webhooks to this server directly,
        # signed for the public URL as Twilio would sign them.
        where = {"inbound_url": settings.public_url + INBOUND_PATH, "deliver_base": settings.local_url or None}
        if settings.db_path == MEMORY:
            state = SandboxState.fresh(**where)
        else:  # beside the store, so a restarted server's sandbox phones still show their texts
            state = SandboxState.kept(sandbox_file(settings.db_path), **where)
        if twilio.auth_token:  # fixed, so a script can sign webhooks as the sandbox does
            state.auth_token = twilio.auth_token
        from_number = twilio.from_number or SANDBOX_FROM_NUMBER
        sandbox = Sandbox(state, create_sandbox_app(state, from_number, mounted=True))
        account_sid, auth_token = state.account_sid, state.auth_token
        api_url = (settings.local_url or settings.public_url) + MOUNT_PATH + MOUNTED_API_PREFIX
    else:
        if not twilio.auth_token or not twilio.from_number:
            raise ConfigError("TWILIO_ACCOUNT_SID needs TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER too")
        account_sid, auth_token, api_url, from_number = (
            twilio.account_sid or "",
            twilio.auth_token,
            twilio.api_url,
            twilio.from_number,
        )
    sender = TwilioSender(account_sid, auth_token, api_url, from_number, twilio.timeout)
    worker = SmsWorker(db, sender, settings.public_url + STATUS_PATH, twilio.retry_base)
    return Texting(worker=worker, auth_token=auth_token, from_number=from_number, sandbox=sandbox)
