"""`flint device` refuses what it cannot do before it queues anything (exit 2, nothing queued),
on a device file that was never enrolled (creating none), and on input past the protocol's
bounds or past what the device knows is owed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sync.replica import Replica
from tests.sync.conftest import Offline
from tests.sync.devices import device_cli, outbox_rows

EVERY_COMMAND_BUT_ENROLL = [
    ["jobs"],
    ["show", "job_1"],
    ["add-on", "job_1", "--name", "Capacitor", "--price", "4500"],
    ["text-to-pay", "job_1"],
    ["record-payment", "job_1", "--amount", "100", "--method", "cash"],
    ["status", "job_1", "on_site"],
    ["note", "job_1", "gate code 4411"],
    ["sync"],
    ["outbox"],
    ["outbox", "drop", "1"],
]


def test_a_device_never_enrolled_refuses_every_command_and_makes_no_file(tmp_path: Path) -> None:
    db = tmp_path / "device.db"
    for args in EVERY_COMMAND_BUT_ENROLL:
        ran = device_cli(db, *args)
        assert (ran.code, ran.out) == (2, ""), (args, ran)
        assert "not enrolled" in ran.err and "flint device enroll" in ran.err, (args, ran.err)
        as_json = device_cli(db, *args, "--json")
        assert as_json.code == 2 and "not enrolled" in as_json.json()["error"]
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_an_enrolled_device_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    unenrolled = tmp_path / "unenrolled.db"
    Replica(unenrolled).close()  # what `flint device jobs` used to leave behind
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00\xffnot a database at all" * 100)
    folder = tmp_path / "folder.db"
    folder.mkdir()
    before = {path: path.read_bytes() for path in (empty, unenrolled, foreign, garbage)}

    for db, said in (
        (empty, "not enrolled"),
        (unenrolled, "not enrolled"),
        (foreign, "not a Flint device file"),
        (garbage, "not a usable Flint device file"),
        (folder, "cannot open"),
    ):
        for args in EVERY_COMMAND_BUT_ENROLL:
            ran = device_cli(db, *args)
            assert ran.code == 2 and said in ran.err, (db.name, args, ran)
    assert {path: path.read_bytes() for path in before} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["empty.db", "unenrolled.db", "foreign.db", "garbage.db", "folder.db"]
    )


BAD_INPUT = [
    (["text-to-pay", "{plain}", "--to", "5551234"], "E.164"),
    (["text-to-pay", "{plain}", "--to", "+1 555 123 4567"], "E.164"),
    (["text-to-pay", "{plain}", "--to", "+15551234567\n"], "E.164"),
    (["add-on", "{plain}", "--name", "Capacitor", "--price", "4500", "--quantity", "0"], "quantity"),
    (["add-on", "{plain}", "--name", "Capacitor", "--price", "4500", "--quantity", "10001"], "quantity"),
    (["add-on", "{plain}", "--name", "Capacitor", "--price", "4500", "--quantity", "-1"], "quantity"),
    (["add-on", "{plain}", "--name", "Capacitor", "--price", "0"], "price"),
    (["add-on", "{plain}", "--name", "Capacitor", "--price", "1000000000000"], "price"),
    (["add-on", "{plain}", "--name", "Capacitor", "--price", "45.00"], "whole number"),
    (["add-on", "{plain}", "--name", "Capacitor", "--price", "²"], "whole number"),
    (["add-on", "{plain}", "--name", "Capacitor", "--price", "99999999999999999999"], "largest amount"),
    (["add-on", "{plain}", "--name", "", "--price", "100"], "empty"),
    (["add-on", "{plain}", "--name", "x" * 201, "--price", "100"], "at most 200"),
    (["add-on", "{plain}", "--name", "Cap\nacitor", "--price", "100"], "line breaks"),
    (["add-on", "{plain}", "--name", "Cap\x1b[31m", "--price", "100"], "control characters"),
    (["add-on", "{plain}", "--name", "Big", "--price", "999999999999", "--quantity", "2"], "largest amount"),
    (["add-on", "{plain}", "--name", "Big", "--price", "999999999999"], "largest amount"),
    (["add-on", "{plain}", "--price", "100"], "--name"),
    (["note", "{plain}", "bad\x00note"], "control characters"),
    (["note", "{plain}", "n" * 2001], "at most 2,000"),
    (["note", "{plain}", "   "], "empty"),
    (["record-payment", "{plain}", "--amount", "8901", "--method", "cash"], "more than job"),
    (["record-payment", "{plain}", "--amount", "0", "--method", "cash"], "amount"),
    (["record-payment", "{plain}", "--amount", "100", "--method", "bitcoin"], "invalid choice"),
    (["record-payment", "{plain}", "--amount", "100", "--method", "check", "--reference", "r" * 101], "at most 100"),
    (["record-payment", "{plain}", "--amount", "100", "--method", "cash", "--order", "{repair}"], "no order"),
    (["text-to-pay", "{plain}", "--amount", "8901"], "more than job"),
    (["text-to-pay", "{deposit}", "--order", "{repair}", "--amount", "112501"], "more than order"),
    (["text-to-pay", "{paid}"], "owes nothing"),
    (["text-to-pay", "{deposit}", "--order", "{deposit_order}"], "owes nothing"),
    (["status", "{plain}", "dispatched"], "invalid choice"),
    (["show", "job_nope"], "no job"),
    (["add-on", "job_nope", "--name", "x", "--price", "1"], "no job"),
    (["outbox", "drop", "99"], "no mutation 99"),
    (["outbox", "drop"], "say which"),
    (["outbox", "7"], "invalid choice"),
    (["jobs", "--frobnicate"], "unrecognized"),
]


@pytest.mark.parametrize(("args", "said"), BAD_INPUT, ids=[" ".join(a)[:60] for a, _ in BAD_INPUT])
def test_bad_input_is_refused_with_the_reason_and_nothing_is_queued(
    offline: Offline, args: list[str], said: str
) -> None:
    ids = {**offline.field.jobs, "repair": offline.field.orders["repair"]}
    ids["deposit_order"] = offline.field.orders["deposit"]
    ran = device_cli(offline.db, *[a.format(**ids) for a in args])
    assert ran.code == 2, ran
    assert said in ran.err, ran.err
    assert "Traceback" not in ran.err
    assert outbox_rows(offline.db) == []


def test_a_malformed_phone_leaves_every_command_working(offline: Offline) -> None:
    """`--to 5551234` used to queue a mutation no command could read again."""
    job = offline.field.jobs["plain"]
    assert device_cli(offline.db, "text-to-pay", job, "--to", "5551234").code == 2
    for args in (["jobs"], ["show", job], ["outbox"], ["text-to-pay", job, "--to", "+15551234567"]):
        ran = device_cli(offline.db, *args)
        assert ran.code == 0, (args, ran)
    failed = device_cli(offline.db, "sync")  # its server is gone
    assert failed.code == 1 and "could not reach" in failed.err
    [queued] = device_cli(offline.db, "outbox", "--json").json()
    assert queued["args"]["to"] == "+15551234567"


def test_the_balance_the_device_knows_counts_what_is_pending(offline: Offline) -> None:
    job = offline.field.jobs["plain"]
    assert device_cli(offline.db, "record-payment", job, "--amount", "8000", "--method", "cash").code == 0
    over = device_cli(offline.db, "record-payment", job, "--amount", "901", "--method", "check")
    assert over.code == 2 and "$9.01" in over.err and "($9.00)" in over.err
    assert device_cli(offline.db, "text-to-pay", job, "--amount", "901").code == 2
    assert device_cli(offline.db, "record-payment", job, "--amount", "900", "--method", "check").code == 0
    nothing = device_cli(offline.db, "text-to-pay", job)
    assert nothing.code == 2 and "owes nothing" in nothing.err
    assert len(outbox_rows(offline.db)) == 2


def test_a_status_moves_forward_only(offline: Offline) -> None:
    job = offline.field.jobs["plain"]
    assert device_cli(offline.db, "status", job, "on_site").code == 0
    back = device_cli(offline.db, "status", job, "en_route")
    assert back.code == 2 and "forward only" in back.err
    assert device_cli(offline.db, "status", job, "completed").code == 0
    assert device_cli(offline.db, "status", job, "on_site").code == 2
    assert len(outbox_rows(offline.db)) == 2
