"""The technician app's own modules (`server/static/tech/`: the outbox in IndexedDB, the sync
client, the ported ledger and shown state) replay every golden fixture in Chromium: the same
requests and the same figures as the Python device recorded. Also the app's canonical JSON and
content hash against Python's, and its price parsing."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver

from server.web.tech_app import APP
from tests.browser import phone_browser
from tests.protocol.golden import SERVER, compare_requests, fixture_paths, load

FIXTURES = fixture_paths()

# Runs in the page: each step through the app's modules, with `fetch` answered from the recording.
REPLAY = """
const [fixture, done] = [arguments[0], arguments[arguments.length - 1]];
(async () => {
  const db = await import("/db.js");
  const sync = await import("/sync.js");
  const device = await import("/device.js");
  const shown = await import("/shown.js");
  const store = await db.open(`golden-${fixture.name}-${crypto.randomUUID()}`);
  const sent = [];
  let at = 0;
  const recorded = async (url, init) => {
    sent.push({ path: new URL(url).pathname, body: JSON.parse(init.body), authorization: init.headers.Authorization });
    const answer = fixture.exchanges[at++];
    if (!answer) return new Response("{}", { status: 500 });
    return new Response(JSON.stringify(answer.response.body), { status: answer.response.status });
  };
  let jobs = [];
  const look = async () => {
    const [outbox, entities] = await Promise.all([store.outbox(), store.entities()]);
    jobs = shown.shownJobs(entities, outbox).jobs;
    return outbox;
  };
  const phone = new device.Device(store, () => jobs);
  const http = (token) => sync.client(fixture.server, token, recorded);
  const shows = [];
  for (const step of fixture.steps) {
    await look();
    const orderId = step.order || null;
    if (step.op === "enrol") await sync.enrol(store, http(step.token), step.token);
    else if (step.op === "sync") await sync.sync(store, http((await store.meta()).token));
    else if (step.op === "addOn") {
      const [quantity, needsApproval] = [step.quantity || 1, Boolean(step.needsApproval)];
      await phone.addOn(step.job, { name: step.name, price: step.price, quantity, orderId, needsApproval });
    } else if (step.op === "requestApproval") {
      await phone.requestApproval(step.job, { to: step.to || null });
    } else if (step.op === "recordApproval") {
      await phone.recordApproval(step.job, orderId, step.signerName);
    } else if (step.op === "textToPay") {
      await phone.textToPay(step.job, { amount: step.amount ?? null, to: step.to || null, orderId });
    } else if (step.op === "recordPayment") {
      const reference = step.reference || null;
      await phone.recordPayment(step.job, { amount: step.amount, method: step.method, reference, orderId });
    }
    else if (step.op === "setStatus") await phone.setStatus(step.job, step.status);
    else if (step.op === "show") {
      const outbox = await look();
      shows.push({
        jobs: jobs.map(shown.figures),
        outbox: outbox.sort((a, b) => a.id - b.id).map((r) => [r.id, r.name, r.state, r.code]),
      });
    }
  }
  store.close();
  return { sent, shows };
})().then(done, (error) => done({ error: String(error && error.stack || error) }));
"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def app_origin() -> Iterator[str]:
    """The app's files from a plain static server: the modules under test, nothing else."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(APP)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def page(app_origin: str) -> Iterator[WebDriver]:
    with phone_browser(javascript=True) as browser:
        browser.set_script_timeout(30)
        browser.get(f"{app_origin}/app.webmanifest")  # a page of the app's origin to run modules in
        yield browser


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_the_app_replays(path: Path, page: WebDriver) -> None:
    fixture = load(path)
    assert fixture["server"] == SERVER
    result = page.execute_async_script(REPLAY, fixture)
    assert "error" not in result, result.get("error")
    expected = [{"jobs": s["jobs"], "outbox": s["outbox"]} for s in fixture["steps"] if s["op"] == "show"]
    assert result["shows"] == expected
    assert compare_requests(fixture, result["sent"]) == []


def test_a_drifting_client_is_caught(page: WebDriver) -> None:
    """The comparison itself: a request with another field, or another figure, does not pass."""
    fixture = load(FIXTURES[0])
    result = page.execute_async_script(REPLAY, fixture)
    sent = json.loads(json.dumps(result["sent"]))
    sent[0]["body"]["limit"] = 100
    assert compare_requests(fixture, sent)
    sent = json.loads(json.dumps(result["sent"]))
    sent[0]["authorization"] = "Bearer another"
    assert compare_requests(fixture, sent)
    shows = result["shows"]
    shows[0]["jobs"][0]["balance"] += 1
    assert shows != [{"jobs": s["jobs"], "outbox": s["outbox"]} for s in fixture["steps"] if s["op"] == "show"]


CANONICAL = """
const [lines, done] = [arguments[0], arguments[arguments.length - 1]];
import("/canonical.js").then(async (c) => done({
  json: c.canonicalJson(c.approvalLines(lines)),
  hash: await c.contentHash(lines),
}));
"""


def test_the_content_hash_is_pythons(page: WebDriver) -> None:
    """Contract §8's canonical JSON, worked out by the app, is byte for byte Python's."""
    lines = [
        {"uid": "b-2", "name": "Condensate pump “quiet” ✓", "quantity": 1,
         "unitPriceMoney": {"currency": "USD", "amount": 18500}, "kind": "addon"},
        {"uid": "a-1", "name": 'Line with "quotes", \\ and a\ttab', "quantity": 3,
         "unitPriceMoney": {"amount": 1250, "currency": "USD"}},
        {"uid": "a-10", "name": "Emoji 🔧 and ünïcode", "quantity": 10000,
         "unitPriceMoney": {"amount": 1, "currency": "JPY"}},
    ]  # fmt: skip
    wanted = sorted(
        ({k: line[k] for k in ("uid", "name", "quantity", "unitPriceMoney")} for line in lines), key=lambda x: x["uid"]
    )
    text = json.dumps(wanted, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    got = page.execute_async_script(CANONICAL, lines)
    assert got["json"] == text
    assert got["hash"] == hashlib.sha256(text.encode()).hexdigest()


PRICES = """
const [cases, done] = [arguments[0], arguments[arguments.length - 1]];
import("/money.js").then((m) => done(cases.map(([text, currency]) => {
  try { return m.parseMoney(text, currency); } catch (e) { return e.message; }
})));
"""


def test_prices_as_on_a_price_tag(page: WebDriver) -> None:
    cases = [
        ("185", "USD", 18500),
        ("185.00", "USD", 18500),
        ("$1,250.50", "USD", 125050),
        (" 1250.5 ", "USD", 125050),
        ("0.99", "USD", 99),
        ("9,999,999,999.99", "USD", 999999999999),
        ("1500", "JPY", 1500),
        ("¥1,500", "JPY", 1500),
    ]
    refused = [
        ("", "USD", "Enter the price."),
        ("abc", "USD", "Enter the price as on a price tag, such as 185, 185.00 or $1,250.50."),
        ("12,34", "USD", "as on a price tag"),
        ("1.234", "USD", "as on a price tag"),
        ("-5", "USD", "as on a price tag"),
        ("€5", "USD", "as on a price tag"),
        ("١٢٣", "USD", "as on a price tag"),  # not ASCII digits
        ("1e3", "USD", "as on a price tag"),
        ("0", "USD", "Enter a price above zero."),
        ("10,000,000,000.00", "USD", "more than Flint takes"),
        ("15.5", "JPY", "as on a price tag"),
    ]
    got = page.execute_async_script(PRICES, [[t, c] for t, c, _ in cases + refused])
    for (text, currency, want), answer in zip(cases + refused, got, strict=True):
        if isinstance(want, int):
            assert answer == want, (text, currency, answer)
        else:
            assert isinstance(answer, str) and want in answer, (text, currency, answer)
