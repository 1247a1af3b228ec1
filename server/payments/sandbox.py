"""The sandbox card processor (contract §4), as unreliable as a real one.

`4242424242424242` captures, `4000000000000002` declines `card_declined`, `4000000000009995`
declines `insufficient_funds`, `4000000000000119` fails with `processing_error` (nothing
captured; the customer may try again), any other Luhn-valid number captures. It moves no money.

It saves cards for later (contract §10) as a real processor does: a setup with `4000000000000002`
is refused `card_declined` and with `4000000000000119` fails `processing_error` (nothing saved);
any other Luhn-valid number is saved, and `4000000000000341` (like `4000000000009995`) saves
fine, then every charge on it declines. A saved card is kept by reference with what its charges
will do, never its number.

Like a real processor it keeps what it did, in a SQLite file of its own beside the store, so a
server that died during a charge or refund can ask it afterwards. Faults for tests and the soak
are queued in the same file (`SandboxProcessor.add_fault`, or a row in its `faults` table):

    down   the call fails before the processor sees it (no connection)
    slow   the processor does the work, then answers after `seconds` (long enough to time out)
    lost   the processor does the work, and the answer never comes back
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Literal, TypeVar

from server.money import Money
from server.payments.processor import CardDetails, Charge, SavedCard, Setup, card_brand, luhn_valid

T = TypeVar("T")
Op = Literal["charge", "refund", "setup", "find", "any"]  # `find`: asking about an earlier charge or refund
FaultKind = Literal["down", "slow", "lost"]

DECLINING_CARDS = {
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000000000000119": "processing_error",
}
# Saved fine; every charge on the saved card declines with this code.
DECLINING_WHEN_CHARGED = {"4000000000000341": "card_declined", "4000000000009995": "insufficient_funds"}
REFUSED_WHEN_SAVED = {"4000000000000002": "card_declined", "4000000000000119": "processing_error"}

_SCHEMA = """
CREATE TABLE IF NOT EXISTS charges (
    key TEXT PRIMARY KEY, approved INTEGER NOT NULL, brand TEXT NOT NULL, last4 TEXT NOT NULL,
    reference TEXT, decline_code TEXT, amount INTEGER NOT NULL, currency TEXT NOT NULL, saved_card TEXT
);
CREATE TABLE IF NOT EXISTS refunds (
    key TEXT PRIMARY KEY, charge_reference TEXT NOT NULL, amount INTEGER NOT NULL, reference TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS setups (
    key TEXT PRIMARY KEY, reference TEXT, decline_code TEXT
);
CREATE TABLE IF NOT EXISTS saved_cards (
    reference TEXT PRIMARY KEY, customer TEXT NOT NULL, brand TEXT NOT NULL, last4 TEXT NOT NULL,
    exp_month INTEGER NOT NULL, exp_year INTEGER NOT NULL, declines TEXT
);
CREATE TABLE IF NOT EXISTS faults (
    n INTEGER PRIMARY KEY, op TEXT NOT NULL, kind TEXT NOT NULL, seconds REAL NOT NULL DEFAULT 0
);
"""


class ProcessorDown(ConnectionError):
    """No connection to the processor: it saw nothing."""


class AnswerLost(TimeoutError):
    """The processor may have done the work; its answer never came back."""


def file_beside(db_path: str) -> Path:
    """Where the sandbox keeps what it did for the store at `db_path`."""
    return Path(f"{db_path}.sandbox-processor")


class SandboxProcessor:
    """The server's calls run on one thread of their own with one connection to the file (WAL,
    so tests and `flint doctor` read it beside the server): the processor's bookkeeping is never
    a queue of connections contending for its lock while customers pay at once."""

    name = "sandbox"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._ready = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-processor")
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # a sandbox: it survives a crash of the server, moves no money
        if not self._ready:
            conn.executescript(_SCHEMA)
            if "saved_card" not in {row[1] for row in conn.execute("PRAGMA table_info(charges)")}:
                conn.execute("ALTER TABLE charges ADD COLUMN saved_card TEXT")  # a file from before saved cards
            self._ready = True
        return conn

    @staticmethod
    def _in_transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

    def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """On a short connection of the caller's own (tests queue faults and count charges so)."""
        with closing(self._connect()) as conn:
            return self._in_transaction(conn, work)

    def _on_thread(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._connect()
        return self._in_transaction(self._conn, work)

    async def _call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._on_thread, work)

    def close(self) -> None:
        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._thread.submit(shut).result()
        self._thread.shutdown(wait=True)

    def add_fault(self, op: Op, kind: FaultKind, seconds: float = 0.0, times: int = 1) -> None:
        def add(conn: sqlite3.Connection) -> None:
            conn.executemany("INSERT INTO faults (op, kind, seconds) VALUES (?, ?, ?)", [(op, kind, seconds)] * times)

        self._run(add)

    async def _fault(self, op: Op) -> tuple[str, float] | None:
        fault = await self._call(lambda conn: _take_fault(conn, op))
        if fault is not None and fault[0] == "down":
            raise ProcessorDown("the sandbox processor is down")
        return fault

    @staticmethod
    async def _after(fault: tuple[str, float] | None) -> None:
        """The work is done (or, asking, the answer is ready); it is slow or lost if a fault says so."""
        if fault is None:
            return
        kind, seconds = fault
        if seconds:
            await asyncio.sleep(seconds)
        if kind == "lost":
            raise AnswerLost("the sandbox processor's answer never came back")

    async def charge(self, card: CardDetails, amount: Money, idempotency_key: str) -> Charge:
        def charge(conn: sqlite3.Connection) -> tuple[tuple[str, float] | None, Charge]:
            fault = _take_fault(conn, "charge")
            if fault is not None and fault[0] == "down":
                return fault, NOT_SEEN
            return fault, _charge(conn, card, amount, idempotency_key)

        fault, result = await self._call(charge)  # the fault and the work in one transaction
        if fault is not None and fault[0] == "down":
            raise ProcessorDown("the sandbox processor is down")
        await self._after(fault)
        return result

    async def find_charge(self, idempotency_key: str, reference: str | None = None) -> Charge | None:
        await self._after(await self._fault("find"))
        return await self._call(lambda conn: _found_charge(conn, idempotency_key))

    async def charge_saved(self, card: SavedCard, amount: Money, idempotency_key: str) -> Charge:
        fault = await self._fault("charge")
        result = await self._call(lambda conn: _charge_saved(conn, card, amount, idempotency_key))
        await self._after(fault)
        return result

    async def save_card(self, card: CardDetails, idempotency_key: str, customer: str | None) -> Setup:
        fault = await self._fault("setup")
        result = await self._call(lambda conn: _save(conn, card, idempotency_key, customer))
        await self._after(fault)
        return result

    async def find_setup(self, idempotency_key: str, reference: str | None = None) -> Setup | None:
        await self._after(await self._fault("find"))
        return await self._call(lambda conn: _found_setup(conn, idempotency_key))

    async def refund(self, charge_reference: str, amount: Money, idempotency_key: str) -> str:
        fault = await self._fault("refund")
        reference = await self._call(lambda conn: _refund(conn, charge_reference, amount, idempotency_key))
        await self._after(fault)
        return reference

    async def find_refund(self, idempotency_key: str) -> str | None:
        await self._after(await self._fault("find"))

        def find(conn: sqlite3.Connection) -> str | None:
            row = conn.execute("SELECT reference FROM refunds WHERE key = ?", (idempotency_key,)).fetchone()
            return None if row is None else str(row[0])

        return await self._call(find)

    def save_now(self, card: CardDetails, idempotency_key: str, customer: str | None = None) -> Setup:
        """`save_card` from code that cannot await (the demo's seeding, before the server runs)."""
        return self._run(lambda conn: _save(conn, card, idempotency_key, customer))

    def charges(self) -> int:
        """How many charges it took (for tests: nothing is ever charged twice)."""
        taken = "SELECT count(*) FROM charges WHERE approved = 1"
        return int(self._run(lambda conn: conn.execute(taken).fetchone()[0]))

    def charges_on(self, reference: str) -> int:
        """How many charges a saved card took."""
        taken = "SELECT count(*) FROM charges WHERE approved = 1 AND saved_card = ?"
        return int(self._run(lambda conn: conn.execute(taken, (reference,)).fetchone()[0]))

    def refund_count(self) -> int:
        return int(self._run(lambda conn: conn.execute("SELECT count(*) FROM refunds").fetchone()[0]))


NOT_SEEN = Charge(approved=False, brand="unknown", last4="")  # stands for nothing: the call never arrived


def _take_fault(conn: sqlite3.Connection, op: Op) -> tuple[str, float] | None:
    sql = "SELECT n, kind, seconds FROM faults WHERE op IN (?, 'any') ORDER BY n LIMIT 1"
    row = conn.execute(sql, (op,)).fetchone()
    if row is None:
        return None
    conn.execute("DELETE FROM faults WHERE n = ?", (row[0],))
    return str(row[1]), float(row[2])


def _found_charge(conn: sqlite3.Connection, key: str) -> Charge | None:
    row = conn.execute(
        "SELECT approved, brand, last4, reference, decline_code FROM charges WHERE key = ?", (key,)
    ).fetchone()
    if row is None:
        return None
    return Charge(approved=bool(row[0]), brand=row[1], last4=row[2], reference=row[3], decline_code=row[4])


def _record(conn: sqlite3.Connection, key: str, result: Charge, amount: Money, saved_card: str | None = None) -> None:
    conn.execute(
        "INSERT INTO charges (key, approved, brand, last4, reference, decline_code, amount, currency, saved_card)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            key,
            int(result.approved),
            result.brand,
            result.last4,
            result.reference,
            result.decline_code,
            amount.amount,
            amount.currency,
            saved_card,
        ),
    )


def _charge_saved(conn: sqlite3.Connection, card: SavedCard, amount: Money, key: str) -> Charge:
    earlier = _found_charge(conn, key)
    if earlier is not None:
        return earlier
    row = conn.execute("SELECT declines FROM saved_cards WHERE reference = ?", (card.reference,)).fetchone()
    decline = "card_declined" if row is None else row[0]  # a card it never saved is no card at all
    reference = None if decline else "sbx_ch_" + hashlib.sha256(key.encode()).hexdigest()[:24]
    result = Charge(decline is None, card.brand, card.last4, reference, decline)
    _record(conn, key, result, amount, card.reference)
    return result


def _found_setup(conn: sqlite3.Connection, key: str) -> Setup | None:
    row = conn.execute(
        "SELECT s.reference, s.decline_code, c.customer, c.brand, c.last4, c.exp_month, c.exp_year FROM setups s"
        " LEFT JOIN saved_cards c ON c.reference = s.reference WHERE s.key = ?",
        (key,),
    ).fetchone()
    if row is None:
        return None
    if row[0] is None:
        return Setup(saved=None, decline_code=row[1])
    saved = SavedCard(reference=row[0], customer=row[2], brand=row[3], last4=row[4], exp_month=row[5], exp_year=row[6])
    return Setup(saved=saved, reference="sbx_seti_" + hashlib.sha256(key.encode()).hexdigest()[:24])


def _save(conn: sqlite3.Connection, card: CardDetails, key: str, customer: str | None) -> Setup:
    earlier = _found_setup(conn, key)
    if earlier is not None:
        return earlier
    assert luhn_valid(card.number), "the card form checks the number before a setup"
    refused = REFUSED_WHEN_SAVED.get(card.number)
    if refused == "processing_error":
        return Setup(saved=None, decline_code=refused)  # nothing left behind: try again
    if refused is not None:
        conn.execute("INSERT INTO setups (key, reference, decline_code) VALUES (?, NULL, ?)", (key, refused))
        return Setup(saved=None, decline_code=refused)
    reference = "sbx_pm_" + hashlib.sha256(key.encode()).hexdigest()[:24]
    owner = customer or "sbx_cus_" + hashlib.sha256(("customer:" + key).encode()).hexdigest()[:24]
    conn.execute(
        "INSERT INTO saved_cards (reference, customer, brand, last4, exp_month, exp_year, declines)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            reference,
            owner,
            card_brand(card.number),
            card.last4,
            card.exp_month,
            card.exp_year,
            DECLINING_WHEN_CHARGED.get(card.number),
        ),
    )
    conn.execute("INSERT INTO setups (key, reference, decline_code) VALUES (?, ?, NULL)", (key, reference))
    found = _found_setup(conn, key)
    assert found is not None
    return found


def _charge(conn: sqlite3.Connection, card: CardDetails, amount: Money, key: str) -> Charge:
    earlier = _found_charge(conn, key)
    if earlier is not None:
        return earlier
    assert luhn_valid(card.number), "the card form checks the number before a charge"
    decline = DECLINING_CARDS.get(card.number)
    reference = None if decline else "sbx_ch_" + hashlib.sha256(key.encode()).hexdigest()[:24]
    brand = card_brand(card.number)
    result = Charge(approved=decline is None, brand=brand, last4=card.last4, reference=reference, decline_code=decline)
    if decline != "processing_error":  # a processing error leaves nothing behind: try again
        _record(conn, key, result, amount)
    return result


def _refund(conn: sqlite3.Connection, charge_reference: str, amount: Money, key: str) -> str:
    row = conn.execute("SELECT reference FROM refunds WHERE key = ?", (key,)).fetchone()
    if row is not None:
        return str(row[0])
    reference = "sbx_re_" + hashlib.sha256(key.encode()).hexdigest()[:24]
    conn.execute(
        "INSERT INTO refunds (key, charge_reference, amount, reference) VALUES (?, ?, ?, ?)",
        (key, charge_reference, amount.amount, reference),
    )
    return reference
