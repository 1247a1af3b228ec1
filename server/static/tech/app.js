// The technician app: a second device client of the sync protocol beside `flint device`
// (contract §9). Its state is the phone's own storage (db.js); what it shows is that state with
// the waiting changes replayed (shown.js); it syncs on its own whenever it can and when the
// technician taps Sync. The screen's address (`#/job/...`) is the screen, so a reload returns to it.

import * as db from "./db.js";
import { Device } from "./device.js";
import * as screens from "./screens.js";
import { shownJobs } from "./shown.js";
import { Refused, client, enrol, sync } from "./sync.js";
import { h } from "./ui.js";

const RETRY_MS = 5000; // while changes wait, at least every 10 s (contract §9)
const REFRESH_MS = 30000; // with nothing waiting, a pull now and then keeps the jobs current
const FORMS = new Set(["add-on", "text", "payment", "approval", "approve"]);

const app = {
  store: null,
  state: { meta: {}, outbox: [], jobs: [], skipped: 0 },
  device: null,
  linkToken: null,
  syncing: null,
  failed: false, // the last request to the server failed
  problem: null, // why the last sync did not finish, when the server said why
  lastSync: 0,
  notice: null, // said on the next screen
  shownNotice: null, // said on this screen, until the technician moves on
};

const $ = (id) => document.getElementById(id);
const enrolled = () => Boolean(app.state.meta.token && app.state.meta.clientId);
const waiting = () => app.state.outbox.filter((r) => r.state === "pending").length;
const offline = () => app.failed || navigator.onLine === false;

async function load() {
  const [meta, outbox, entities] = await Promise.all([app.store.meta(), app.store.outbox(), app.store.entities()]);
  outbox.sort((a, b) => a.id - b.id);
  const shown = shownJobs(entities, outbox);
  app.state = { meta, outbox, jobs: shown.jobs, skipped: shown.skipped };
}

function http() {
  return client(location.origin, app.state.meta.token);
}

// Syncing: one at a time; every outcome is said in the bar.

function trySync() {
  if (!enrolled()) return Promise.resolve();
  if (app.syncing) return app.syncing;
  app.syncing = (async () => {
    paintBar("Syncing…");
    try {
      await sync(app.store, http());
      app.failed = false;
      app.problem = null;
      app.lastSync = Date.now();
    } catch (error) {
      app.failed = true;
      app.problem = error instanceof Refused ? refusedInWords(error) : null;
    } finally {
      app.syncing = null;
      await load();
      refresh();
    }
  })();
  return app.syncing;
}

function refusedInWords(error) {
  if (error.status === 401) return "The server no longer takes this phone's token. Ask the office for a new one.";
  if (error.status === 426) return "The server needs a newer app: close it and open it again.";
  return error.message;
}

function tick() {
  if (!enrolled() || app.syncing || document.visibilityState === "hidden") return;
  if (waiting() > 0 || Date.now() - app.lastSync > REFRESH_MS) trySync();
}

// The bar, the refused changes and the screen.

function paintBar(saying = null) {
  const bar = $("bar");
  bar.hidden = !enrolled();
  const count = waiting();
  const parts = [];
  if (offline()) parts.push(h("strong", { class: "offline" }, "Offline"));
  if (count) parts.push(`${count} change${count === 1 ? "" : "s"} waiting to sync`);
  if (saying) parts.push(saying);
  else if (!count && !offline()) parts.push(app.lastSync ? `Up to date (${new Date(app.lastSync).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })})` : "Up to date");
  if (app.problem) parts.push(app.problem);
  const state = $("state");
  const next = parts.flatMap((p, i) => (i ? [" · ", p] : [p]));
  const text = next.map((p) => (typeof p === "string" ? p : p.textContent)).join("");
  if (state.textContent !== text) state.replaceChildren(...next);
  bar.classList.toggle("is-offline", offline());
}

function what(row) {
  const a = row.args || {};
  const job = app.state.jobs.find((j) => j.id === a.jobId || j.orders.some((o) => o.id === a.orderId));
  const on = job ? ` on ${job.title}` : "";
  const names = {
    "order.addLineItem": `Add-on ${a.name}`,
    "textToPay.request": "Text to pay",
    "payment.recordOffline": a.method === "check" ? "Check payment" : "Cash payment",
    "job.setStatus": "Status change",
    "job.addNote": "Note",
    "approval.request": "Approval request",
    "approval.record": "Approval in person",
  };
  return `${names[row.name] || row.name}${on}`;
}

function paintRefused() {
  const section = $("refused");
  const rejected = app.state.outbox.filter((r) => r.state === "rejected");
  section.hidden = !rejected.length;
  if (!rejected.length) {
    section.replaceChildren();
    return;
  }
  section.replaceChildren(
    h("h2", { id: "refused-heading" }, "The server refused"),
    h("ul", { role: "list" }, rejected.map((row) =>
      h("li", { class: "rejection", id: `rejected-${row.id}` },
        h("p", {}, h("strong", {}, what(row)), `: ${row.detail || "no reason given"}`, h("span", { class: "code" }, ` (${row.code})`)),
        h("button", { type: "button", class: "quiet", "aria-label": `Dismiss: ${what(row)} (change ${row.id})`, onclick: () => dismiss(row.id) }, "Dismiss")))),
  );
}

async function dismiss(id) {
  await app.store.dismiss(id);
  await load();
  refresh();
  $("screen").focus();
}

function parse(hash) {
  const parts = (hash || "").replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  return { name: parts[0] || "jobs", jobId: parts[1] || null, form: parts[2] || null, orderId: parts[3] || null };
}

function screenFor(route) {
  if (!enrolled()) return screens.enrolScreen(app);
  if (route.name === "sign-out") return screens.signOutScreen(app);
  if (route.name !== "job") return screens.jobsScreen(app);
  const job = app.state.jobs.find((j) => j.id === route.jobId);
  if (!job) return screens.missingScreen();
  switch (route.form) {
    case "add-on":
      return screens.addOnScreen(app, job);
    case "text":
      return screens.textScreen(app, job);
    case "payment":
      return screens.paymentScreen(app, job);
    case "approval":
      return screens.approvalScreen(app, job);
    case "approve":
      return screens.approveScreen(app, job, route.orderId);
    default:
      return screens.jobScreen(app, job);
  }
}

/** Draw the screen the address names. `moved`: a new screen (focus its heading), else a refresh. */
function render(moved) {
  const route = parse(location.hash);
  const main = $("screen");
  if (!moved && FORMS.has(route.form) && main.querySelector("form")) {
    return; // never redraw a form under the technician's thumbs
  }
  const focused = document.activeElement && main.contains(document.activeElement) ? document.activeElement.id : null;
  const scroll = window.scrollY;
  if (moved) {
    app.shownNotice = app.notice;
    app.notice = null;
  }
  const notice = app.shownNotice ? h("p", { class: "notice", role: "status" }, app.shownNotice) : null;
  main.replaceChildren(...[notice, screenFor(route)].flat().filter(Boolean));
  $("back").hidden = !enrolled() || route.name === "jobs";
  $("back").setAttribute("href", route.form ? `#/job/${encodeURIComponent(route.jobId)}` : "#/jobs");
  $("back").textContent = route.form ? "← Job" : "← Jobs";
  $("who").textContent = enrolled() ? `${app.state.jobs.length} job${app.state.jobs.length === 1 ? "" : "s"}` : "";
  if (moved) {
    window.scrollTo(0, 0);
    (main.querySelector("h1") || main).focus();
  } else {
    window.scrollTo(0, scroll);
    if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  }
}

function refresh() {
  paintBar();
  paintRefused();
  render(false);
}

// What the screens call.

app.go = (hash) => {
  if (location.hash === hash) render(true);
  else location.hash = hash;
};

/** A change is on disk: say so, show it, and try to send it. */
app.queued = async ({ to, say }) => {
  await load();
  app.notice = say;
  paintBar();
  paintRefused();
  app.go(to);
  trySync();
};

/** A one-tap action (a status): queue it, then as `queued`. */
app.run = async (action, say) => {
  try {
    await action();
  } catch (error) {
    app.shownNotice = error.message;
    render(false);
    return;
  }
  await app.queued({ to: location.hash, say });
};

app.enrol = async (token) => {
  await enrol(app.store, client(location.origin, token), token);
  app.linkToken = null;
  app.failed = false;
  app.lastSync = Date.now();
  await load();
  app.notice = "This phone is enrolled.";
  paintBar();
  app.go("#/jobs");
};

app.signOut = async () => {
  await app.store.forget();
  await load();
  app.notice = "Signed out. This phone no longer holds your token or your jobs.";
  paintBar();
  paintRefused();
  app.go("#/enrol");
};

/** `#token=...` from the office's QR code: taken into memory, wiped from the address bar. */
function takeLinkToken() {
  const found = /^#token=([^&]*)/.exec(location.hash);
  if (!found) return;
  const token = decodeURIComponent(found[1]);
  history.replaceState(null, "", `${location.pathname}#/enrol`);
  if (enrolled()) app.notice = "This phone is already enrolled. Sign out first to enrol it with another token.";
  else app.linkToken = token;
}

async function start() {
  try {
    app.store = await db.open();
  } catch (error) {
    $("screen").replaceChildren(h("p", { class: "problem" }, `This browser will not keep the app's data (${error.message}). Leave private browsing and open the app again.`));
    return;
  }
  app.device = new Device(app.store, () => app.state.jobs);
  await load();
  takeLinkToken();
  if (!enrolled() && !location.hash.startsWith("#/enrol")) history.replaceState(null, "", `${location.pathname}#/enrol`);
  if (enrolled() && (!location.hash || location.hash.startsWith("#/enrol"))) history.replaceState(null, "", `${location.pathname}#/jobs`);
  $("sync").addEventListener("click", () => trySync());
  window.addEventListener("hashchange", () => render(true));
  window.addEventListener("online", () => trySync());
  window.addEventListener("offline", () => paintBar());
  document.addEventListener("visibilitychange", tick);
  paintBar();
  paintRefused();
  render(true);
  setInterval(tick, RETRY_MS);
  if (enrolled()) trySync();
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/tech/sw.js", { scope: "/tech" }).catch(() => {
      // Without a worker the app still works online; nothing to tell the technician.
    });
  }
}

start();
