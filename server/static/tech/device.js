// What each action on the phone queues, after checking it against the protocol's bounds and
// what the phone knows (sync/device.py and sync/checks.py on the reference device). Every
// action works with no network: it writes the mutation to the outbox and nothing more.

import { contentHash } from "./canonical.js";
import * as ledger from "./ledger.js";
import { display } from "./money.js";
import { baseOf, currencyOf, isDeposit, orderIn, owed, workOrders } from "./shown.js";

export const STATUS_ORDER = ["scheduled", "dispatched", "en_route", "on_site", "completed"];
export const DEVICE_STATUSES = ["en_route", "on_site", "completed"];
const MAX_NAME = 200;
const MAX_TEXT = 2000;
const MAX_REFERENCE = 100;
const MAX_QUANTITY = 10000;
const E164 = /^\+[1-9][0-9]{6,14}$/;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** Input refused before anything is queued; `field` names the form field it is about. */
export class BadInput extends Error {
  constructor(message, field = null) {
    super(message);
    this.field = field;
  }
}

export function checkName(value, what = "name", field = "name") {
  const text = String(value ?? "");
  if (!text.trim()) throw new BadInput(`Enter a ${what}.`, field);
  if (text.length > MAX_NAME) throw new BadInput(`Keep the ${what} under ${MAX_NAME} characters.`, field);
  if (CONTROL.test(text)) throw new BadInput(`The ${what} must be one line of plain text.`, field);
  return text;
}

export function checkText(value, what, field, limit = MAX_TEXT) {
  const text = String(value ?? "");
  if (!text.trim()) throw new BadInput(`Enter the ${what}.`, field);
  if (text.length > limit) throw new BadInput(`Keep the ${what} under ${limit} characters.`, field);
  if (CONTROL_BUT_LINES.test(text)) throw new BadInput(`The ${what} has characters that cannot be sent.`, field);
  return text;
}

export function checkQuantity(value) {
  const text = String(value ?? "").trim();
  if (!/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > MAX_QUANTITY) {
    throw new BadInput(`Enter a quantity from 1 to ${MAX_QUANTITY.toLocaleString("en-US")}.`, "quantity");
  }
  return Number(text);
}

export function checkPhone(value, field = "to") {
  const text = String(value ?? "").replace(/[\s().-]/g, "");
  if (!E164.test(text)) throw new BadInput("Enter the number with its country code, such as +15551234567.", field);
  return text;
}

/** An RFC 3339 UTC time with milliseconds, as sync/device.py's `now()`. */
export function now() {
  return new Date().toISOString();
}

export function uid() {
  return crypto.randomUUID();
}

export class Device {
  /** `store`: db.js's Store; `jobs()`: the shown jobs (shown.js) as of now. */
  constructor(store, jobs) {
    this.store = store;
    this.jobs = jobs;
  }

  job(jobId) {
    const found = this.jobs().find((j) => j.id === jobId);
    if (!found) throw new BadInput("That job is not on this phone any more.");
    return found;
  }

  queue(name, args) {
    return this.store.queue(() => ({ name, args }), now());
  }

  setStatus(jobId, status) {
    const job = this.job(jobId);
    if (!DEVICE_STATUSES.includes(status)) throw new BadInput("A phone sets en route, on site or completed.");
    const closed = job.status === "completed" && status !== "completed";
    if (!STATUS_ORDER.includes(job.status) || closed) throw new BadInput(`This job is ${job.status}; its status cannot change.`);
    if (STATUS_ORDER.indexOf(status) < STATUS_ORDER.indexOf(job.status)) {
      throw new BadInput("A job's status moves forward only.");
    }
    return this.queue("job.setStatus", { jobId: job.id, status });
  }

  addNote(jobId, text) {
    const job = this.job(jobId);
    return this.queue("job.addNote", { uid: uid(), jobId: job.id, text: checkText(text, "note", "text") });
  }

  /** The order an add-on goes on; null: by job, on the work order the server makes. */
  addOnOrder(job, orderId = null) {
    const takers = workOrders(job);
    if (orderId) {
      const order = orderIn(job, orderId);
      if (!order) throw new BadInput("That order is not on this job.", "order");
      if (isDeposit(order)) throw new BadInput("Deposit orders never take add-ons; choose another order.", "order");
      if (order.state !== "open") throw new BadInput(`That order is ${order.state}; add-ons go on an open order.`, "order");
      return order;
    }
    if (takers.length === 1) return takers[0];
    if (!takers.length) return null; // a job with only a deposit never stops the driveway (contract §7)
    throw new BadInput("This job has several open orders; choose which one the add-on goes on.", "order");
  }

  addOn(jobId, { name, price, quantity = 1, orderId = null, needsApproval = false }) {
    checkName(name);
    checkAmount(price, "price");
    const job = this.job(jobId);
    const order = this.addOnOrder(job, orderId);
    const currency = order ? order.currency : currencyOf(job);
    const line = ledger.lineAmount(quantity, price);
    const base = order ? baseOf(order) : 0;
    for (const [figure, what] of [
      [line, "The line"],
      [base + line, "The order's total"],
      [job.total + line, "The job's total"],
    ]) {
      if (figure > ledger.MAX_AMOUNT) throw new BadInput(`${what} would be ${display(figure, currency)}, more than Flint takes.`, "price");
    }
    const args = {
      ...(order ? { orderId: order.id } : { jobId: job.id }),
      uid: uid(),
      name,
      quantity,
      unitPriceMoney: { amount: price, currency },
      kind: "addon",
      ...(needsApproval ? { needsApproval: true } : {}),
    };
    return this.queue("order.addLineItem", args);
  }

  /** By default a link for the job's whole balance; `orderId` for one order's. */
  textToPay(jobId, { amount = null, to = null, orderId = null } = {}) {
    if (amount !== null) checkAmount(amount, "amount");
    const phone = to ? checkPhone(to) : null;
    const job = this.job(jobId);
    const order = this.collectedOrder(job, orderId);
    const due = order ? order.balance : job.balance;
    if (due <= 0) throw new BadInput("Nothing is owed on this job as this phone knows it; there is nothing to text for.");
    if (amount !== null) this.withinBalance(job, order, amount, "A text to pay");
    const currency = order ? order.currency : currencyOf(job);
    const args = {
      uid: uid(),
      ...(order ? { orderId: order.id } : { jobId: job.id }),
      ...(amount !== null ? { amountMoney: { amount, currency } } : {}),
      ...(phone ? { to: phone } : {}),
    };
    return this.queue("textToPay.request", args);
  }

  /** By default on the job, applied oldest order first as the server will; `orderId` for one order. */
  recordPayment(jobId, { amount, method, reference = null, orderId = null }) {
    checkAmount(amount, "amount");
    if (method !== "cash" && method !== "check") throw new BadInput("Choose cash or check.", "method");
    const ref = reference ? checkText(reference, "check number", "reference", MAX_REFERENCE) : null;
    const job = this.job(jobId);
    const order = this.collectedOrder(job, orderId);
    this.withinBalance(job, order, amount, method === "cash" ? "Cash" : "A check");
    const currency = order ? order.currency : currencyOf(job);
    const args = {
      uid: uid(),
      ...(order ? { orderId: order.id } : { jobId: job.id }),
      amountMoney: { amount, currency },
      method,
      ...(ref ? { reference: ref } : {}),
    };
    return this.queue("payment.recordOffline", args);
  }

  /** Text the customer a link to approve every line of the job that waits for approval. */
  requestApproval(jobId, { to = null } = {}) {
    const phone = to ? checkPhone(to) : null;
    const job = this.job(jobId);
    if (!pendingApprovals(job).length) throw new BadInput("No line on this job waits for the customer's approval.");
    return this.queue("approval.request", { uid: uid(), jobId: job.id, ...(phone ? { to: phone } : {}) });
  }

  /** The customer approves, in person, exactly the lines shown, under the name they typed. */
  async recordApproval(jobId, orderId, signerName) {
    const job = this.job(jobId);
    const order = orderIn(job, orderId);
    if (!order || order.pendingOrder) throw new BadInput("Sync first: the server has not made that order yet.");
    const lines = order.lines.filter((l) => l.approval === "pending");
    if (!lines.length) throw new BadInput("No line on that order waits for approval.");
    const signer = checkName(signerName, "customer's name", "signerName");
    const hash = await contentHash(approvalWire(order, lines));
    return this.queue("approval.record", {
      uid: uid(),
      orderId: order.id,
      lineUids: lines.map((l) => l.uid),
      signerName: signer,
      contentHash: hash,
    });
  }

  collectedOrder(job, orderId) {
    if (!orderId) return null;
    const order = orderIn(job, orderId);
    if (!order) throw new BadInput("That order is not on this job.", "order");
    if (order.state === "cancelled") throw new BadInput("That order is cancelled; nothing can be collected on it.", "order");
    return order;
  }

  withinBalance(job, order, amount, what) {
    const due = order ? owed(job, order) : job.balance;
    const currency = order ? order.currency : currencyOf(job);
    if (amount > due) {
      throw new BadInput(`${what} of ${display(amount, currency)} is more than ${order ? "the order" : "the job"} owes as this phone knows it (${display(due, currency)}).`, "amount");
    }
  }
}

function checkAmount(value, what) {
  if (!Number.isInteger(value) || value < 1 || value > ledger.MAX_AMOUNT) {
    throw new BadInput(`Enter a ${what} above zero.`, what);
  }
}

/** Every line of the job that waits for the customer's approval, with its order. */
export function pendingApprovals(job) {
  const found = [];
  for (const order of job.orders) for (const line of order.lines) if (line.approval === "pending") found.push({ order, line });
  return found;
}

/** The lines as the content hash takes them (contract §8). */
export function approvalWire(order, lines) {
  return lines.map((l) => ({
    uid: l.uid,
    name: l.name,
    quantity: l.quantity,
    unitPriceMoney: { amount: l.unitAmount, currency: order.currency },
  }));
}
