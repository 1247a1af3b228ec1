// What the technician sees: the server's state as pull delivered it, with the changes still
// waiting in the outbox replayed on top, as the server will apply them. A port of
// sync/shown.py (the reference device); the figures come from ledger.js, the port of the one
// rule. An entity that does not read as what the server sends is left out, never fatal.

import * as ledger from "./ledger.js";
import { CURRENCIES, display } from "./money.js";

export const DEPOSIT_APPLIED_NAME = "Deposit applied";
export const DEPOSIT_REFUNDED_NAME = "Deposit refunded";
export const NEW_WORK_ORDER = "new work order"; // the id a work order the server will make is shown under

const isString = (v) => typeof v === "string";
const isInt = (v) => Number.isInteger(v);
const optional = (v, check) => v === undefined || v === null || check(v);
const money = (v) => v !== null && typeof v === "object" && isInt(v.amount) && CURRENCIES.has(v.currency);

// The parts of each entity the device reads; anything else in them is ignored.

function readLine(data) {
  if (!data || !isString(data.uid) || !isString(data.name) || !isInt(data.quantity)) return null;
  if (!money(data.unitPriceMoney) || !isString(data.kind)) return null;
  if (!optional(data.approval, isString)) return null;
  return data;
}

function readOrder(data) {
  if (!data || !isString(data.id) || !isString(data.state)) return null;
  if (!money(data.totalMoney) || !money(data.paidMoney) || !money(data.refundedMoney)) return null;
  if (!optional(data.lineItems, Array.isArray) || !optional(data.jobId, isString)) return null;
  if (!optional(data.createdAt, isString)) return null;
  if (!optional(data.metadata, (m) => typeof m === "object" && !Array.isArray(m))) return null;
  const lines = (data.lineItems || []).map(readLine);
  return lines.includes(null) ? null : { ...data, lineItems: lines };
}

function readJob(data) {
  if (!data || !isString(data.id) || !isString(data.title) || !isString(data.status)) return null;
  for (const key of ["customerId", "technicianId", "scheduledAt", "address", "createdAt"]) {
    if (!optional(data[key], isString)) return null;
  }
  return data;
}

function readCustomer(data) {
  if (!data || !isString(data.id) || !optional(data.name, isString) || !optional(data.phone, isString)) return null;
  return data;
}

function readNote(data) {
  if (!data || !isString(data.id) || !isString(data.jobId) || !isString(data.text)) return null;
  return optional(data.createdAt, isString) ? data : null;
}

function readPayment(data) {
  if (!data || !isString(data.id) || !isString(data.orderId) || !money(data.amountMoney)) return null;
  return isString(data.status) && isString(data.method) ? data : null;
}

function readLink(data) {
  return data && isString(data.id) && isString(data.status) && money(data.amountMoney) ? data : null;
}

function readText(data) {
  return data && isString(data.id) && isString(data.to) && isString(data.status) ? data : null;
}

function decoded(raws, read, skipped) {
  const found = [];
  for (const raw of raws || []) {
    const data = read(raw);
    if (data === null) skipped.count += 1;
    else found.push(data);
  }
  return found;
}

/** Python's tuple order, element by element; strings compared by code point. */
function byKeys(...keys) {
  return (a, b) => {
    for (const key of keys) {
      const x = key(a);
      const y = key(b);
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  };
}

// What is shown.

export function lineTotal(line) {
  return ledger.lineAmount(line.quantity, line.unitAmount);
}

function signed(line) {
  return ledger.signedAmount(line.kind, lineTotal(line));
}

export function isDeposit(order) {
  return ledger.isDepositStage(order.paymentStage);
}

export function baseOf(order) {
  return order.lines.reduce((sum, line) => (ledger.counts(line.kind, line.approval) ? sum + signed(line) : sum), 0);
}

/** A name a technician can tell orders apart by. */
export function labelOf(order) {
  if (order.paymentStage) return order.paymentStage;
  return order.lines.length ? order.lines[0].name : "";
}

/** The order's lines with Flint's own deposit lines, as worked out over what is shown. */
export function shownLines(order) {
  const system = [];
  if (order.applied) {
    system.push(line(order.appliedUid, DEPOSIT_APPLIED_NAME, 1, order.applied, ledger.DEPOSIT_APPLIED));
  }
  if (order.refundedDeposit) {
    system.push(line(null, DEPOSIT_REFUNDED_NAME, 1, order.refundedDeposit, ledger.DEPOSIT_REFUNDED));
  }
  return [...order.lines, ...system];
}

function line(uid, name, quantity, unitAmount, kind, pending = false, approval = "none") {
  return { uid, name, quantity, unitAmount, kind, pending, approval };
}

function orderMoney(order) {
  return ledger.orderMoney({
    id: order.id,
    base: baseOf(order),
    paid: order.paid + order.pendingPaid,
    refunded: order.refunded,
    deposit: isDeposit(order),
    cancelled: order.state === "cancelled",
  });
}

/** The orders as the ledger takes them, oldest (first created) first. */
export function moneyOf(job) {
  return job.orders.map(orderMoney);
}

export function currencyOf(job) {
  return job.orders.length ? job.orders[0].currency : "USD";
}

/** Open orders that take add-ons (deposit orders never do). */
export function workOrders(job) {
  return job.orders.filter((o) => o.state === "open" && !isDeposit(o));
}

export function orderIn(job, orderId) {
  return job.orders.find((o) => o.id === orderId) || null;
}

/** What a new payment may take on one order now. */
export function owed(job, order) {
  return ledger.figure(moneyOf(job)).of(order.id).balance;
}

/** Every figure from the one rule, as the server works it out. */
function figureJob(job) {
  const figures = ledger.figure(moneyOf(job));
  for (const order of job.orders) {
    const own = figures.of(order.id);
    order.applied = own.applied;
    order.refundedDeposit = own.refundedDeposit;
    order.total = own.total;
    order.balance = own.balance;
  }
  job.total = figures.total;
  job.paid = figures.paid;
  job.refunded = figures.refunded;
  job.balance = figures.balance;
  job.unapplied = figures.unapplied;
}

function toOrder(data) {
  const stage = (data.metadata || {}).paymentStage;
  const applied = data.lineItems.filter((l) => l.kind === ledger.DEPOSIT_APPLIED);
  return {
    id: data.id,
    state: data.state,
    currency: data.totalMoney.currency,
    lines: data.lineItems
      .filter((l) => !ledger.SYSTEM_KINDS.has(l.kind))
      .map((l) => line(l.uid, l.name, l.quantity, l.unitPriceMoney.amount, l.kind, false, l.approval || "none")),
    paid: data.paidMoney.amount,
    refunded: data.refundedMoney.amount,
    paymentStage: isString(stage) ? stage : null,
    createdAt: data.createdAt || "",
    pendingPaid: 0,
    appliedUid: applied.length === 1 ? applied[0].uid : null,
    pendingOrder: false,
    applied: 0,
    refundedDeposit: 0,
    total: 0,
    balance: 0,
  };
}

/**
 * Jobs from the stored entities (`{job: [...], customer: [...], ...}` as pull delivered them)
 * and the outbox rows (`{id, name, args, state}`); only pending rows are replayed.
 */
export function shownJobs(entities, outbox) {
  const skipped = { count: 0 };
  const customers = new Map(decoded(entities.customer, readCustomer, skipped).map((c) => [c.id, c]));
  const shown = new Map();
  const jobs = decoded(entities.job, readJob, skipped).sort(
    byKeys((j) => j.scheduledAt || "", (j) => j.createdAt || "", (j) => j.id),
  );
  for (const data of jobs) {
    const customer = customers.get(data.customerId || "");
    shown.set(data.id, {
      id: data.id,
      title: data.title,
      address: data.address || "",
      status: data.status,
      scheduledAt: data.scheduledAt || null,
      customerName: customer ? customer.name || "" : "",
      customerPhone: customer ? customer.phone || null : null,
      customerId: data.customerId || null,
      createdAt: data.createdAt || "",
      orders: [],
      notes: [],
      requests: [],
      pending: [],
      payments: [],
      texts: [],
      total: 0,
      paid: 0,
      refunded: 0,
      balance: 0,
      unapplied: 0,
    });
  }
  const orderJob = new Map();
  const orders = decoded(entities.order, readOrder, skipped).sort(byKeys((o) => o.createdAt || "", (o) => o.id));
  for (const data of orders) {
    const job = shown.get(data.jobId || "");
    if (job && !orderJob.has(data.id)) {
      job.orders.push(toOrder(data));
      orderJob.set(data.id, job.id);
    }
  }
  const notes = decoded(entities.note, readNote, skipped).sort(byKeys((n) => n.createdAt || "", (n) => n.id));
  for (const note of notes) {
    if (shown.has(note.jobId)) shown.get(note.jobId).notes.push({ text: note.text, pending: false });
  }
  for (const row of outbox || []) {
    if (row.state === "pending") replay(shown, orderJob, row);
  }
  for (const job of shown.values()) figureJob(job);
  attachMoneyTrail(shown, orderJob, entities, skipped);
  return { jobs: [...shown.values()], skipped: skipped.count };
}

/** Payments and texts beside each job, for the technician to see what happened (display only). */
function attachMoneyTrail(shown, orderJob, entities, skipped) {
  const jobOf = (jobId, orderId) => shown.get(jobId || orderJob.get(orderId || "") || "");
  const links = new Map();
  for (const link of decoded(entities.paymentLink, readLink, skipped)) links.set(link.id, link);
  const payments = decoded(entities.payment, readPayment, skipped).sort(byKeys((p) => p.createdAt || "", (p) => p.id));
  for (const payment of payments) jobOf(payment.jobId, payment.orderId)?.payments.push(payment);
  const texts = decoded(entities.sms, readText, skipped).sort(byKeys((t) => t.createdAt || "", (t) => t.id));
  for (const text of texts) {
    const link = links.get(text.paymentLinkId || "");
    const job = jobOf(text.jobId || (link && link.jobId), text.orderId || (link && link.orderId));
    job?.texts.push({ ...text, link: link || null });
  }
}

/** One pending mutation, as the server would apply it if it takes it. */
function replay(jobs, orderJob, row) {
  const args = row.args || {};
  const orderId = isString(args.orderId) ? args.orderId : null;
  let jobId = isString(args.jobId) ? args.jobId : null;
  if (jobId === null && orderId !== null && orderJob.has(orderId)) jobId = orderJob.get(orderId);
  const job = jobs.get(jobId || "");
  if (!job) return;
  let order = orderId !== null ? orderIn(job, orderId) : null;
  switch (row.name) {
    case "job.setStatus":
      job.status = args.status;
      job.pending.push(`Status: ${statusLabel(args.status)}`);
      break;
    case "job.addNote":
      job.notes.push({ text: args.text, pending: true });
      job.pending.push("Note");
      break;
    case "order.addLineItem": {
      if (ledger.SYSTEM_KINDS.has(args.kind) || !money(args.unitPriceMoney)) break;
      if (order === null && orderId === null) order = workOrderFor(job, args.unitPriceMoney.currency);
      if (order !== null && !isDeposit(order)) {
        const approval = args.needsApproval ? "pending" : "none";
        order.lines.push(line(args.uid, args.name, args.quantity, args.unitPriceMoney.amount, args.kind, true, approval));
        job.pending.push(`Add-on: ${args.name}`);
      }
      break;
    }
    case "order.removeLineItem":
      if (order !== null) {
        order.lines = order.lines.filter((l) => l.uid !== args.uid);
        job.pending.push("Line removed");
      }
      break;
    case "payment.recordOffline":
      replayPayment(job, order, args);
      break;
    case "textToPay.request":
      job.requests.push("Text to pay waiting to send");
      job.pending.push("Text to pay");
      break;
    case "approval.request":
      job.pending.push("Approval request");
      break;
    case "approval.record":
      if (order !== null) {
        const uids = new Set(args.lineUids || []);
        for (const l of order.lines) if (uids.has(l.uid) && l.approval === "pending") l.approval = "approved";
        job.pending.push(`Approved in person by ${args.signerName}`);
      }
      break;
    default:
      break;
  }
}

/**
 * Where an add-on by job goes: the job's one open work order, or a new one the server will
 * make (shown as such until it syncs); none when there are several (the server refuses it).
 */
function workOrderFor(job, currency) {
  const takers = workOrders(job);
  if (takers.length > 1) return null;
  if (takers.length) return takers[0];
  const made = toOrder({
    id: NEW_WORK_ORDER,
    state: "open",
    totalMoney: { amount: 0, currency },
    paidMoney: { amount: 0, currency },
    refundedMoney: { amount: 0, currency },
    lineItems: [],
    metadata: { paymentStage: "work" },
  });
  made.pendingOrder = true;
  job.orders.push(made);
  return made;
}

/**
 * Cash or a check, on one order or spread over the job's oldest first. More than is owed by
 * then is refused whole by the server, so it is not counted.
 */
function replayPayment(job, order, args) {
  if (!money(args.amountMoney)) return;
  const amount = args.amountMoney.amount;
  const what = `${args.method === "check" ? "Check" : "Cash"} ${display(amount, args.amountMoney.currency)}`;
  if (isString(args.jobId)) {
    const moneys = moneyOf(job);
    if (amount > ledger.dueNow(moneys)) {
      job.pending.push(`${what} (more than is owed now: the server will refuse it)`);
      return;
    }
    for (const [partId, part] of ledger.allocate(moneys, amount)) orderIn(job, partId).pendingPaid += part;
    job.pending.push(what);
  } else if (order !== null) {
    if (amount > owed(job, order)) {
      job.pending.push(`${what} (more than the order owes now: the server will refuse it)`);
      return;
    }
    order.pendingPaid += amount;
    job.pending.push(what);
  }
}

export const STATUS_LABELS = {
  scheduled: "Scheduled",
  dispatched: "Dispatched",
  en_route: "En route",
  on_site: "On site",
  completed: "Completed",
  cancelled: "Cancelled",
};

export function statusLabel(status) {
  return STATUS_LABELS[status] || String(status).replaceAll("_", " ");
}

/**
 * The figures of a job in one plain shape, the same that tests/protocol/figures.py makes from
 * the Python device: the golden fixtures hold both devices to it.
 */
export function figures(job) {
  return {
    id: job.id,
    title: job.title,
    status: job.status,
    currency: currencyOf(job),
    total: job.total,
    paid: job.paid,
    refunded: job.refunded,
    balance: job.balance,
    unapplied: job.unapplied,
    orders: job.orders.map((o) => ({
      id: o.id,
      state: o.state,
      paymentStage: o.paymentStage,
      total: o.total,
      paid: o.paid + o.pendingPaid,
      balance: o.balance,
      lines: shownLines(o).map((l) => [l.name, l.quantity, l.unitAmount, l.kind, l.pending]),
    })),
  };
}
