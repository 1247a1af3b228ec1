// The app's screens, each built from the shown state (shown.js) and wired to the device's
// actions (device.js). Every action only writes to the outbox; the screen says a change is
// queued once it is on disk. Accessible names follow contract §9.

import { BadInput, DEVICE_STATUSES, STATUS_ORDER, approvalWire, pendingApprovals } from "./device.js";
import { NotMoney, display, parseMoney, typed } from "./money.js";
import { NEW_WORK_ORDER, currencyOf, isDeposit, labelOf, lineTotal, shownLines, statusLabel, workOrders } from "./shown.js";
import { contentHash } from "./canonical.js";
import { field, formError, h, showError, value, when } from "./ui.js";

const money = (amount, currency) => display(amount, currency);

/** `dispatch_deposit` as a person reads it: `Dispatch deposit`. */
function readable(label) {
  const words = String(label || "").replaceAll("_", " ").trim();
  return words ? words[0].toUpperCase() + words.slice(1) : "";
}

function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}

/** Run an action from a form: field errors stay on the form; success goes where `then` says. */
async function act(app, form, action, then) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const done = await action();
    await app.queued(then(done));
  } catch (error) {
    if (error instanceof BadInput || error instanceof NotMoney) showError(form, error.field ? `f-${error.field}` : null, error.message);
    else showError(form, null, `This phone could not keep that change: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

function moneyInput(form, name, currency, what) {
  try {
    return parseMoney(value(form, name), currency, what);
  } catch (error) {
    if (error instanceof NotMoney) throw new BadInput(error.message, name);
    throw error;
  }
}

// Enrolling.

export function enrolScreen(app) {
  const form = h(
    "form",
    { class: "card", novalidate: true },
    field("f-token", "Device token", { autocomplete: "off", autocapitalize: "off", spellcheck: "false", value: app.linkToken || "" },
      "Scan the QR code on your page in dispatch, or type the token the office gave you."),
    formError(),
    h("button", { type: "submit", class: "primary" }, "Enrol"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const token = value(form, "token").trim();
    if (!/^[!-~]{1,64}$/.test(token)) {
      showError(form, "f-token", "That is not a device token: they are up to 64 characters, with no spaces.");
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      await app.enrol(token);
    } catch (error) {
      showError(form, "f-token", error.message);
    } finally {
      button.disabled = false;
    }
  });
  return [heading("Enrol this phone"), h("p", { class: "lead" }, "Flint keeps your jobs on this phone, so you can work with no signal."), form];
}

// The jobs.

export function jobsScreen(app) {
  const jobs = app.state.jobs;
  const list = h(
    "ul",
    { class: "jobs", "aria-label": "My jobs" },
    jobs.map((job) =>
      h(
        "li",
        { class: "job-card", id: `job-${job.id}` },
        h("a", { class: "job-title", href: `#/job/${encodeURIComponent(job.id)}` }, job.title),
        h("p", { class: "address" }, job.address),
        h(
          "p",
          { class: "meta" },
          h("span", { class: `badge s-${job.status}` }, statusLabel(job.status)),
          h("span", { class: "balance" }, `Balance ${money(job.balance, currencyOf(job))}`),
        ),
        job.pending.length ? h("p", { class: "waiting" }, `${job.pending.length} waiting to sync`) : null,
      ),
    ),
  );
  return [
    heading("My jobs"),
    jobs.length ? list : h("p", { class: "empty" }, "No jobs assigned to you. Pull to sync when dispatch adds one."),
    h("p", { class: "signout-link" }, h("a", { href: "#/sign-out" }, "Sign out of this phone")),
  ];
}

function orderSection(app, job, order) {
  const currency = order.currency;
  const title = order.pendingOrder ? "New work order" : readable(labelOf(order)) || "Order";
  const rows = shownLines(order).map((line) => {
    const marks = [];
    if (line.pending) marks.push(h("span", { class: "mark waiting" }, "Waiting to sync"));
    if (line.approval === "pending") marks.push(h("span", { class: "mark approval" }, "Awaiting approval"));
    if (line.approval === "declined") marks.push(h("span", { class: "mark declined" }, "Declined"));
    if (line.approval === "approved") marks.push(h("span", { class: "mark approved" }, "Approved"));
    const subtracts = ["discount", "deposit_applied", "deposit_refunded"].includes(line.kind);
    return h(
      "tr",
      { class: line.kind.startsWith("deposit_") ? "system" : null },
      h("th", { scope: "row" }, line.name, line.quantity > 1 ? h("span", { class: "sub" }, `${line.quantity} × ${money(line.unitAmount, currency)}`) : null, marks),
      h("td", { class: "num" }, money(subtracts ? -lineTotal(line) : lineTotal(line), currency)),
    );
  });
  const waiting = order.lines.filter((l) => l.approval === "pending");
  return h(
    "section",
    { class: "order card", id: `order-${order.id === NEW_WORK_ORDER ? "new" : order.id}`, "aria-label": `Order: ${title}` },
    h("h3", {}, title, order.state !== "open" ? h("span", { class: "sub" }, order.state) : null),
    order.pendingOrder ? h("p", { class: "hint" }, "Flint makes this order when the phone syncs.") : null,
    h(
      "table",
      { class: "lines" },
      h("caption", { class: "sr-only" }, `Lines of ${title}`),
      h("tbody", {}, rows),
      h(
        "tfoot",
        {},
        h("tr", {}, h("th", { scope: "row" }, "Total"), h("td", { class: "num" }, money(order.total, currency))),
        order.paid + order.pendingPaid ? h("tr", {}, h("th", { scope: "row" }, "Paid"), h("td", { class: "num" }, money(order.paid + order.pendingPaid - order.refunded, currency))) : null,
        h("tr", { class: "due" }, h("th", { scope: "row" }, isDeposit(order) ? "Still asks" : "Owes"), h("td", { class: "num" }, money(order.balance, currency))),
      ),
    ),
    waiting.length && !order.pendingOrder
      ? h("a", { class: "button secondary", href: `#/job/${encodeURIComponent(job.id)}/approve/${encodeURIComponent(order.id)}` }, `Approve in person: ${title}`)
      : null,
  );
}

function statusSection(app, job) {
  const at = STATUS_ORDER.indexOf(job.status);
  const open = at >= 0 && job.status !== "completed";
  const buttons = DEVICE_STATUSES.filter((s) => open && STATUS_ORDER.indexOf(s) > at).map((status) =>
    h("button", { type: "button", class: "secondary", id: `status-${status}`, onclick: () => app.run(() => app.device.setStatus(job.id, status), `Status set to ${statusLabel(status)}.`) }, statusLabel(status)),
  );
  return h(
    "section",
    { class: "status", "aria-labelledby": "status-heading" },
    h("h2", { id: "status-heading" }, "Status: ", h("span", { class: `badge s-${job.status}` }, statusLabel(job.status))),
    buttons.length ? h("div", { class: "row", role: "group", "aria-label": "Set status" }, buttons) : null,
  );
}

export function jobScreen(app, job) {
  const currency = currencyOf(job);
  const go = (what) => () => app.go(`#/job/${encodeURIComponent(job.id)}/${what}`);
  const payments = job.payments.map((p) =>
    h("li", {}, `${p.method === "card" ? "Card" : p.method === "check" ? "Check" : "Cash"} ${money(p.amountMoney.amount, p.amountMoney.currency)}`,
      p.status !== "captured" ? ` (${p.status})` : "", p.refundedMoney && p.refundedMoney.amount ? `, ${money(p.refundedMoney.amount, p.refundedMoney.currency)} refunded` : "",
      h("span", { class: "sub" }, when(p.createdAt))),
  );
  const texts = job.texts.map((t) => h("li", {}, `Text to ${t.to}: ${t.status}`, t.link ? ` (${t.link.name}, ${money(t.link.amountMoney.amount, t.link.amountMoney.currency)})` : "", h("span", { class: "sub" }, when(t.createdAt))));
  return [
    heading(job.title),
    h("p", { class: "address" }, job.address),
    job.customerName ? h("p", { class: "customer" }, job.customerName, job.customerPhone ? ` · ${job.customerPhone}` : "") : null,
    h(
      "dl",
      { class: "figures" },
      h("div", { class: "figure due" }, h("dt", {}, "Balance"), h("dd", { id: "job-balance" }, money(job.balance, currency))),
      h("div", { class: "figure" }, h("dt", {}, "Total"), h("dd", { id: "job-total" }, money(job.total, currency))),
      h("div", { class: "figure" }, h("dt", {}, "Paid"), h("dd", { id: "job-paid" }, money(job.paid - job.refunded, currency))),
    ),
    job.pending.length
      ? h("section", { class: "waiting-list", "aria-labelledby": "waiting-heading" }, h("h2", { id: "waiting-heading" }, "Waiting to sync"), h("ul", {}, job.pending.map((p) => h("li", {}, p))))
      : null,
    h(
      "div",
      { class: "actions", role: "group", "aria-label": "Actions" },
      h("button", { type: "button", class: "primary", id: "add-on", onclick: go("add-on") }, "Add add-on"),
      h("button", { type: "button", id: "text-to-pay", onclick: go("text") }, "Text to pay"),
      h("button", { type: "button", id: "record-payment", onclick: go("payment") }, "Record payment"),
      h("button", { type: "button", id: "ask-approval", onclick: go("approval") }, "Ask for approval"),
    ),
    statusSection(app, job),
    h("section", { class: "orders", "aria-labelledby": "orders-heading" }, h("h2", { id: "orders-heading" }, "Orders"),
      job.orders.length ? job.orders.map((o) => orderSection(app, job, o)) : h("p", { class: "empty" }, "No orders yet.")),
    h("section", { "aria-labelledby": "payments-heading" }, h("h2", { id: "payments-heading" }, "Payments"),
      payments.length ? h("ul", { class: "plain" }, payments) : h("p", { class: "empty" }, "No payments yet.")),
    texts.length ? h("section", { "aria-labelledby": "texts-heading" }, h("h2", { id: "texts-heading" }, "Texts"), h("ul", { class: "plain" }, texts)) : null,
  ];
}

// Forms on a job.

function back(job) {
  return h("a", { class: "button quiet", href: `#/job/${encodeURIComponent(job.id)}` }, "Cancel");
}

const toJob = (job) => () => `#/job/${encodeURIComponent(job.id)}`;

export function addOnScreen(app, job) {
  const currency = currencyOf(job);
  const takers = workOrders(job);
  const choose = takers.length > 1
    ? h("fieldset", { class: "choice" }, h("legend", {}, "Which order"),
        takers.map((o, i) => h("label", {}, h("input", { type: "radio", name: "order", value: o.id, checked: i === 0 }), ` ${readable(labelOf(o)) || o.id} (owes ${money(o.balance, o.currency)})`)),
        h("p", { class: "error", id: "f-order-error", hidden: true }))
    : null;
  const form = h(
    "form",
    { class: "card", novalidate: true },
    field("f-name", "Name", { autocomplete: "off", maxlength: "200", required: true }),
    field("f-price", "Price", { inputmode: "decimal", autocomplete: "off", required: true }, `As on a price tag: 185, 185.00 or ${display(125050, currency)}.`),
    field("f-quantity", "Quantity", { inputmode: "numeric", value: "1", autocomplete: "off" }),
    choose,
    h("div", { class: "check" }, h("input", { type: "checkbox", id: "f-approval", name: "approval" }), h("label", { for: "f-approval" }, "Needs customer approval")),
    formError(),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Add"), back(job)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(app, form, () => {
      const name = value(form, "name").trim();
      if (!name) throw new BadInput("Enter a name for the add-on.", "name");
      const price = moneyInput(form, "price", currency, "price");
      const chosen = form.querySelector("input[name=order]:checked");
      return app.device.addOn(job.id, {
        name,
        price,
        quantity: Number(checkQuantityField(form)),
        orderId: chosen ? chosen.value : null,
        needsApproval: form.querySelector("#f-approval").checked,
      });
    }, (row) => ({ to: toJob(job)(), say: `Add-on ${row.args.name} (${money(row.args.unitPriceMoney.amount * row.args.quantity, currency)}) queued.` }));
  });
  return [heading("Add add-on"), h("p", { class: "lead" }, job.title), form];
}

function checkQuantityField(form) {
  const text = value(form, "quantity").trim() || "1";
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 10000) throw new BadInput("Enter a quantity from 1 to 10,000.", "quantity");
  return text;
}

export function textScreen(app, job) {
  const currency = currencyOf(job);
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("p", {}, `The customer gets a link to pay what the job owes when they pay (now ${money(job.balance, currency)}).`),
    field("f-to", "Phone", { type: "tel", inputmode: "tel", autocomplete: "off", value: job.customerPhone || "" }, job.customerName ? `${job.customerName}'s number unless you change it.` : null),
    field("f-amount", "Amount (optional)", { inputmode: "decimal", autocomplete: "off" }, "Leave empty for the whole balance."),
    formError(),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Send text"), back(job)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(app, form, () => {
      const amount = value(form, "amount").trim() ? moneyInput(form, "amount", currency, "amount") : null;
      const to = value(form, "to").trim();
      if (!to && !job.customerPhone) throw new BadInput("Enter the customer's number.", "to");
      return app.device.textToPay(job.id, { amount, to: to && to !== job.customerPhone ? to : null });
    }, () => ({ to: toJob(job)(), say: "Text to pay queued." }));
  });
  return [heading("Text to pay"), h("p", { class: "lead" }, job.title), form];
}

export function paymentScreen(app, job) {
  const currency = currencyOf(job);
  const form = h(
    "form",
    { class: "card", novalidate: true },
    field("f-amount", "Amount", { inputmode: "decimal", autocomplete: "off", value: job.balance > 0 ? typed(job.balance, currency) : "" }, `The job owes ${money(job.balance, currency)}.`),
    h("fieldset", { class: "choice" }, h("legend", {}, "Method"),
      h("label", {}, h("input", { type: "radio", name: "method", value: "cash", checked: true }), " Cash"),
      h("label", {}, h("input", { type: "radio", name: "method", value: "check" }), " Check"),
      h("p", { class: "error", id: "f-method-error", hidden: true })),
    field("f-reference", "Check number (optional)", { autocomplete: "off", maxlength: "100" }),
    formError(),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Record"), back(job)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(app, form, () => {
      const amount = moneyInput(form, "amount", currency, "amount");
      const method = form.querySelector("input[name=method]:checked")?.value;
      return app.device.recordPayment(job.id, { amount, method, reference: value(form, "reference").trim() || null });
    }, (row) => ({ to: toJob(job)(), say: `${row.args.method === "cash" ? "Cash" : "Check"} ${money(row.args.amountMoney.amount, currency)} queued.` }));
  });
  return [heading("Record payment"), h("p", { class: "lead" }, job.title), form];
}

export function approvalScreen(app, job) {
  const waiting = pendingApprovals(job);
  const currency = currencyOf(job);
  if (!waiting.length) {
    return [heading("Ask for approval"), h("p", { class: "lead" }, job.title),
      h("p", { class: "card" }, "No line on this job waits for the customer's approval. Add an add-on with “Needs customer approval” ticked first."), back(job)];
  }
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("ul", { class: "plain" }, waiting.map(({ line }) => h("li", {}, `${line.name}: ${money(lineTotal(line), currency)}`))),
    field("f-to", "Phone", { type: "tel", inputmode: "tel", autocomplete: "off", value: job.customerPhone || "" }),
    formError(),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Send for approval"), back(job)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(app, form, () => {
      const to = value(form, "to").trim();
      return app.device.requestApproval(job.id, { to: to && to !== job.customerPhone ? to : null });
    }, () => ({ to: toJob(job)(), say: "Approval request queued." }));
  });
  return [heading("Ask for approval"), h("p", { class: "lead" }, `The customer gets a text with the lines, the job's new total and a link to approve.`), form];
}

export function approveScreen(app, job, orderId) {
  const order = job.orders.find((o) => o.id === orderId);
  const lines = order ? order.lines.filter((l) => l.approval === "pending") : [];
  if (!order || order.pendingOrder || !lines.length) {
    return [heading("Approve in person"), h("p", { class: "card" }, "Nothing on that order waits for approval."), back(job)];
  }
  const currency = order.currency;
  const sum = lines.reduce((s, l) => s + lineTotal(l), 0);
  const fingerprint = h("span", { id: "content-hash" }, "…");
  contentHash(approvalWire(order, lines)).then((hash) => { fingerprint.textContent = hash.slice(0, 12); });
  const form = h(
    "form",
    { class: "card", novalidate: true },
    h("table", { class: "lines" }, h("caption", { class: "sr-only" }, "Lines to approve"),
      h("tbody", {}, lines.map((l) => h("tr", {}, h("th", { scope: "row" }, l.name, l.quantity > 1 ? h("span", { class: "sub" }, `${l.quantity} × ${money(l.unitAmount, currency)}`) : null), h("td", { class: "num" }, money(lineTotal(l), currency))))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total of these lines"), h("td", { class: "num", id: "approve-total" }, money(sum, currency))),
        h("tr", {}, h("th", { scope: "row" }, "The job's total after"), h("td", { class: "num" }, money(job.total + sum, currency))))),
    field("f-signerName", "Customer's name", { autocomplete: "off", maxlength: "200" }, "The customer types their name to approve these lines."),
    h("p", { class: "hint" }, "Fingerprint of what is approved: ", fingerprint),
    formError(),
    h("div", { class: "row" }, h("button", { type: "submit", class: "primary" }, "Record approval"), back(job)),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    act(app, form, () => app.device.recordApproval(job.id, order.id, value(form, "signerName").trim()),
      (row) => ({ to: toJob(job)(), say: `Approval by ${row.args.signerName} queued.` }));
  });
  return [heading("Approve in person"), h("p", { class: "lead" }, job.title), form];
}

export function signOutScreen(app) {
  const waiting = app.state.outbox.filter((r) => r.state === "pending").length;
  const sure = h("button", { type: "button", class: waiting ? "danger" : "primary", onclick: () => app.signOut() }, waiting ? "Sign out and delete them" : "Sign out");
  return [
    heading("Sign out"),
    h("p", { class: "card" }, waiting
      ? `${waiting} change${waiting === 1 ? " has" : "s have"} not reached the server yet. Signing out deletes ${waiting === 1 ? "it" : "them"} from this phone for good. Sync first if you can.`
      : "This phone forgets its token and your jobs. You can enrol it again with a new token from the office."),
    h("div", { class: "row" }, sure, h("a", { class: "button quiet", href: "#/jobs" }, "Cancel")),
  ];
}

export function missingScreen() {
  return [heading("Not on this phone"), h("p", { class: "card" }, "That job is not on this phone any more: it may have been moved to someone else."), h("a", { class: "button", href: "#/jobs" }, "My jobs")];
}
