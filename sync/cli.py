"""`flint device ...`: the technician's commands. All but `enroll` and `sync` work offline.

Exit codes: 0 done, 1 a sync (or enrolment) could not complete (the reason is printed, the
outbox intact), 2 bad input (argparse's own errors included). Every command but `enroll`
refuses a device file that was never enrolled, and creates none.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sync import ledger, online, render
from sync.checks import BadInput
from sync.client import SyncError
from sync.device import Ambiguous, Device
from sync.replica import DeviceFileError, NotEnrolled, Outgoing, Replica
from sync.shown import NEW_WORK_ORDER

DONE, FAILED, BAD_INPUT = 0, 1, 2


def whole(text: str) -> int:
    """A whole number as typed: ASCII digits only (the range is checked with the command)."""
    if not text.isascii() or not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a whole number (7500 is $75.00 in cents)")
    if len(text) > 15:
        raise argparse.ArgumentTypeError(f"{text[:20]}… is far past the largest amount Flint takes")
    return int(text)


def register(commands: Any) -> None:
    device = commands.add_parser(
        "device",
        help="the technician's device: replica, outbox, sync",
        description="Work on jobs with or without a signal; `sync` sends what was done and fetches the rest.",
    )
    sub = device.add_subparsers(dest="device_command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help)
        parser.add_argument(
            "--db",
            default=os.environ.get("FLINT_DEVICE_DB", "./device.db"),
            help="the device's SQLite file (default $FLINT_DEVICE_DB, else ./device.db)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")
        return parser

    enroll = command("enroll", "enrol this device with a token from the office, and take the first sync")
    enroll.add_argument("--server", required=True, help="the Flint server, e.g. https://flint.example.com")
    enroll.add_argument("--token", required=True, help="the device token shown once at enrolment")
    enroll.add_argument(
        "--discard-pending",
        action="store_true",
        help="drop changes still waiting in the outbox (kept only for the same technician on the same server)",
    )
    command("jobs", "list the jobs assigned to this technician")
    show = command("show", "a job, its orders with totals and balance")
    show.add_argument("job_id")
    add_on = command("add-on", "add an add-on to the job's open order (not a deposit order)")
    add_on.add_argument("job_id")
    add_on.add_argument("--name", required=True)
    add_on.add_argument("--price", required=True, type=whole, help="unit price in cents")
    add_on.add_argument("--quantity", type=whole, default=1, help="1 to 10,000 (default 1)")
    add_on.add_argument("--order", dest="order_id", help="the order, when the job has several open")
    add_on.add_argument(
        "--needs-approval",
        action="store_true",
        help="a change order: owed by nobody until the customer approves it (by text or in person)",
    )
    ttp = command("text-to-pay", "text the customer a link to pay (by default the job's balance when it is paid)")
    ttp.add_argument("job_id")
    ttp.add_argument("--order", dest="order_id", help="one order's balance instead of the job's")
    ttp.add_argument("--amount", type=whole, help="cents; default: the balance")
    ttp.add_argument("--to", help="E.164 phone; default: the customer's")
    pay = command("record-payment", "record cash or a check taken on site (by default on the job, oldest order first)")
    pay.add_argument("job_id")
    pay.add_argument("--amount", required=True, type=whole, help="cents")
    pay.add_argument("--method", required=True, choices=["cash", "check"])
    pay.add_argument("--reference", help="e.g. the check number")
    pay.add_argument("--order", dest="order_id", help="one order instead of the job")
    status = command("status", "set the job's status")
    status.add_argument("job_id")
    status.add_argument("status", choices=["en_route", "on_site", "completed"])
    note = command("note", "add a note to the job")
    note.add_argument("job_id")
    note.add_argument("text")
    approval = sub.add_parser(
        "approval",
        help="the customer approves added work: ask by text, or take it in person",
        description="Lines added with --needs-approval wait for the customer: text them a link and a code"
        " (`request`), or show them the lines and total and record their approval (`record`).",
    )
    approvals = approval.add_subparsers(dest="approval_command", metavar="ACTION", required=True)
    for name, help in (
        ("request", "text the customer a link and a 6-digit code to approve the lines waiting"),
        ("record", "show the customer the lines waiting and their total, and record their approval in person"),
    ):
        action: argparse.ArgumentParser = approvals.add_parser(name, help=help, description=help)
        action.add_argument(
            "--db",
            default=os.environ.get("FLINT_DEVICE_DB", "./device.db"),
            help="the device's SQLite file (default $FLINT_DEVICE_DB, else ./device.db)",
        )
        action.add_argument("--json", action="store_true", help="print JSON for scripts")
        action.add_argument("job_id")
        action.add_argument("--order", dest="order_id", help="one order's lines (when several orders have some)")
        if name == "request":
            action.add_argument("--to", help="E.164 phone; default: the customer's")
        else:
            action.add_argument("--signer", required=True, help="the customer's name, as they give it")
    command("sync", "push the outbox, then pull what changed")
    outbox = command(
        "outbox", "mutations waiting to sync and ones the server rejected; `outbox drop ID` takes one back"
    )
    outbox.add_argument(
        "action", nargs="?", choices=["drop"], help="drop: take back a pending mutation or clear a rejected one"
    )
    outbox.add_argument("mutation_id", nargs="?", type=whole, help="the mutation to drop")


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.status = DONE

    def emit(self, data: Any, text: str, status: int = DONE) -> int:
        self.status = status
        print(json.dumps(data, indent=2, ensure_ascii=True) if self.as_json else text)
        sys.stdout.flush()
        return status

    def fail(self, message: str, status: int, **data: Any) -> int:
        self.status = status
        if self.as_json:
            print(json.dumps({"error": message, **data}, indent=2, ensure_ascii=True))
            sys.stdout.flush()
        else:
            print("\n".join(render.plain(line) for line in message.split("\n")), file=sys.stderr)
        return status

    def warn(self, text: str) -> None:
        if not self.as_json:
            print(text, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    out = Output(args.json)
    try:
        return _run(args, out)
    except BrokenPipeError:
        _quiet_stdout()  # the reader stopped reading (`| head`): no traceback, no second error at exit
        return out.status


def _run(args: argparse.Namespace, out: Output) -> int:
    try:
        if args.device_command == "enroll":
            return do_enroll(args, out)
        replica = Replica(args.db, create=False)
        try:
            replica.require("server")
            replica.require("token")
            return HANDLERS[args.device_command](Device(replica), args, out)
        finally:
            replica.close()
    except Ambiguous as exc:
        return out.fail(str(exc), BAD_INPUT, candidates=[render.candidate_data(c) for c in exc.candidates])
    except (BadInput, NotEnrolled, DeviceFileError) as exc:
        return out.fail(str(exc), BAD_INPUT)
    except online.EnrolFailed as exc:
        return out.fail(str(exc), BAD_INPUT if exc.bad_input else FAILED)
    except sqlite3.Error as exc:
        return out.fail(f"the device file {args.db} could not be used: {exc}", FAILED)


def _quiet_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _queued(out: Output, o: Outgoing, what: str, after: str = "") -> int:
    text = f"Queued {what} (mutation {o.id}); it goes out with the next sync." + (f"\n{after}" if after else "")
    return out.emit(render.outbox_item(o), text)


def _warn_unreadable(device: Device, out: Output, skipped: int) -> None:
    if skipped:
        out.warn(
            f"{skipped} record(s) on this device could not be read and are left out; `flint device sync` mends them."
        )
    stuck = [o.id for o in device.replica.pending() if o.mutation is None]
    if stuck:
        out.warn(
            f"Mutation(s) {', '.join(map(str, stuck))} in the outbox can no longer be read; see `flint device outbox`."
        )


def do_enroll(args: argparse.Namespace, out: Output) -> int:
    e = online.enroll_file(Path(args.db), args.server, args.token, args.discard_pending)
    lines = [f"Enrolled with {e.server}: {e.jobs} job(s) on this device."]
    if e.carried:
        lines.append(f"{e.carried} change(s) from the outbox carried over, numbered again from 1.")
    if e.dropped:
        lines.append(f"{e.dropped} pending change(s) dropped.")
    if e.cleared:
        lines.append(f"{e.cleared} rejected mutation(s) of the previous enrolment cleared.")
    status = DONE
    if e.sync is not None:
        lines.append(_sync_text(e.sync))
    if e.sync_error is not None:
        status = FAILED
        lines.append(f"The first sync could not finish: {e.sync_error}. The changes wait in the outbox.")
    return out.emit(render.enrolment_data(e), "\n".join(lines), status)


def do_jobs(device: Device, args: argparse.Namespace, out: Output) -> int:
    shown = device.shown()
    code = out.emit([render.job_data(j) for j in shown.jobs], render.jobs_table(shown.jobs))
    _warn_unreadable(device, out, shown.skipped)
    return code


def do_show(device: Device, args: argparse.Namespace, out: Output) -> int:
    job = device.job(args.job_id)
    code = out.emit(render.job_data(job), render.job_sheet(job))
    _warn_unreadable(device, out, device.shown().skipped)
    return code


def do_add_on(device: Device, args: argparse.Namespace, out: Output) -> int:
    o = device.add_on(args.job_id, args.name, args.price, args.quantity, args.order_id, args.needs_approval)
    job = device.job(args.job_id)
    order_id = getattr(getattr(o.mutation, "args", None), "order_id", None) or NEW_WORK_ORDER
    order = job.order(order_id)
    currency = order.currency if order else job.currency
    price = ledger.display(args.price, currency)
    new = order_id == NEW_WORK_ORDER
    where = "a new work order (the server makes it when this syncs)" if new else f"order {order_id}"
    what = f"add-on {render.plain(args.name)!r} at {price} x {args.quantity} on {where}"
    after = ""
    if order is not None:
        after = f"{'The new work order' if new else f'Order {order_id}'} total as shown: "
        after += f"{ledger.display(order.total, currency)}."
    if args.needs_approval:
        after += (
            " It waits for the customer's approval and counts in no total until then:"
            f" `flint device approval request {args.job_id}` texts them, `approval record` takes it in person."
        )
    return _queued(out, o, what, after)


def do_text_to_pay(device: Device, args: argparse.Namespace, out: Output) -> int:
    o = device.text_to_pay(args.job_id, args.amount, args.to, args.order_id)
    job = device.job(args.job_id)
    order = job.order(args.order_id) if args.order_id else None
    currency = order.currency if order else job.currency
    owed = order.balance if order else job.balance
    of = f"order {order.id}" if order else f"job {job.id}"
    if args.amount:
        what = f"a text-to-pay for {ledger.display(args.amount, currency)} of {of}"
    else:
        now = ledger.display(owed, currency)
        what = f"a text-to-pay for the balance of {of} (now {now}; the link asks what is owed when it is paid)"
    to = f" to {args.to}" if args.to else " to the customer's phone"
    return _queued(out, o, what + to)


def do_record_payment(device: Device, args: argparse.Namespace, out: Output) -> int:
    o = device.record_payment(args.job_id, args.amount, args.method, args.reference, args.order_id)
    job = device.job(args.job_id)
    order = job.order(args.order_id) if args.order_id else None
    currency = order.currency if order else job.currency
    of = f"order {order.id}" if order else f"job {job.id}, oldest order first"
    after = f"Job balance as shown: {ledger.display(job.balance, job.currency)}."
    return _queued(out, o, f"a {args.method} payment of {ledger.display(args.amount, currency)} on {of}", after)


def do_approval(device: Device, args: argparse.Namespace, out: Output) -> int:
    if args.approval_command == "request":
        o = device.request_approval(args.job_id, args.to, args.order_id)
        to = f" to {args.to}" if args.to else " to the customer's phone"
        return _queued(out, o, f"an approval request for the lines waiting on job {args.job_id}{to}")
    job, order, lines = device.approval_lines(args.job_id, args.order_id)
    total = sum(line.signed for line in lines)
    shown = render.approval_sheet(job, order, lines, total)
    if not out.as_json:
        print(shown)  # the customer reads this before the approval is taken
        sys.stdout.flush()
    o = device.record_approval(args.job_id, args.signer, order.id)
    data = {
        **render.outbox_item(o),
        "lineItems": [render.line_data(line, order.currency) for line in lines],
        "totalMoney": render.money(total, order.currency),
    }
    text = f"Queued the approval by {render.plain(args.signer)} (mutation {o.id}); it goes out with the next sync."
    return out.emit(data, text)


def do_status(device: Device, args: argparse.Namespace, out: Output) -> int:
    return _queued(out, device.set_status(args.job_id, args.status), f"status {args.status}")


def do_note(device: Device, args: argparse.Namespace, out: Output) -> int:
    return _queued(out, device.add_note(args.job_id, args.text), "a note")


def _sync_text(report: online.SyncReport) -> str:
    text = (
        f"Pushed {report.pushed} ({report.applied} applied, {len(report.rejected)} rejected);"
        f" pulled {report.changes} change(s). {render.waiting(report.pending)}"
    )
    if report.rejected:
        text += (
            f"\nThe server rejected {len(report.rejected)} change(s); they are not applied and stay in the"
            " outbox until cleared (`flint device outbox drop ID`):"
        )
        for o in report.rejected:
            text += f"\n  #{o.id} {render.plain(o.name)}: {render.plain(o.code)} ({render.plain(o.detail)[:200]})"
    return text


def do_sync(device: Device, args: argparse.Namespace, out: Output) -> int:
    try:
        report = device.sync()
    except online.Blocked as exc:
        data = {**render.sync_data(exc.report), "stuck": render.outbox_item(exc.stuck)}
        return out.fail(f"sync incomplete: {exc}\n{_sync_text(exc.report)}", FAILED, **data)
    except SyncError as exc:
        pending = len(device.replica.pending())
        return out.fail(f"sync failed: {exc}. {render.waiting(pending)}", FAILED, pending=pending)
    return out.emit(render.sync_data(report), _sync_text(report))


def do_outbox(device: Device, args: argparse.Namespace, out: Output) -> int:
    if args.action == "drop":
        if args.mutation_id is None:
            raise BadInput("say which mutation to drop: `flint device outbox drop MUTATION_ID`")
        o = device.drop(args.mutation_id)
        if o.state == "pending":
            text = f"Took back mutation {o.id} ({o.name}); it will never be sent. Later ones moved down one."
        else:
            text = f"Cleared rejected mutation {o.id} ({o.name})."
        return out.emit(render.outbox_item(o), text)
    if args.mutation_id is not None:
        raise BadInput("`flint device outbox` lists the outbox; `flint device outbox drop ID` drops one")
    items = device.replica.outbox()
    text = "\n".join(render.outbox_line(o) for o in items) if items else "The outbox is empty."
    return out.emit([render.outbox_item(o) for o in items], text)


HANDLERS: dict[str, Callable[[Device, argparse.Namespace, Output], int]] = {
    "jobs": do_jobs,
    "show": do_show,
    "add-on": do_add_on,
    "text-to-pay": do_text_to_pay,
    "record-payment": do_record_payment,
    "approval": do_approval,
    "status": do_status,
    "note": do_note,
    "sync": do_sync,
    "outbox": do_outbox,
}
