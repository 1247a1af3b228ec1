// The technician app's service worker (contract §9). The server writes VERSION (a digest of all
// the app's files) and FILES (their URLs) above this line, so any change to the app makes a new
// worker: it caches the new files, takes over, and drops the old cache.
//
// The app shell is served from the cache first, so the app opens with no network at all; the
// replica and the outbox live in IndexedDB, not here. Nothing else is touched: push and pull
// (POST) and every other URL go to the network as usual.

const CACHE = `flint-tech-${VERSION}`;
const PAGE = FILES[0];

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(FILES.map((url) => new Request(url, { cache: "reload" })));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("flint-tech-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const key = url.pathname === PAGE ? PAGE : FILES.includes(url.pathname) ? url.pathname : null;
  if (key === null) return;
  event.respondWith(
    (async () => {
      const kept = await (await caches.open(CACHE)).match(key);
      return kept || fetch(request);
    })(),
  );
});
