"""localstripe (a stateful Stripe-compatible server, PyPI) on loopback only, for the tests.

Its own `localstripe` command listens on every interface and saves its state to
/tmp/localstripe.pickle after each write; here it listens on 127.0.0.1 alone and keeps its state
in memory, so tests on two workers never share a file."""

from __future__ import annotations

import argparse

from aiohttp import web
from localstripe import server
from localstripe.resources import store


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    store.dump_to_disk = lambda: None  # type: ignore[method-assign]
    web.run_app(server.app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
