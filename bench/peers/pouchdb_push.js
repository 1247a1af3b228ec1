// PouchDB replicating the documents Flint's push bench pushes (`order.addLineItem` mutations,
// one document each) from a local database to a CouchDB-compatible server on loopback HTTP
// (express-pouchdb over LevelDB), in batches of 500: what a device running PouchDB would do to
// sync, measured the way Flint's push is. Prints one JSON line: {"docs", "seconds", "rate"}.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const express = require("express");
const PouchDB = require("pouchdb-node");

function documents(count) {
  const docs = [];
  for (let n = 0; n < count; n++) {
    docs.push({
      _id: "m" + String(n + 1).padStart(8, "0"),
      name: "order.addLineItem",
      clientAt: "2026-05-01T09:00:00.000Z",
      args: {
        orderId: "ord_" + (n % 10),
        uid: "u" + n + "-" + Math.random().toString(36).slice(2),
        name: "Part " + (n + 1),
        quantity: 1,
        unitPriceMoney: { amount: 100 + (n % 50), currency: "USD" },
        kind: "addon",
      },
    });
  }
  return docs;
}

async function main() {
  const count = Number(process.argv[2] || 10000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flint-pouch-"));
  const Served = PouchDB.defaults({ prefix: dir + path.sep });
  const app = express();
  app.use("/", require("express-pouchdb")(Served, { mode: "minimumForPouchDB", inMemoryConfig: true, logPath: path.join(dir, "log.txt") }));
  const server = app.listen(0, "127.0.0.1");
  await new Promise((resolve) => server.on("listening", resolve));
  const source = new PouchDB(path.join(dir, "device"));
  const docs = documents(count);
  for (let n = 0; n < count; n += 500) {
    await source.bulkDocs(docs.slice(n, n + 500));
  }
  const target = new PouchDB("http://127.0.0.1:" + server.address().port + "/flint");
  await target.info();
  const started = process.hrtime.bigint();
  await source.replicate.to(target, { batch_size: 500 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const info = await target.info();
  if (info.doc_count !== count) throw new Error("replicated " + info.doc_count + " of " + count);
  console.log(JSON.stringify({ docs: count, seconds, rate: count / seconds }));
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
