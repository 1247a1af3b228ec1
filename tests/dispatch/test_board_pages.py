"""The board in pages (contract §6, v3): `GET /v1/dispatch/board` and `/dispatch` take `limit`,
`cursor` and the filters, a page costs the same wherever it is, and the live board asks for the
rows of the jobs events named rather than the whole board (once 1,853 jobs, 1.6 MB, on every
event)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from server.clock import format_time
from server.dispatch import rules, service
from server.store.db import Tx, connect
from tests.conftest import OFFICE, FakeClock
from tests.dispatch.conftest import log_in
from tests.helpers import customer, get, item, job, order, technician


async def _jobs(client: AsyncTestClient[Any], count: int, **fields: Any) -> list[dict[str, Any]]:
    who = await customer(client)
    made = []
    for n in range(count):
        when = {"scheduledAt": f"2026-05-{1 + n % 28:02d}T{8 + n % 10:02d}:00:00Z"} if n % 3 else {}
        made.append(await job(client, customerId=who["id"], title=f"Job {n}", **when, **fields))
    return made


async def _all_pages(client: AsyncTestClient[Any], query: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        page = await get(client, f"/v1/dispatch/board?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else ""))
        pages.append([j["id"] for j in page["jobs"]])
        cursor = page["nextCursor"]
        if cursor is None:
            return pages


async def test_the_api_board_comes_in_pages(client: AsyncTestClient[Any], clock: FakeClock) -> None:
    sam = await technician(client)
    await _jobs(client, 45)
    mine = await _jobs(client, 7, technicianId=sam["id"])
    everything = (await get(client, "/v1/dispatch/board?limit=200"))["jobs"]
    assert len(everything) == 52

    pages = await _all_pages(client, "", 20)
    assert [len(p) for p in pages] == [20, 20, 12]
    assert [i for p in pages for i in p] == [j["id"] for j in everything]  # the board's order, nothing twice
    first = await get(client, "/v1/dispatch/board")
    assert len(first["jobs"]) == 50 and first["nextCursor"]  # 50 by default, as every list

    # Filters and pages together; a job made meanwhile moves no page already read.
    filtered = await _all_pages(client, f"&technicianId={sam['id']}", 3)
    assert sorted(i for p in filtered for i in p) == sorted(j["id"] for j in mine)
    page = await get(client, "/v1/dispatch/board?limit=10")
    await job(client, title="Made meanwhile", scheduledAt="2026-04-01T08:00:00Z")  # sorts first
    after = await get(client, f"/v1/dispatch/board?limit=10&cursor={page['nextCursor']}")
    assert [j["id"] for j in after["jobs"]] == [j["id"] for j in everything[10:20]]

    for bad in ("nope", rules.BoardKey(0, "x", 1).encode()[:-2] + "@@", "bjpvOm5vdA"):
        refused = await client.get(f"/v1/dispatch/board?cursor={bad}", headers=OFFICE)
        assert (refused.status_code, refused.json()["code"]) == (400, "invalid_request"), bad
    assert (await client.get("/v1/dispatch/board?limit=201", headers=OFFICE)).status_code == 400


def _reads(db_path: Path, now: str, **filters: Any) -> tuple[int, service.BoardView]:
    conn = connect(db_path)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        conn.execute("BEGIN")
        view = service.board(Tx(conn, now, writable=False), **filters)
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return sum(s.lstrip().upper().startswith("SELECT") for s in statements), view


async def test_a_page_costs_the_same_wherever_it_is(
    client: AsyncTestClient[Any], db_path: Path, clock: FakeClock
) -> None:
    for made in await _jobs(client, 60):
        await order(client, made["id"], item("Work", 5000))
    first_cost, first = _reads(db_path, format_time(clock.now), limit=25)
    assert len(first.jobs) == 25 and first.next_cursor
    later_cost, later = _reads(
        db_path, format_time(clock.now), limit=25, after=rules.BoardKey.decode(first.next_cursor)
    )
    assert len(later.jobs) == 25 and later_cost == first_cost == 10
    assert not {line.job.id for line in first.jobs} & {line.job.id for line in later.jobs}


async def test_the_office_board_pages(client: AsyncTestClient[Any]) -> None:
    await _jobs(client, service.PAGE + 5)
    await log_in(client)
    board = await client.get("/dispatch")
    assert board.text.count('<tr id="job-') == service.PAGE
    assert "50 on this page" in board.text
    more = re.search(r'<a href="(/dispatch\?cursor=[^"]+)" rel="next">Next page</a>', board.text)
    assert more
    rest = await client.get(more.group(1).replace("&amp;", "&"))
    assert rest.text.count('<tr id="job-') == 5 and "First page" in rest.text and "Next page" not in rest.text
    # The live part of a page alone, for the script: the same rows.
    part = await client.get("/dispatch/board" + more.group(1).removeprefix("/dispatch"))
    assert part.text.count('<tr id="job-') == 5
    # An unknown cursor on a page shows the first page, as an unknown filter does.
    assert (await client.get("/dispatch?cursor=nonsense")).text.count('<tr id="job-') == service.PAGE


async def test_the_live_board_reads_only_the_rows_events_named(client: AsyncTestClient[Any]) -> None:
    sam = await technician(client)
    mine, other = await job(client, technicianId=sam["id"]), await job(client)
    await client.patch(
        f"/v1/jobs/{other['id']}", json={"version": other["version"], "status": "on_site"}, headers=OFFICE
    )
    await log_in(client)

    rows = await client.get(f"/dispatch/board/rows?ids={mine['id']},{other['id']}&technician={sam['id']}")
    assert rows.status_code == 200
    found = dict(re.findall(r'<tr id="job-([^"]+)" data-key="[^"]+" data-match="(yes|no)"', rows.text))
    assert found == {mine["id"]: "yes", other["id"]: "no"}  # the other is not Sam's: taken out
    assert "On site" in rows.text and rows.text.count("<tr ") == 2
    assert (await client.get(f"/dispatch/board/rows?ids={other['id']}&status=on_site")).text.count('"yes"') == 1
    assert (await client.get("/dispatch/board/rows?ids=job_nope")).text.count("<tr ") == 0

    too_many = ",".join(f"job_{n}" for n in range(service.MAX_ROWS + 1))
    assert (await client.get(f"/dispatch/board/rows?ids={too_many}")).status_code == 400
    techs = await client.get("/dispatch/board/technicians")
    assert techs.status_code == 200 and "Sam Ortiz" in techs.text and "<table" not in techs.text
    client.cookies.clear()
    assert (await client.get(f"/dispatch/board/rows?ids={mine['id']}")).status_code == 401
