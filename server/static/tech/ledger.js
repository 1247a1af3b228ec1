// The one rule for what every order and every job owes (contract §3): a line-for-line port of
// sync/ledger.py, which the server and `flint device` use. The golden protocol fixtures
// (fixtures/protocol/) hold both devices to the same figures. Integers in minor units.
//
// A job's orders are its deposit orders (their paymentStage says `deposit`) and its work orders
// (every other order that is not cancelled). An order's base is what its client lines add up
// to; money held on deposit orders is applied to the work orders oldest first; a deposit order
// never asks more than the work still owes; the job's balance is what one payment collects now.

export const DEPOSIT_APPLIED = "deposit_applied";
export const DEPOSIT_REFUNDED = "deposit_refunded";
export const SYSTEM_KINDS = new Set([DEPOSIT_APPLIED, DEPOSIT_REFUNDED]); // lines Flint alone writes
const SUBTRACTING = new Set(["discount", DEPOSIT_APPLIED, DEPOSIT_REFUNDED]);
const COUNTING_APPROVALS = new Set(["none", "approved"]); // a pending or declined change is owed by nobody
export const MAX_AMOUNT = 999999999999;

export function lineAmount(quantity, unitAmount) {
  return quantity * unitAmount;
}

export function signedAmount(kind, amount) {
  return SUBTRACTING.has(kind) ? -amount : amount;
}

/** Whether a line is part of its order's base: a client line the customer owes. */
export function counts(kind, approval = "none") {
  return !SYSTEM_KINDS.has(kind) && COUNTING_APPROVALS.has(approval);
}

export function isDepositStage(paymentStage) {
  return typeof paymentStage === "string" && paymentStage.includes("deposit");
}

/** One order as the rule takes it; a job's orders come oldest (first made) first. */
export function orderMoney({ id, base, paid = 0, refunded = 0, pending = 0, deposit = false, cancelled = false }) {
  return { id, base, paid, refunded, pending, deposit, cancelled };
}

const held = (o) => o.paid + o.pending - o.refunded;
const isWork = (o) => !o.deposit && !o.cancelled;
const NOTHING = { applied: 0, refundedDeposit: 0, total: 0, balance: 0 };

/** Every figure of a job (or of an order on no job, alone) from its orders. */
export function figure(orders) {
  let left = 0;
  for (const o of orders) if (o.deposit && !o.cancelled) left += Math.max(0, held(o));
  const applied = new Map();
  for (const o of orders) {
    if (isWork(o)) {
      const take = Math.min(left, Math.max(0, o.base - held(o)));
      applied.set(o.id, take);
      left -= take;
    }
  }
  const found = new Map();
  let workOwes = 0;
  for (const o of orders) {
    if (isWork(o)) {
      const total = o.base - applied.get(o.id);
      const figures = { applied: applied.get(o.id), refundedDeposit: 0, total, balance: Math.max(0, total - held(o)) };
      found.set(o.id, figures);
      workOwes += figures.balance;
    }
  }
  const hasWork = applied.size > 0;
  let depositsAsk = 0;
  for (const o of orders) {
    if (o.cancelled) {
      found.set(o.id, NOTHING);
    } else if (o.deposit) {
      const asks = Math.max(0, o.base - o.paid - o.pending);
      depositsAsk += asks;
      const owes = hasWork ? Math.min(asks, workOwes) : asks;
      found.set(o.id, { applied: 0, refundedDeposit: o.refunded, total: o.base - o.refunded, balance: owes });
    }
  }
  const live = orders.filter((o) => !o.cancelled);
  const total = hasWork
    ? live.filter(isWork).reduce((sum, o) => sum + o.base, 0)
    : live.reduce((sum, o) => sum + found.get(o.id).total, 0);
  return {
    orders: found,
    total,
    paid: orders.reduce((sum, o) => sum + o.paid + o.pending, 0),
    refunded: orders.reduce((sum, o) => sum + o.refunded, 0),
    balance: hasWork ? workOwes : depositsAsk,
    unapplied: left,
    hasWork,
    of(id) {
      return found.get(id);
    },
  };
}

/**
 * Split `amount` (null: the job's balance) over the orders that owe, oldest first. Paying a
 * deposit order applies more deposit to the work after it, so each step works the figures out
 * again over what the earlier steps paid.
 */
export function allocate(orders, amount = null) {
  const current = orders.slice();
  const parts = [];
  let left = amount;
  for (let index = 0; index < current.length; index += 1) {
    if (left === 0) break;
    const order = current[index];
    const due = figure(current).of(order.id).balance;
    const take = left === null ? due : Math.min(left, due);
    if (take <= 0) continue;
    parts.push([order.id, take]);
    current[index] = { ...order, pending: order.pending + take };
    if (left !== null) left -= take;
  }
  return parts;
}

/** What the job owes now, as one payment would collect it. */
export function dueNow(orders) {
  return figure(orders).balance;
}
