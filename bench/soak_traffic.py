"""The soak's traffic (`bench/soak.py`): what the office, the customers, the technicians'
devices and Twilio do to a running `flint serve`, one action at a time, each worker with its
own seeded random source.

Every answer is tallied by kind and status class; a 5xx, or a device's mutations found out of
order (the server lost one it had acknowledged), is an error. No answer at all is expected
while the server is down between a SIGKILL and its restart; an answer a request of its kind
should never get (a webhook refused, a device's push not taken) is an error too."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from sms.signature import sign

CARDS = {
    "good": "4242424242424242",
    "declined": "4000000000000002",
    "insufficient": "4000000000009995",
    "bad input": "4242424242424241",  # fails the Luhn check
}
CARD_CHOICE = ["good", "good", "declined", "insufficient", "bad input"]
FROM_NUMBER = "+15005550006"
DOWN_PAUSE = 0.25


def usd(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "USD"}


def line(name: str, amount: int, kind: str = "service") -> dict[str, Any]:
    return {"name": name, "quantity": 1, "unitPriceMoney": usd(amount), "kind": kind}


@dataclass
class Device:
    technician_id: str
    token: str
    client_id: str
    acked: int = 0  # the last mutation id the server confirmed
    pending: list[dict[str, Any]] = field(default_factory=list)
    cursor: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class World:
    """What the traffic has made so far, shared by every worker."""

    devices: list[Device] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)  # {id, phone, technicianId, orders}
    tokens: list[str] = field(default_factory=list)
    inbound: list[dict[str, str]] = field(default_factory=list)  # signed forms already sent once
    phones: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def pick(self, rng: random.Random, items: list[Any]) -> Any | None:
        with self.lock:
            return rng.choice(items) if items else None

    def new_phone(self) -> str:
        with self.lock:
            self.phones += 1
            return f"+1415555{self.phones:04d}"


# What each kind of request may answer; anything else is an error (a 5xx always is).
EXPECTED = {
    "customer": {200, 202, 400, 402, 409, 410, 429},  # a card page: paid, confirming, mistyped, declined, ...
    "device": {200},
    "office": {200, 201, 202, 409, 422},
    "twilio": {200, 204},
}


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        self.codes: Counter[int] = Counter()
        self.errors: list[str] = []

    def answer(self, kind: str, response: httpx.Response | None, what: str = "") -> None:
        with self.lock:
            if response is None:
                self.by_kind[kind]["no answer"] += 1
                return
            status = response.status_code
            self.by_kind[kind][f"{status // 100}xx"] += 1
            self.codes[status] += 1
            if status >= 500 or status not in EXPECTED[kind.split(":")[0]]:
                self.errors.append(f"{kind}: {status} {what} {response.text[:300]!r}")

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


class Traffic:
    """One worker: an HTTP client and a random source of its own."""

    def __init__(self, url: str, key: str, auth_token: str, world: World, tally: Tally, rng: random.Random) -> None:
        self.url = url
        self.auth_token = auth_token
        self.world = world
        self.tally = tally
        self.rng = rng
        self.office = {"Authorization": f"Bearer {key}"}
        self.http = httpx.Client(base_url=url, timeout=15)

    def close(self) -> None:
        self.http.close()

    def _key(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def call(self, kind: str, method: str, path: str, what: str = "", **kw: Any) -> httpx.Response | None:
        try:
            response = self.http.request(method, path, **kw)
        except httpx.TransportError:
            response = None
            time.sleep(DOWN_PAUSE)  # the server is down (killed): wait a moment, as a person would
        self.tally.answer(kind, response, what or f"{method} {path.split('/pay/')[0]}")
        return response

    def office_post(self, kind: str, path: str, body: Any) -> httpx.Response | None:
        headers = {**self.office, "Idempotency-Key": self._key()}
        return self.call(kind, "POST", path, json=body, headers=headers)

    # The office.

    def new_job(self) -> None:
        phone = self.world.new_phone()
        customer = self.office_post(
            "office: new job", "/v1/customers", {"name": "Soak", "phone": phone, "kind": "residential"}
        )
        if customer is None or customer.status_code != 201:
            return
        device = self.world.pick(self.rng, self.world.devices)
        body = {"customerId": customer.json()["id"], "title": "Soak job", "address": "1 Loop Rd"}
        if device is not None:
            body["technicianId"] = device.technician_id
        job = self.office_post("office: new job", "/v1/jobs", body)
        if job is None or job.status_code != 201:
            return
        entry = {"id": job.json()["id"], "phone": phone, "technicianId": body.get("technicianId"), "orders": []}
        deposit = self.office_post(
            "office: order",
            "/v1/orders",
            {
                "lineItems": [line("Dispatch deposit", 7500)],
                "metadata": {"jobId": entry["id"], "paymentStage": "dispatch_deposit"},
            },
        )
        if deposit is not None and deposit.status_code == 201:
            entry["orders"].append(deposit.json()["id"])
        with self.world.lock:
            self.world.jobs.append(entry)

    def new_order(self) -> None:
        job = self.world.pick(self.rng, self.world.jobs)
        if job is None:
            return
        items = [line("Repair", self.rng.randrange(5000, 150000))]
        if self.rng.random() < 0.3:
            items.append(line("Loyalty discount", self.rng.randrange(100, 2000), "discount"))
        made = self.office_post("office: order", "/v1/orders", {"lineItems": items, "metadata": {"jobId": job["id"]}})
        if made is not None and made.status_code == 201:
            with self.world.lock:
                job["orders"].append(made.json()["id"])

    def new_link(self) -> None:
        job = self.world.pick(self.rng, self.world.jobs)
        if job is None:
            return
        if self.rng.random() < 0.5 or not job["orders"]:
            body: dict[str, Any] = {"name": "Balance", "jobId": job["id"]}
        else:
            body = {"name": "Part payment", "orderId": self.rng.choice(job["orders"])}
            if self.rng.random() < 0.5:
                body["amountMoney"] = usd(self.rng.randrange(500, 8000))
        made = self.office_post("office: link", "/v1/payment-links", body)
        if made is not None and made.status_code in (200, 201):
            link = made.json()
            with self.world.lock:
                self.world.tokens.append(link["url"].rsplit("/pay/", 1)[1])
            if self.rng.random() < 0.3:
                self.office_post("office: text a link", f"/v1/payment-links/{link['id']}/send-sms", None)

    def cash(self) -> None:
        job = self.world.pick(self.rng, self.world.jobs)
        if job is not None:
            body = {"jobId": job["id"], "amountMoney": usd(self.rng.randrange(100, 5000)), "method": "cash"}
            self.office_post("office: cash", "/v1/payments", body)

    def refund(self) -> None:
        job = self.world.pick(self.rng, self.world.jobs)
        if job is None:
            return
        listed = self.call("office: read", "GET", f"/v1/payments?jobId={job['id']}", headers=self.office)
        if listed is None or listed.status_code != 200:
            return
        open_ = [
            p for p in listed.json()["data"]
            if p["status"] == "captured" and p["refundedMoney"]["amount"] < p["amountMoney"]["amount"]
        ]  # fmt: skip
        if not open_:
            return
        payment = self.rng.choice(open_)
        left = payment["amountMoney"]["amount"] - payment["refundedMoney"]["amount"]
        amount = min(left, self.rng.randrange(100, 3000))
        body = {"paymentId": payment["id"], "amountMoney": usd(amount), "reason": "soak"}
        self.office_post("office: refund", "/v1/refunds", body)

    def read(self) -> None:
        job = self.world.pick(self.rng, self.world.jobs)
        if self.rng.random() < 0.3 or job is None:
            self.call("office: read", "GET", "/v1/dispatch/board", headers=self.office)
        else:
            self.call("office: read", "GET", f"/v1/jobs/{job['id']}", headers=self.office)

    # Customers.

    def view(self) -> None:
        token = self.world.pick(self.rng, self.world.tokens)
        if token is not None:
            self.call("customer: page", "GET", f"/pay/{token}", what="GET /pay/…")

    def pay(self) -> None:
        token = self.world.pick(self.rng, self.world.tokens)
        if token is None:
            return
        card = {
            "cardNumber": CARDS[self.rng.choice(CARD_CHOICE)],
            "expMonth": "12",
            "expYear": "2035",
            "cvc": "123",
            "postalCode": "94110",
        }
        self.call("customer: pay", "POST", f"/pay/{token}", what="POST /pay/…", data=card)

    # Technicians' devices.

    def push(self) -> None:
        device = self.world.pick(self.rng, self.world.devices)
        if device is None or not device.lock.acquire(blocking=False):
            return
        try:
            with self.world.lock:
                mine = [j for j in self.world.jobs if j["technicianId"] == device.technician_id]
            for _ in range(self.rng.randrange(1, 4)):
                if mine and len(device.pending) < 20:
                    mutation = self._mutation(self.rng.choice(mine))
                    mutation["id"] = device.acked + len(device.pending) + 1
                    device.pending.append(mutation)
            body = {"clientId": device.client_id, "schemaVersion": 1, "mutations": device.pending}
            response = self.call(
                "device: push", "POST", "/v1/sync/push", json=body, headers={"Authorization": f"Bearer {device.token}"}
            )
            if response is None:
                return  # sent again with the same ids next time: the server applies each once
            if response.status_code == 200:
                device.acked = response.json()["lastMutationId"]
                device.pending = [m for m in device.pending if m["id"] > device.acked]
            elif response.status_code == 409:
                self.tally.error(f"device {device.client_id}: mutations out of order: {response.text[:300]}")
        finally:
            device.lock.release()

    def _mutation(self, job: dict[str, Any]) -> dict[str, Any]:
        uid = self._key()
        choice = self.rng.random()
        if choice < 0.3:
            return {"name": "job.addNote", "args": {"uid": uid, "jobId": job["id"], "text": "checked the unit"}}
        if choice < 0.55 and len(job["orders"]) > 1:
            args = {
                "orderId": self.rng.choice(job["orders"][1:]),
                "uid": uid,
                "name": "Add-on",
                "quantity": 1,
                "unitPriceMoney": usd(self.rng.randrange(500, 5000)),
                "kind": "addon",
            }
            return {"name": "order.addLineItem", "args": args}
        if choice < 0.75:
            money = usd(self.rng.randrange(100, 3000))
            args = {"uid": uid, "jobId": job["id"], "amountMoney": money, "method": "cash"}
            return {"name": "payment.recordOffline", "args": args}
        if choice < 0.85:
            return {"name": "textToPay.request", "args": {"uid": uid, "jobId": job["id"]}}
        status = self.rng.choice(["en_route", "on_site"])
        return {"name": "job.setStatus", "args": {"jobId": job["id"], "status": status}}

    def pull(self) -> None:
        device = self.world.pick(self.rng, self.world.devices)
        if device is None or not device.lock.acquire(blocking=False):
            return
        try:
            for _ in range(5):
                body = {"clientId": device.client_id, "schemaVersion": 1, "cursor": device.cursor, "limit": 200}
                headers = {"Authorization": f"Bearer {device.token}"}
                response = self.call("device: pull", "POST", "/v1/sync/pull", json=body, headers=headers)
                if response is None or response.status_code != 200:
                    return
                page = response.json()
                device.cursor = page["cursor"]
                if not page["hasMore"]:
                    return
        finally:
            device.lock.release()

    # Twilio's webhooks, signed as Twilio signs them.

    def _signed(self, kind: str, path: str, form: dict[str, str]) -> None:
        headers = {"X-Twilio-Signature": sign(self.auth_token, self.url + path, form)}
        self.call(kind, "POST", path, data=form, headers=headers)

    def status_callback(self) -> None:
        job = self.world.pick(self.rng, self.world.jobs)
        sid = None
        if job is not None and self.rng.random() < 0.8:
            listed = self.call("office: read", "GET", f"/v1/sms?jobId={job['id']}", headers=self.office)
            if listed is not None and listed.status_code == 200:
                sids = [m["providerSid"] for m in listed.json()["data"] if m["providerSid"]]
                sid = self.rng.choice(sids) if sids else None
        status = self.rng.choice(["sent", "delivered", "undelivered"])
        form = {"MessageSid": sid or f"SM{self.rng.getrandbits(128):032x}", "MessageStatus": status}
        self._signed("twilio: status callback", "/v1/webhooks/twilio/status", form)

    def inbound(self) -> None:
        with self.world.lock:
            replay = self.world.inbound and self.rng.random() < 0.3
            form = dict(self.rng.choice(self.world.inbound)) if replay else None
        if form is None:
            job = self.world.pick(self.rng, self.world.jobs)
            if job is None:
                return
            body = self.rng.choice(["STOP", "START", "stop", "Yes", "thanks!"])
            form = {"MessageSid": f"SM{self.rng.getrandbits(128):032x}", "From": job["phone"], "To": FROM_NUMBER}
            form["Body"] = body
            with self.world.lock:
                self.world.inbound.append(form)
        self._signed("twilio: inbound" + (" (replayed)" if replay else ""), "/v1/webhooks/twilio/inbound", form)


ACTIONS: list[tuple[str, int]] = [
    ("new_job", 3),
    ("new_order", 3),
    ("new_link", 6),
    ("cash", 3),
    ("refund", 2),
    ("read", 4),
    ("view", 6),
    ("pay", 10),
    ("push", 8),
    ("pull", 6),
    ("status_callback", 3),
    ("inbound", 2),
]


def act(traffic: Traffic) -> None:
    names = [name for name, _ in ACTIONS]
    weights = [weight for _, weight in ACTIONS]
    getattr(traffic, traffic.rng.choices(names, weights)[0])()
