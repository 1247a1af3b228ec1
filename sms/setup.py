"""Texting for a running server: Twilio (or the built-in sandbox), the gateway and the worker."""

from __future__ import annotations

from dataclasses import dataclass

from server.config import SANDBOX_FROM_NUMBER, Settings
from server.errors import ConfigError
from server.store import Database
from sms.client import TwilioGateway
from sms.sandbox.state import SandboxState
from sms.worker import SmsWorker

STATUS_PATH = "/v1/webhooks/twilio/status"
INBOUND_PATH = "/v1/webhooks/twilio/inbound"
SANDBOX_API_PATH = "/sandbox/twilio"


@dataclass
class Texting:
    worker: SmsWorker
    auth_token: str
    from_number: str
    sandbox: SandboxState | None


def texting(settings: Settings, db: Database) -> Texting:
    twilio = settings.twilio
    sandbox: SandboxState | None = None
    if twilio.sandboxed:
        # The sandbox lives in this process; it posts its webhooks to this server directly,
        # signed for the public URL as Twilio would sign them.
        sandbox = SandboxState.fresh(
            inbound_url=settings.public_url + INBOUND_PATH, deliver_base=settings.local_url or None
        )
        account_sid, auth_token = sandbox.account_sid, sandbox.auth_token
        api_url = (settings.local_url or settings.public_url) + SANDBOX_API_PATH
        from_number = twilio.from_number or SANDBOX_FROM_NUMBER
    else:
        if not twilio.auth_token or not twilio.from_number:
            raise ConfigError("TWILIO_ACCOUNT_SID needs TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER too")
        account_sid, auth_token, api_url, from_number = (
            twilio.account_sid or "",
            twilio.auth_token,
            twilio.api_url,
            twilio.from_number,
        )
    gateway = TwilioGateway(account_sid, auth_token, api_url, from_number, twilio.timeout)
    worker = SmsWorker(db, gateway, settings.public_url + STATUS_PATH, twilio.retry_base)
    return Texting(worker=worker, auth_token=auth_token, from_number=from_number, sandbox=sandbox)
