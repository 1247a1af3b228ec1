// The sync protocol (contract §7) as the phone speaks it: the same push and pull as
// sync/online.py. A sync pushes the outbox in batches of 500, then pulls until up to date;
// anything that fails throws and leaves the outbox as it was. Mutation ids count 1, 2, 3, ...
// per client id, and the server answers a repeated id with its first result, so pushing again
// after a lost answer, a reload or a closed tab never applies anything twice.
//
// The token goes only to this app's own server (the page's origin), in the Authorization
// header of push and pull; nothing else is ever sent it.

export const SCHEMA_VERSION = 1;
export const MAX_PUSH = 500;
export const PULL_LIMIT = 200;
const TIMEOUT_MS = 20000;

export class SyncError extends Error {}

/** No answer: no network, the server is down, it took too long. */
export class Unreachable extends SyncError {}

/** The server said no (401 token refused, 426 update required, ...). */
export class Refused extends SyncError {
  constructor(status, code, detail) {
    super(`The server refused (${status} ${code}): ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

export function newClientId() {
  return crypto.randomUUID();
}

/** Push and pull against `base` with `token`; `fetchImpl` lets tests stand in for the network. */
export function client(base, token, fetchImpl = (...args) => fetch(...args)) {
  async function post(path, body) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
    let response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify(body),
        cache: "no-store",
        credentials: "omit",
        signal: abort.signal,
      });
    } catch (error) {
      throw new Unreachable(abort.signal.aborted ? "The server did not answer in time." : "No connection to the server.");
    } finally {
      clearTimeout(timer);
    }
    if (response.status === 429 || response.status >= 500) {
      throw new Unreachable(`The server is busy or down (${response.status}); trying again soon.`);
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (response.status !== 200) {
      const problem = answer && typeof answer === "object" ? answer : {};
      throw new Refused(response.status, String(problem.code || "error"), String(problem.detail || response.statusText));
    }
    if (!answer || typeof answer !== "object") throw new Unreachable("The server's answer could not be read.");
    return answer;
  }

  return {
    push(clientId, mutations) {
      return post("/v1/sync/push", { clientId, schemaVersion: SCHEMA_VERSION, mutations });
    },
    pull(clientId, cursor) {
      return post("/v1/sync/pull", { clientId, schemaVersion: SCHEMA_VERSION, cursor, limit: PULL_LIMIT });
    },
  };
}

/** A mutation as the wire carries it: only the protocol's own fields. */
export function wire(row) {
  return { id: row.id, name: row.name, args: row.args, clientAt: row.clientAt };
}

/** One sync at a time across every tab (and the service worker) of this phone. */
export function exclusive(body) {
  if (globalThis.navigator && navigator.locks) return navigator.locks.request("flint-sync", body);
  return body();
}

/** Push everything pending (in batches), then pull until up to date. */
export async function sync(store, http) {
  return exclusive(async () => {
    const meta = await store.meta();
    if (!meta.clientId) throw new SyncError("This phone is not enrolled.");
    const report = { pushed: 0, applied: 0, rejected: [], changes: 0 };
    let lastFirst = null;
    for (;;) {
      const pending = (await store.outbox()).filter((r) => r.state === "pending").sort((a, b) => a.id - b.id);
      const batch = pending.slice(0, MAX_PUSH);
      if (!batch.length) break;
      if (batch[0].id === lastFirst) throw new SyncError(`The server did not answer for change ${lastFirst}; sync again.`);
      lastFirst = batch[0].id;
      let answer;
      try {
        answer = await http.push(meta.clientId, batch.map(wire));
      } catch (error) {
        if (error instanceof Refused && error.code === "mutation_gap") {
          throw new SyncError("The server has lost changes this phone already sent; ask the office to check.");
        }
        throw error;
      }
      report.rejected.push(...(await store.settle(answer.results || [])));
      report.pushed += batch.length;
      report.applied += (answer.results || []).filter((r) => r.status === "applied").length;
      if (answer.lastMutationId < batch[batch.length - 1].id) {
        throw new SyncError("The server stopped part way through the changes; sync again.");
      }
    }
    let cursor = meta.cursor ?? null;
    for (;;) {
      const page = await http.pull(meta.clientId, cursor);
      report.rejected.push(...(await store.applyPage(page)));
      report.changes += page.changes.length;
      cursor = page.cursor;
      if (!page.hasMore) return report;
    }
  });
}

/**
 * Enrol: pull the whole scope as a new client (its mutation ids count from 1), changing
 * nothing here until the server has taken the token; then adopt it in one transaction.
 */
export async function enrol(store, http, token) {
  const clientId = newClientId();
  const pages = [];
  let cursor = null;
  try {
    while (!pages.length || pages[pages.length - 1].hasMore) {
      const page = await http.pull(clientId, cursor);
      pages.push(page);
      cursor = page.cursor;
    }
  } catch (error) {
    if (error instanceof Refused && (error.status === 401 || error.status === 403)) {
      throw new Refused(error.status, error.code, "The server did not accept this token.");
    }
    throw error;
  }
  await exclusive(() => store.adopt(token, clientId, pages));
  return pages.reduce((sum, p) => sum + p.changes.length, 0);
}
