"""The Python device replays every golden fixture: the same requests, the same figures."""

from __future__ import annotations

import copy
from pathlib import Path

import msgspec
import pytest

from sync import protocol as p
from tests.protocol.device import PythonDevice
from tests.protocol.golden import SERVER, TOKEN, Replay, compare_requests, fixture_paths, load

FIXTURES = fixture_paths()
STRICT = {
    "/v1/sync/push": (p.Push, p.PushResponse),
    "/v1/sync/pull": (p.PullRequest, p.PullResponse),
}


def test_there_are_fixtures_of_every_kind() -> None:
    """Enrolling, pushing, pages of a pull, a reset after enrolling, and rejections."""
    exchanges = [e for path in FIXTURES for e in load(path)["exchanges"]]
    answers = [e["response"]["body"] for e in exchanges]
    assert len(FIXTURES) >= 4
    assert any(e["request"]["path"] == "/v1/sync/push" for e in exchanges)
    assert any(a.get("hasMore") for a in answers)
    assert any(a.get("reset") and e["request"]["body"]["cursor"] for e, a in zip(exchanges, answers, strict=True))
    assert any(r["status"] == "rejected" for a in answers for r in a.get("results", []))
    assert any(a.get("rejections") for a in answers)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_the_recording_speaks_the_protocol(path: Path) -> None:
    """Every request decodes as the protocol's own types with nothing left over, and every
    answer as what a device reads."""
    for exchange in load(path)["exchanges"]:
        request_type, answer_type = STRICT[exchange["request"]["path"]]
        strict = msgspec.defstruct("Strict", [], bases=(request_type,), forbid_unknown_fields=True)
        msgspec.convert(exchange["request"]["body"], strict)
        msgspec.convert(exchange["response"]["body"], answer_type)


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_the_python_device_replays(path: Path, tmp_path: Path) -> None:
    fixture = load(path)
    server = Replay(fixture)
    device = PythonDevice(tmp_path / "device.db", server.transport())
    try:
        for index, step in enumerate(fixture["steps"]):
            shown = device.run(step, SERVER, TOKEN)
            if step["op"] == "show":
                assert shown == {"jobs": step["jobs"], "outbox": step["outbox"]}, f"step {index + 1}"
    finally:
        device.close()
    assert compare_requests(fixture, server.sent) == []


def test_an_approval_whose_hash_is_not_its_lines_is_caught() -> None:
    """The replay holds an in-person approval's `contentHash` to the lines it names."""
    fixture = load(next(path for path in FIXTURES if path.stem == "change-order-approval"))
    sent = [
        {"path": e["request"]["path"], "body": copy.deepcopy(e["request"]["body"]), "authorization": f"Bearer {TOKEN}"}
        for e in fixture["exchanges"]
    ]
    assert compare_requests(fixture, sent) == []
    [approval] = [m for s in sent for m in s["body"].get("mutations", []) if m["name"] == "approval.record"]
    approval["args"]["contentHash"] = "0" * 64
    assert any("contentHash is not the hash" in problem for problem in compare_requests(fixture, sent))
