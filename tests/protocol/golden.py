"""The golden protocol fixtures (`fixtures/protocol/*.json`) and how a device client is held to
them. Each fixture is a recorded session of the Python device against a real server: the steps
the technician took (enrol, add-ons, payments, syncs, and what the phone showed after each), and
every push and pull exchanged, request and answer, in order.

A client replays a fixture against the recorded answers instead of a server. It must send the
same requests (the same protocol fields, the same ids in the same order, the cursors it was
given) and show the same figures after every step. The Python device (`sync`) and the
technician app (`server/static/tech/`, in Chromium) both replay every fixture, so neither can
drift from the protocol or from the other.

What differs between two honest runs is made comparable: the client id and each mutation's
`uid` are random (a client's own id must be the same in every request it sends), `clientAt`
is the phone's clock (it must be an RFC 3339 time), and a field sent as `null` is the same to
the server as one left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from sync import shown
from sync.canonical import lines_hash

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "protocol"
SERVER = "http://golden.test"
TOKEN = "fdt_golden_fixture_token"  # what the recorded token is written as
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def fixture_paths() -> list[Path]:
    return sorted(FIXTURES.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


# What a device shows, in one shape both clients make (`figures` in shown.js).


def figures(job: shown.Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "title": job.title,
        "status": job.status,
        "currency": job.currency,
        "total": job.total,
        "paid": job.paid,
        "refunded": job.refunded,
        "balance": job.balance,
        "unapplied": job.unapplied,
        "orders": [
            {
                "id": o.id,
                "state": o.state,
                "paymentStage": o.payment_stage,
                "total": o.total,
                "paid": o.paid + o.pending_paid,
                "balance": o.balance,
                "lines": [[ln.name, ln.quantity, ln.unit_amount, ln.kind, ln.pending] for ln in o.shown_lines],
            }
            for o in job.orders
        ],
    }


def outbox_view(rows: list[tuple[int, str, str, str | None]]) -> list[list[Any]]:
    """Pending and rejected mutations: `[id, name, state, code]`, by id."""
    return [list(row) for row in sorted(rows)]


# Requests, made comparable.


@dataclass
class Normaliser:
    """Maps a run's random client id to one name, checking it never changes within a client.
    Each add-on's `uid` is random too: it is named by the line it makes (its name, quantity and
    price), and so is each uid an in-person approval's `lineUids` name (a line the device added,
    or one the server sent it), whose `contentHash` is checked against those lines."""

    clients: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lines: dict[str, dict[str, Any]] = field(default_factory=dict)  # uid -> the line, as hashed

    def learn(self, fixture: dict[str, Any]) -> Normaliser:
        """The lines the recorded server sent: what a replaying device knows of them."""
        for exchange in fixture["exchanges"]:
            for change in exchange["response"]["body"].get("changes", []) or []:
                if change.get("entity") == "order" and isinstance(change.get("data"), dict):
                    for line in change["data"].get("lineItems", []):
                        self.lines[line["uid"]] = {k: line[k] for k in ("uid", "name", "quantity", "unitPriceMoney")}
        return self

    def _line(self, uid: Any) -> str:
        line = self.lines.get(uid) if isinstance(uid, str) else None
        if line is None:
            self.problems.append(f"uid {uid!r} names no line the device added or was sent")
            return "<unknown line>"
        money = line["unitPriceMoney"]
        return f"<line {line['name']} x{line['quantity']} at {money['amount']} {money['currency']}>"

    def _approval(self, mutation: dict[str, Any], args: dict[str, Any]) -> None:
        named = args.get("lineUids") if isinstance(args.get("lineUids"), list) else []
        known = [self.lines[uid] for uid in named if uid in self.lines]
        if len(known) != len(named) or args.get("contentHash") != lines_hash(known):
            self.problems.append(f"mutation {mutation.get('id')}: contentHash is not the hash of the lines it names")
        args["lineUids"] = [self._line(uid) for uid in named]
        args["contentHash"] = "<contentHash>"

    def request(self, body: Any) -> Any:
        found = _without_nulls(body)
        if isinstance(found, dict) and "clientId" in found:
            client = found["clientId"]
            found["clientId"] = self.clients.setdefault(client, f"client-{len(self.clients) + 1}")
        for mutation in found.get("mutations", []) if isinstance(found, dict) else []:
            at = mutation.get("clientAt")
            if not isinstance(at, str) or not RFC3339.match(at):
                self.problems.append(f"mutation {mutation.get('id')}: clientAt {at!r} is not an RFC 3339 UTC time")
            mutation["clientAt"] = "<clientAt>"
            args = mutation.get("args")
            if not isinstance(args, dict):
                continue
            if "uid" in args and (not isinstance(args["uid"], str) or not UUID.match(args["uid"])):
                self.problems.append(f"mutation {mutation.get('id')}: uid {args['uid']!r} is not a UUID")
            if mutation.get("name") == "order.addLineItem" and isinstance(args.get("uid"), str):
                self.lines[args["uid"]] = {k: args.get(k) for k in ("uid", "name", "quantity", "unitPriceMoney")}
                args["uid"] = self._line(args["uid"])
            elif mutation.get("name") == "approval.record":
                self._approval(mutation, args)
            if "uid" in args and not str(args["uid"]).startswith("<line "):
                args["uid"] = "<uid>"
        return found


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def expected_requests(fixture: dict[str, Any]) -> list[dict[str, Any]]:
    names = Normaliser().learn(fixture)
    return [{"path": e["request"]["path"], "body": names.request(e["request"]["body"])} for e in fixture["exchanges"]]


def compare_requests(fixture: dict[str, Any], sent: list[dict[str, Any]]) -> list[str]:
    """What the client sent that differs from the recording, in words (empty: none)."""
    names = Normaliser().learn(fixture)
    made = [{"path": s["path"], "body": names.request(s["body"])} for s in sent]
    problems = list(names.problems)
    wanted = expected_requests(fixture)
    for index, (got, want) in enumerate(zip(made, wanted, strict=False)):
        if got != want:
            problems.append(f"request {index + 1}:\n  sent     {json.dumps(got)}\n  recorded {json.dumps(want)}")
    if len(made) != len(wanted):
        problems.append(f"{len(made)} requests sent, {len(wanted)} recorded")
    for index, s in enumerate(sent):
        if s.get("authorization") != f"Bearer {TOKEN}":
            problems.append(f"request {index + 1} carried {s.get('authorization')!r}, not the device token")
    return problems


# A server that answers from the recording.


class Replay:
    """Answers each request with the next recorded answer, keeping what was sent."""

    def __init__(self, fixture: dict[str, Any]) -> None:
        self.exchanges = list(fixture["exchanges"])
        self.sent: list[dict[str, Any]] = []

    def answer(self, path: str, body: Any, authorization: str | None) -> tuple[int, Any]:
        self.sent.append({"path": path, "body": body, "authorization": authorization})
        if len(self.sent) > len(self.exchanges):
            return 500, {"code": "golden", "detail": "more requests than the recording has"}
        recorded = self.exchanges[len(self.sent) - 1]
        return int(recorded["response"]["status"]), recorded["response"]["body"]

    def transport(self) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            status, body = self.answer(
                request.url.path, json.loads(request.content), request.headers.get("authorization")
            )
            return httpx.Response(status, json=body)

        return httpx.MockTransport(handle)


Step = dict[str, Any]
Runner = Callable[[Step], Any]
