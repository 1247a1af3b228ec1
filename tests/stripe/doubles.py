"""Doubles of our own for what localstripe cannot show, on loopback.

`LosingProxy` sits in front of a server and forwards every request, recording each one as it
went on the wire; told to, it lets the server act on the next matching request and then keeps
the answer from the caller, as a network that drops a response would (so a test can kill Flint
between Stripe's answer and Flint's commit).

`StripeDouble` is a small Stripe of our own: the few API routes Flint calls for a page's charge
(PaymentIntents, PaymentMethods) and a Stripe.js whose card field confirms a PaymentIntent in
the browser, which localstripe's fake Stripe.js cannot do. It records every request it gets."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "date", "server"}
)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: str
    body: bytes


class LosingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.seen: list[Seen] = []
        self.acted = threading.Event()  # the held request reached Stripe and Stripe answered
        self.release = threading.Event()
        self._hold: tuple[str, str] | None = None
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.seen.append(Seen(self.command, self.path, str(self.headers), body))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = httpx.request(self.command, proxy.upstream + self.path, content=body, headers=headers)
                if proxy._take(self.command, self.path):
                    proxy.acted.set()
                    proxy.release.wait(120)
                    self.close_connection = True
                    return  # the answer is lost on the way back
                self.send_response(answer.status_code)
                for name, value in answer.headers.multi_items():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("content-length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def lose_next_answer(self, method: str, path: str) -> None:
        with self._lock:
            self._hold = (method, path)

    def _take(self, method: str, path: str) -> bool:
        with self._lock:
            if self._hold is not None and self._hold == (method, path.split("?")[0]):
                self._hold = None
                return True
            return False

    def __enter__(self) -> LosingProxy:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


STRIPE_JS = """
(function () {
  "use strict";
  var api = new URL(document.currentScript.src).origin;
  function cardField() {
    var inputs = {}, handlers = {};
    function changed() {
      var done = ["number", "exp", "cvc", "postal"].every(function (k) { return inputs[k].value.length > 1; });
      if (handlers.change) handlers.change({ complete: done, error: null });
    }
    return {
      mount: function (target) {
        ["number", "exp", "cvc", "postal"].forEach(function (k) {
          var input = document.createElement("input");
          input.setAttribute("data-stripe", k);
          input.setAttribute("aria-label", k);
          input.addEventListener("input", changed);
          target.appendChild(input);
          inputs[k] = input;
        });
      },
      on: function (event, handler) { handlers[event] = handler; },
      _inputs: inputs
    };
  }
  window.Stripe = function (key) {
    var field = null;
    function confirm(kind, secret, data) {
      var card = data.payment_method.card._inputs;
      var exp = card.exp.value.split("/");
      var body = new URLSearchParams({
        key: key, client_secret: secret, "card[number]": card.number.value.replace(/\\s/g, ""),
        "card[exp_month]": exp[0], "card[exp_year]": exp[1], "card[cvc]": card.cvc.value
      });
      var id = secret.split("_secret_")[0];
      return fetch(api + "/v1/" + kind + "/" + id + "/confirm", { method: "POST", body: body })
        .then(function (r) { return r.json(); })
        .then(function (j) { return j.error ? { error: j.error } : { paymentIntent: j }; });
    }
    return {
      elements: function () { return { create: function () { field = cardField(); return field; } }; },
      confirmCardPayment: function (secret, data) { return confirm("payment_intents", secret, data); },
      confirmCardSetup: function (secret, data) { return confirm("setup_intents", secret, data); }
    };
  };
})();
"""

DECLINES = {"4000000000000002": "card_declined", "4000000000009995": "insufficient_funds"}


class StripeDouble:
    """PaymentIntents created by Flint (secret key), confirmed by the page's Stripe.js (publishable
    key and client secret, with the card), read back by Flint."""

    def __init__(self) -> None:
        self.seen: list[Seen] = []
        self.intents: dict[str, dict[str, Any]] = {}
        self.methods: dict[str, dict[str, Any]] = {}
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any, kind: str = "application/json") -> None:
                data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("access-control-allow-origin", "*")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                double.seen.append(Seen(self.command, self.path, str(self.headers), body))
                status, answer, kind = double.route(self.command, self.path, dict(parse_qsl(body.decode())))
                self._answer(status, answer, kind)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def route(self, method: str, target: str, form: dict[str, str]) -> tuple[int, Any, str]:
        path = urlsplit(target).path.rstrip("/").split("/")[1:]
        if path[-1:] == ["v3"]:
            return 200, STRIPE_JS, "application/javascript"
        if method == "POST" and path == ["v1", "payment_intents"]:
            intent_id = f"pi_double{len(self.intents) + 1}"
            self.intents[intent_id] = {
                "id": intent_id,
                "object": "payment_intent",
                "amount": int(form["amount"]),
                "currency": form["currency"],
                "status": "requires_payment_method",
                "client_secret": f"{intent_id}_secret_x{len(self.intents)}",
                "metadata": {k[9:-1]: v for k, v in form.items() if k.startswith("metadata[")},
                "payment_method": None,
                "last_payment_error": None,
                "created": int(time.time()),
            }
            return 200, self.intents[intent_id], "application/json"
        if method == "GET" and path == ["v1", "payment_intents"]:
            data = list(reversed(self.intents.values()))
            return (
                200,
                {"object": "list", "data": data, "has_more": False, "url": "/v1/payment_intents"},
                "application/json",
            )
        if len(path) >= 3 and path[:2] == ["v1", "payment_intents"] and path[2] in self.intents:
            intent = self.intents[path[2]]
            if method == "POST" and path[3:] == ["cancel"]:
                if intent["status"] == "succeeded":
                    return (
                        400,
                        {"error": {"type": "invalid_request_error", "message": "already succeeded"}},
                        "application/json",
                    )
                intent["status"] = "canceled"
                return 200, intent, "application/json"
            if method == "POST" and path[3:] == ["confirm"]:
                if form.get("client_secret") != intent["client_secret"]:
                    return (
                        401,
                        {"error": {"type": "invalid_request_error", "message": "no such secret"}},
                        "application/json",
                    )
                number = form["card[number]"]
                method_id = f"pm_double{len(self.methods) + 1}"
                card = {"brand": "visa", "last4": number[-4:], "exp_month": 12, "exp_year": 2034}
                self.methods[method_id] = {"id": method_id, "object": "payment_method", "type": "card", "card": card}
                intent["payment_method"] = method_id
                if number in DECLINES:
                    intent["last_payment_error"] = {"code": "card_declined", "decline_code": DECLINES[number]}
                    return 402, {"error": {"type": "card_error", "code": "card_declined"}}, "application/json"
                intent["status"] = "succeeded"
            return 200, intent, "application/json"
        if method == "GET" and len(path) == 3 and path[:2] == ["v1", "payment_methods"] and path[2] in self.methods:
            return 200, self.methods[path[2]], "application/json"
        return 404, {"error": {"type": "invalid_request_error", "message": "not found"}}, "application/json"

    def __enter__(self) -> StripeDouble:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()
