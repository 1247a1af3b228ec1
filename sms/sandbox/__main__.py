"""`python -m sms.sandbox --port 8900 --account-sid AC... --auth-token ... --inbound-url ...`"""

from __future__ import annotations

import argparse

import uvicorn

from sms.sandbox.app import DEFAULT_FROM, create_sandbox_app
from sms.sandbox.state import SandboxState


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sms.sandbox", description="A Twilio-compatible sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--from-number", default=DEFAULT_FROM)
    parser.add_argument("--inbound-url", help="where texts from customers are posted (signed)")
    parser.add_argument("--callback-delay", type=float, default=0.05, help="seconds between status callbacks")
    args = parser.parse_args()
    state = SandboxState(
        account_sid=args.account_sid,
        auth_token=args.auth_token,
        inbound_url=args.inbound_url,
        callback_delay=args.callback_delay,
    )
    uvicorn.run(create_sandbox_app(state, args.from_number), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
