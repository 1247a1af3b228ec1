// Canonical JSON and content hashes (contract §8): what an approval taken in person records, so
// the server can tell that the customer approved exactly the lines it has. UTF-8 JSON with keys
// sorted, no whitespace, non-ASCII kept as is (Python's json.dumps(sort_keys=True,
// separators=(",", ":"), ensure_ascii=False)); the hash is its SHA-256 in hex.

function compare(a, b) {
  // Python sorts strings by code point; comparing code point by code point keeps astral
  // characters (two UTF-16 units in JS) in the same place.
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort(compare);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  if (typeof value === "number" && !Number.isInteger(value)) throw new TypeError("canonical JSON holds integers only");
  return JSON.stringify(value);
}

/** The lines a customer approves, as the hash takes them: `{uid, name, quantity, unitPriceMoney}` by uid. */
export function approvalLines(lines) {
  return lines
    .map((l) => ({ uid: l.uid, name: l.name, quantity: l.quantity, unitPriceMoney: l.unitPriceMoney }))
    .sort((a, b) => compare(a.uid, b.uid));
}

export async function sha256Hex(text) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The `contentHash` of an approval of these lines (contract §8). */
export function contentHash(lines) {
  return sha256Hex(canonicalJson(approvalLines(lines)));
}
