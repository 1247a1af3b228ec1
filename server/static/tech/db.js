// The phone's own storage (IndexedDB): the replica of the server's state in the technician's
// scope, the outbox of changes made here, and what the app needs to talk to its server. The
// counterpart of sync/replica.py.
//
// - `meta`: token, clientId, technicianId, cursor, nextMutationId (one record per key);
// - `outbox`: mutations numbered 1, 2, 3, ... per client id, each written with the next id in
//   one transaction, with strict durability: the screen says a change is queued only once the
//   transaction is complete, so it survives a reload, a closed tab or a killed browser;
// - `entities`: what pull delivered, by [entity, id].

export const NAME = "flint-tech";
const VERSION = 1;

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function finished(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error("the phone's storage refused the change"));
  });
}

export function open(name = NAME) {
  const request = indexedDB.open(name, VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore("meta");
    db.createObjectStore("outbox", { keyPath: "id" });
    db.createObjectStore("entities", { keyPath: ["entity", "id"] }).createIndex("entity", "entity");
  };
  return done(request).then((db) => new Store(db));
}

export class Damaged extends Error {}

export class Store {
  constructor(db) {
    this.db = db;
  }

  /** Run `body(stores)` in one transaction; resolves with its result once the transaction is complete. */
  async run(names, mode, body) {
    const tx = this.db.transaction(names, mode, mode === "readwrite" ? { durability: "strict" } : undefined);
    const ended = finished(tx);
    const stores = Object.fromEntries(names.map((n) => [n, tx.objectStore(n)]));
    let result;
    try {
      result = await body(stores);
    } catch (error) {
      try {
        tx.abort();
      } catch {
        // already finished
      }
      await ended.catch(() => {});
      throw error;
    }
    await ended;
    return result;
  }

  close() {
    this.db.close();
  }

  async meta() {
    return this.run(["meta"], "readonly", async ({ meta }) => {
      const [keys, values] = await Promise.all([done(meta.getAllKeys()), done(meta.getAll())]);
      return Object.fromEntries(keys.map((k, i) => [k, values[i]]));
    });
  }

  async outbox() {
    return this.run(["outbox"], "readonly", ({ outbox }) => done(outbox.getAll()));
  }

  async entities() {
    const rows = await this.run(["entities"], "readonly", ({ entities }) => done(entities.getAll()));
    const found = {};
    for (const row of rows) (found[row.entity] ||= []).push(row.data);
    return found;
  }

  /**
   * Number and store a mutation made here, in one transaction: `build(id)` makes `{name, args}`.
   * Resolves with the stored row once it is on disk.
   */
  async queue(build, clientAt) {
    return this.run(["meta", "outbox"], "readwrite", async ({ meta, outbox }) => {
      if (!(await done(meta.get("clientId")))) throw new Damaged("this phone is not enrolled");
      const next = (await done(meta.get("nextMutationId"))) || 1;
      if (!Number.isInteger(next) || next < 1 || (await done(outbox.get(next)))) {
        throw new Damaged(`this phone's outbox is damaged (mutation ${next} is taken); sign out and enrol again`);
      }
      const { name, args } = build(next);
      const row = { id: next, name, args, clientAt, state: "pending", code: null, detail: null };
      outbox.add(row);
      meta.put(next + 1, "nextMutationId");
      return row;
    });
  }

  /** The server answered for mutations: applied ones leave the outbox, rejected ones stay, with their reason. */
  async settle(results) {
    return this.run(["outbox"], "readwrite", async ({ outbox }) => {
      const rejected = [];
      for (const result of results) {
        const row = await done(outbox.get(result.id));
        if (!row || row.state !== "pending") continue;
        if (result.status === "applied") {
          outbox.delete(result.id);
        } else {
          outbox.put({ ...row, state: "rejected", code: result.code || "rejected", detail: result.detail || "" });
          rejected.push(result.id);
        }
      }
      return rejected;
    });
  }

  /** One pull page, in one transaction: the changes, the cursor, and what the server says it has. */
  async applyPage(page) {
    return this.run(["meta", "outbox", "entities"], "readwrite", async ({ meta, outbox, entities }) => {
      if (page.reset) entities.clear();
      for (const change of page.changes) {
        if (change.op === "put") entities.put({ entity: change.entity, id: change.id, data: change.data });
        else entities.delete([change.entity, change.id]);
      }
      meta.put(page.cursor, "cursor");
      if (page.technicianId) meta.put(page.technicianId, "technicianId");
      return settleUpTo(outbox, page.lastMutationId, page.rejections);
    });
  }

  /** Enrolling: the new client and its snapshot replace everything, in one transaction. */
  async adopt(token, clientId, pages) {
    return this.run(["meta", "outbox", "entities"], "readwrite", async ({ meta, outbox, entities }) => {
      meta.clear();
      outbox.clear();
      entities.clear();
      const last = pages[pages.length - 1];
      for (const [key, value] of Object.entries({
        token,
        clientId,
        technicianId: last.technicianId || null,
        cursor: last.cursor,
        nextMutationId: 1,
        enrolledAt: new Date().toISOString(),
      })) {
        meta.put(value, key);
      }
      for (const page of pages) {
        if (page.reset) entities.clear();
        for (const change of page.changes) {
          if (change.op === "put") entities.put({ entity: change.entity, id: change.id, data: change.data });
          else entities.delete([change.entity, change.id]);
        }
      }
    });
  }

  /** Clear a rejected mutation once the technician has read why. */
  async dismiss(id) {
    return this.run(["outbox"], "readwrite", async ({ outbox }) => {
      const row = await done(outbox.get(id));
      if (row && row.state === "rejected") outbox.delete(id);
    });
  }

  async remember(key, value) {
    return this.run(["meta"], "readwrite", async ({ meta }) => {
      meta.put(value, key);
    });
  }

  /** Sign out: the token, the replica and the outbox are forgotten. */
  async forget() {
    return this.run(["meta", "outbox", "entities"], "readwrite", async ({ meta, outbox, entities }) => {
      meta.clear();
      outbox.clear();
      entities.clear();
    });
  }
}

/** From a pull: the server has every mutation up to `last`; those it rejected say why. */
async function settleUpTo(outbox, last, rejections) {
  const why = new Map((rejections || []).map((r) => [r.mutationId, r]));
  const rows = await done(outbox.getAll());
  const newly = [];
  for (const row of rows) {
    if (row.id > last || row.state !== "pending") continue;
    const rejection = why.get(row.id);
    if (rejection) {
      outbox.put({ ...row, state: "rejected", code: rejection.code, detail: rejection.detail });
      newly.push(row.id);
    } else {
      outbox.delete(row.id);
    }
  }
  return newly;
}
