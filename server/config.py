"""Settings read from the environment (contract §2)."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass

from server.errors import ConfigError

DEMO_API_KEY = "flint_demo_office_key"
MIN_API_KEY = 32  # characters: an office key anyone could guess in a day is no key (contract §1)
DEFAULT_BUSINESS_NAME = "Flint Field Services"


SANDBOX_FROM_NUMBER = "+15005550006"
PROCESSORS = ("sandbox", "stripe")  # card processors this server can use (contract §4, §10)
STRIPE_API = "https://api.stripe.com"
STRIPE_JS = "https://js.stripe.com/v3/"


@dataclass(frozen=True, slots=True)
class StripeSettings:
    """`FLINT_PROCESSOR=stripe` (contract §10): where the `stripe` library sends its requests, the
    keys, the webhook signing secret, and where the pages load Stripe.js from."""

    api_base: str
    secret_key: str
    publishable_key: str
    webhook_secret: str
    js_url: str


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    account_sid: str | None
    auth_token: str | None
    from_number: str | None
    api_url: str
    timeout: float = 10.0
    retry_base: float = 2.0

    @property
    def sandboxed(self) -> bool:
        """No account configured: the server runs its own Twilio-compatible sandbox."""
        return not self.account_sid


@dataclass(frozen=True, slots=True)
class Settings:
    db_path: str
    api_key: str
    public_url: str
    twilio: TwilioSettings
    demo: bool = False
    scheduler: bool = True
    business_name: str = DEFAULT_BUSINESS_NAME
    local_url: str = ""
    processor_timeout: float = 20.0  # seconds a card processor call may take before it is in doubt
    settle_every: float = 10.0  # how often charges and refunds in doubt are settled with the processor
    processor: str = "sandbox"
    stripe: StripeSettings | None = None

    @property
    def sandbox_processor(self) -> bool:
        """Cards go to the sandbox processor: every customer page says no money moves."""
        return self.processor == "sandbox"

    billing_interval: float = 60.0  # seconds between billing runs and between reminder runs
    webhook_allow_private: bool = False  # FLINT_WEBHOOK_ALLOW_PRIVATE=1: webhooks to http and private addresses (tests)
    # Proxies whose `X-Forwarded-For` names the client (addresses or networks); none by default,
    # so a client's address is the connection's peer and no header can choose it.
    trusted_proxies: tuple[str, ...] = ()
    db_readers: int = 4  # SQLite reader connections the API's reads share

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        demo: bool = False,
    ) -> Settings:
        env = os.environ if env is None else env
        api_key = env.get("FLINT_API_KEY", "")
        if not api_key:
            if not demo:
                raise ConfigError("FLINT_API_KEY is required (or run with --demo)")
            api_key = DEMO_API_KEY
        elif not demo:
            check_api_key(api_key)
        local_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a comparison
        local_url = f"http://{local_host}:{port}"
        public_url = env.get("FLINT_PUBLIC_URL") or f"http://{host}:{port}"
        processor = env.get("FLINT_PROCESSOR") or "sandbox"
        if processor not in PROCESSORS:
            raise ConfigError(f"FLINT_PROCESSOR must be one of {', '.join(PROCESSORS)}, not {processor[:40]!r}")
        return cls(
            db_path=env.get("FLINT_DB") or "./flint.db",
            api_key=api_key,
            public_url=public_url.rstrip("/"),
            twilio=TwilioSettings(
                account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
                auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
                from_number=env.get("TWILIO_FROM_NUMBER") or None,
                api_url=(env.get("TWILIO_API_URL") or "https://api.twilio.com").rstrip("/"),
                timeout=_seconds(env, "FLINT_TWILIO_TIMEOUT", 10.0),
                retry_base=_seconds(env, "FLINT_SMS_RETRY_BASE", 2.0),
            ),
            local_url=local_url,
            demo=demo,
            processor_timeout=_seconds(env, "FLINT_PROCESSOR_TIMEOUT", 20.0),
            settle_every=_seconds(env, "FLINT_SETTLE_EVERY", 10.0),
            business_name=env.get("FLINT_BUSINESS_NAME") or DEFAULT_BUSINESS_NAME,
            processor=processor,
            stripe=_stripe(env) if processor == "stripe" else None,
            billing_interval=_seconds(env, "FLINT_BILLING_INTERVAL", 60.0),
            webhook_allow_private=env.get("FLINT_WEBHOOK_ALLOW_PRIVATE") == "1",
            trusted_proxies=trusted_proxies(env.get("FLINT_TRUSTED_PROXIES", "")),
            db_readers=_count(env, "FLINT_DB_READERS", 4, most=32),
        )


def check_api_key(key: str) -> None:
    """Outside the demo the office key must be long enough that guessing it is hopeless even
    without the attempt limit, and sendable as a bearer header as it is."""
    if len(key) < MIN_API_KEY:
        raise ConfigError(
            f"FLINT_API_KEY has {len(key)} characters; it needs at least {MIN_API_KEY}."
            " Make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    if any(c.isspace() or not c.isprintable() for c in key):
        raise ConfigError("FLINT_API_KEY must not contain spaces or control characters")


def trusted_proxies(text: str) -> tuple[str, ...]:
    """`FLINT_TRUSTED_PROXIES`: addresses or CIDR networks, separated by commas or spaces."""
    found: list[str] = []
    for item in text.replace(",", " ").split():
        try:
            network = ipaddress.ip_network(item, strict=False) if "/" in item else ipaddress.ip_address(item)
        except ValueError:
            raise ConfigError(
                f"FLINT_TRUSTED_PROXIES takes addresses or networks such as 10.0.0.5 or 10.0.0.0/24, not {item[:40]!r}"
            ) from None
        if isinstance(network, ipaddress.IPv4Network | ipaddress.IPv6Network) and network.prefixlen == 0:
            raise ConfigError(
                f"FLINT_TRUSTED_PROXIES must not trust every address ({item}): anyone could then choose their own"
            )
        found.append(str(network))
    return tuple(found)


def _count(env: Mapping[str, str], name: str, default: int, most: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= most:
        raise ConfigError(f"{name} must be a whole number from 1 to {most}, not {text[:20]!r}")
    return int(text)


def _stripe(env: Mapping[str, str]) -> StripeSettings:
    missing = [
        name for name in ("STRIPE_SECRET_KEY", "STRIPE_PUBLISHABLE_KEY", "STRIPE_WEBHOOK_SECRET") if not env.get(name)
    ]
    if missing:
        raise ConfigError(f"FLINT_PROCESSOR=stripe needs {', '.join(missing)}")
    return StripeSettings(
        api_base=(env.get("STRIPE_API_BASE") or STRIPE_API).rstrip("/"),
        secret_key=env["STRIPE_SECRET_KEY"],
        publishable_key=env["STRIPE_PUBLISHABLE_KEY"],
        webhook_secret=env["STRIPE_WEBHOOK_SECRET"],
        js_url=env.get("STRIPE_JS_URL") or STRIPE_JS,
    )


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {text!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be more than zero")
    return value
