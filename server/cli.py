"""The `flint` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from types import FrameType

from server.errors import ConfigError
from sync import cli as device

# Libraries whose INFO lines are one per outgoing HTTP request: the Twilio client (the request's
# headers, line by line) and httpx (the sandbox's status callbacks). Their warnings still show.
QUIET_LIBRARIES = ("twilio.http_client", "httpx")

DESCRIPTION = """\
Flint keeps every payment of a field-service job on one trail: deposits texted before the
truck rolls, add-ons approved in the driveway, balances, refunds.

  flint serve            run the server (office API, pay pages, Twilio webhooks, sync)
  flint serve --demo     the same, with demo data and the built-in Twilio sandbox
  flint doctor           check a store: money identities, dangling rows, what is stuck
  flint device ...       a technician's device: jobs, add-ons, payments, sync
"""

SERVE_EPILOG = """\
environment:
  FLINT_DB            SQLite file (default ./flint.db)
  FLINT_API_KEY       the office key (required unless --demo)
  FLINT_PUBLIC_URL    base of pay links and of Twilio signature checks (default http://HOST:PORT)
  TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER, TWILIO_API_URL
                      Twilio; with no TWILIO_ACCOUNT_SID the built-in sandbox is used
                      (signing with TWILIO_AUTH_TOKEN when it is set)
  FLINT_PROCESSOR     the card processor: sandbox (default) or stripe
  STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET
                      Stripe's keys and webhook signing secret (FLINT_PROCESSOR=stripe)
  STRIPE_API_BASE     where the stripe library sends requests (default https://api.stripe.com)
  STRIPE_JS_URL       where pages load Stripe.js (default https://js.stripe.com/v3/)
  FLINT_BILLING_INTERVAL
                      seconds between billing runs and between reminder runs (default 60)
  FLINT_WEBHOOK_ALLOW_PRIVATE
                      1: webhook endpoints may be http:// and on loopback or private
                      addresses (for tests; --demo allows it too)
  FLINT_TRUSTED_PROXIES
                      addresses or networks of the proxies in front (e.g. 127.0.0.1 or
                      10.0.0.0/24): only their X-Forwarded-For names the client; none by default
  FLINT_DB_READERS    SQLite reader connections the API's reads share (default 4)
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flint", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the Flint server",
        description="Run the Flint server in one process (one SQLite writer, one scheduler).",
        epilog=SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--demo", action="store_true", help="load demo data and print the keys and URLs to try it with")
    doctor = commands.add_parser(
        "doctor",
        help="check a store (also while the server runs)",
        description=(
            "Check a Flint store without changing it, also while a server runs on it: SQLite's integrity check,"
            " the money identities of every order and job, rows that point at nothing, payments or refunds left"
            " pending, texts stuck in sending. Exit 0 clean, 1 problems found, 2 not a Flint store."
        ),
    )
    doctor.add_argument("--db", help="the SQLite file (default FLINT_DB, else ./flint.db)")
    device.register(commands)
    return parser


def check_store(args: argparse.Namespace) -> int:
    from server import doctor

    path = args.db or os.environ.get("FLINT_DB") or "./flint.db"
    try:
        report = doctor.examine(path)
    except doctor.NotAStore as err:
        print(f"flint doctor: {err}", file=sys.stderr)
        return doctor.NOT_A_STORE
    print(report.render())
    return report.exit_code


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server import logs
    from server.app import create_app, on_stop
    from server.config import Settings
    from server.demo import banner, seed

    try:
        settings = Settings.from_env(host=args.host, port=args.port, demo=args.demo)
    except ConfigError as err:
        print(f"flint serve: {err.detail}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in QUIET_LIBRARIES:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if settings.twilio.sandboxed and not args.demo:
        print(
            "flint serve: no TWILIO_ACCOUNT_SID is set, so texts go nowhere but the built-in Twilio sandbox"
            f" ({settings.public_url}/sandbox/phone/<number>, office key required). Set TWILIO_ACCOUNT_SID,"
            " TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER to text customers.",
            file=sys.stderr,
            flush=True,
        )
    if args.demo:
        info = seed(settings.db_path, public_url=settings.public_url, business=settings.business_name)
        print(banner(info, api_key=settings.api_key, public_url=settings.public_url), flush=True)
    app = create_app(settings)
    stopping = on_stop(app)

    class Server(uvicorn.Server):
        """uvicorn waits for open requests before it stops, and the dispatch board's event
        streams never end by themselves: a stop ends them first (browsers resume them)."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            with contextlib.suppress(RuntimeError):  # no loop running yet: nothing to end
                asyncio.get_running_loop().call_soon_threadsafe(stopping)

    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level="info",  # sets up uvicorn's logging
        # A client's address is the connection's peer; only a proxy named in
        # FLINT_TRUSTED_PROXIES may say another in `X-Forwarded-For` (uvicorn would otherwise
        # trust 127.0.0.1, or FORWARDED_ALLOW_IPS, by default).
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=list(settings.trusted_proxies),
        server_header=False,
    )
    stripe = settings.stripe
    logs.install(secrets=[settings.api_key, *((stripe.secret_key, stripe.webhook_secret) if stripe else ())])
    server = Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # the signal uvicorn handled, raised again on its way out
        server.run()
    return 0 if server.started else 3  # as uvicorn.run exits when start-up fails


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "doctor":
        return check_store(args)
    if args.command == "device":
        return device.run(args)
    parser.print_help()
    return 0 if args.command is None and os.isatty(1) else 2


if __name__ == "__main__":
    raise SystemExit(main())
