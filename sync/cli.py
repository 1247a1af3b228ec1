"""`flint device ...`: the technician's commands. All but `enroll` and `sync` work offline."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import msgspec

from sync import ledger
from sync.client import SyncError
from sync.device import Device, DeviceError, SyncReport
from sync.replica import NotEnrolled, Outgoing, Replica
from sync.shown import Job


def money(amount: int, currency: str) -> str:
    return ledger.display(amount, currency)


def cents(text: str) -> int:
    if not text.isdigit() or int(text) <= 0:
        raise argparse.ArgumentTypeError("give a whole number of cents, more than zero (7500 is $75.00)")
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
    command("jobs", "list the jobs assigned to this technician")
    show = command("show", "a job, its orders with totals and balance")
    show.add_argument("job_id")
    add_on = command("add-on", "add an add-on to the job's open order")
    add_on.add_argument("job_id")
    add_on.add_argument("--name", required=True)
    add_on.add_argument("--price", required=True, type=cents, help="unit price in cents")
    add_on.add_argument("--quantity", type=int, default=1)
    ttp = command("text-to-pay", "text the customer a link to pay (by default the balance when it reaches the server)")
    ttp.add_argument("job_id")
    ttp.add_argument("--amount", type=cents, help="cents; default: the balance")
    ttp.add_argument("--to", help="E.164 phone; default: the customer's")
    pay = command("record-payment", "record cash or a check taken on site")
    pay.add_argument("job_id")
    pay.add_argument("--amount", required=True, type=cents, help="cents")
    pay.add_argument("--method", required=True, choices=["cash", "check"])
    pay.add_argument("--reference", help="e.g. the check number")
    status = command("status", "set the job's status")
    status.add_argument("job_id")
    status.add_argument("status", choices=["en_route", "on_site", "completed"])
    note = command("note", "add a note to the job")
    note.add_argument("job_id")
    note.add_argument("text")
    command("sync", "push the outbox, then pull what changed")
    command("outbox", "mutations waiting to sync, and ones the server rejected")


def run(args: argparse.Namespace) -> int:
    replica = Replica(args.db)
    device = Device(replica)
    out = Output(args.json)
    try:
        return HANDLERS[args.device_command](device, args, out)
    except (DeviceError, NotEnrolled) as exc:
        return out.fail(str(exc))
    except SyncError as exc:
        pending = len(replica.pending())
        return out.fail(f"sync failed: {exc}. {_waiting(pending)}", pending=pending)
    finally:
        replica.close()


class Output:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, data: Any, text: str) -> int:
        print(json.dumps(data, indent=2, default=str) if self.as_json else text)
        return 0

    def fail(self, message: str, **data: Any) -> int:
        if self.as_json:
            print(json.dumps({"error": message, **data}))
        else:
            print(message, file=sys.stderr)
        return 1


def _waiting(pending: int) -> str:
    return "The outbox is empty." if not pending else f"{pending} change(s) wait in the outbox."


def _job_data(job: Job) -> dict[str, Any]:
    data = asdict(job)
    data["total"] = job.total
    data["balance"] = job.balance
    data["currency"] = job.currency
    for order, shown in zip(data["orders"], job.orders, strict=True):
        order["total"], order["balance"] = shown.total, shown.balance
    return data


def _outgoing(o: Outgoing) -> dict[str, Any]:
    return {"id": o.id, "name": o.name, "state": o.state, "code": o.code, "detail": o.detail, "createdAt": o.created_at,
            "args": msgspec.to_builtins(getattr(o.mutation, "args", None))}  # fmt: skip


def _queued(out: Output, o: Outgoing, what: str) -> int:
    return out.emit(_outgoing(o), f"Queued {what} (mutation {o.id}); it goes out with the next sync.")


def do_enroll(device: Device, args: argparse.Namespace, out: Output) -> int:
    report = device.enroll(args.server, args.token)
    jobs = device.jobs()
    return out.emit(
        {"jobs": len(jobs), "changes": report.changes},
        f"Enrolled with {args.server}: {len(jobs)} job(s) on this device.",
    )


def do_jobs(device: Device, args: argparse.Namespace, out: Output) -> int:
    jobs = device.jobs()
    lines = [f"{'JOB':<30} {'STATUS':<10} {'BALANCE':>10}  TITLE / CUSTOMER"]
    for job in jobs:
        flag = "  (pending sync)" if job.pending else ""
        lines.append(
            f"{job.id:<30} {job.status:<10} {money(job.balance, job.currency):>10}"
            f"  {job.title} / {job.customer_name}{flag}"
        )
    return out.emit([_job_data(j) for j in jobs], "\n".join(lines) if jobs else "No jobs on this device.")


def do_show(device: Device, args: argparse.Namespace, out: Output) -> int:
    job = device.job(args.job_id)
    lines = [
        f"{job.title}  [{job.status}]",
        f"{job.address}",
        f"Customer: {job.customer_name} {job.customer_phone or ''}",
    ]
    for order in job.orders:
        lines.append(f"\nOrder {order.id} ({order.state})")
        for line in order.lines:
            amount = money(-line.amount if line.kind == "discount" else line.amount, order.currency)
            mark = " *" if line.pending else ""
            lines.append(f"  {line.quantity} x {line.name:<32} {line.kind:<9} {amount:>10}{mark}")
        lines.append(f"  {'Total':<46} {money(order.total, order.currency):>10}")
        lines.append(f"  {'Paid':<46} {money(order.paid + order.pending_paid, order.currency):>10}")
        if order.refunded:
            lines.append(f"  {'Refunded':<46} {money(order.refunded, order.currency):>10}")
        lines.append(f"  {'Balance':<46} {money(order.balance, order.currency):>10}")
    lines.append(f"\nJob balance: {money(job.balance, job.currency)}")
    lines += [f"Note: {n}" for n in job.notes]
    if job.pending:
        lines.append("Waiting to sync (*): " + ", ".join(job.pending))
    return out.emit(_job_data(job), "\n".join(lines))


def do_add_on(device: Device, args: argparse.Namespace, out: Output) -> int:
    o = device.add_on(args.job_id, args.name, args.price, args.quantity)
    return _queued(out, o, f"add-on {args.name!r} at {money(args.price, 'USD')} x {args.quantity}")


def do_text_to_pay(device: Device, args: argparse.Namespace, out: Output) -> int:
    o = device.text_to_pay(args.job_id, args.amount, args.to)
    what = money(args.amount, "USD") if args.amount else "the balance"
    return _queued(out, o, f"a text-to-pay for {what}")


def do_record_payment(device: Device, args: argparse.Namespace, out: Output) -> int:
    o = device.record_payment(args.job_id, args.amount, args.method, args.reference)
    return _queued(out, o, f"a {args.method} payment of {money(args.amount, 'USD')}")


def do_status(device: Device, args: argparse.Namespace, out: Output) -> int:
    return _queued(out, device.set_status(args.job_id, args.status), f"status {args.status}")


def do_note(device: Device, args: argparse.Namespace, out: Output) -> int:
    return _queued(out, device.add_note(args.job_id, args.text), "a note")


def do_sync(device: Device, args: argparse.Namespace, out: Output) -> int:
    report: SyncReport = device.sync()
    text = (
        f"Pushed {report.pushed} ({report.applied} applied, {len(report.rejected)} rejected);"
        f" pulled {report.changes} change(s). {_waiting(report.pending)}"
    )
    for o in report.rejected:
        text += f"\n  rejected #{o.id} {o.name}: {o.code} ({o.detail})"
    data = {**asdict(report), "rejected": [_outgoing(o) for o in report.rejected]}
    return out.emit(data, text)


def do_outbox(device: Device, args: argparse.Namespace, out: Output) -> int:
    items = device.replica.outbox()
    lines = [
        f"#{o.id:<5} {o.state:<9} {o.name:<22} {o.created_at}" + (f"  {o.code}: {o.detail}" if o.code else "")
        for o in items
    ]
    return out.emit([_outgoing(o) for o in items], "\n".join(lines) if items else "The outbox is empty.")


HANDLERS: dict[str, Callable[[Device, argparse.Namespace, Output], int]] = {
    "enroll": do_enroll,
    "jobs": do_jobs,
    "show": do_show,
    "add-on": do_add_on,
    "text-to-pay": do_text_to_pay,
    "record-payment": do_record_payment,
    "status": do_status,
    "note": do_note,
    "sync": do_sync,
    "outbox": do_outbox,
}
