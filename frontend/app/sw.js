// Service worker: keeps the app shell so the app opens without a network and
// shows the persisted data. Navigations go to the network first (so a new
// deployment replaces the old shell at once) and fall back to the last page
// the server sent; Trunk's hashed assets are immutable, so they are served
// from the cache first. The API is never cached here: the query cache and
// its persistence own that.
const CACHE = "app-shell-v1";
const SHELL = "/__app_shell";

// Pre-cache the shell at install: the page that registered this worker was
// loaded before it existed, so nothing it fetched went through it.
self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      // The signed-out page: the shell is shown to whoever is offline.
      const response = await fetch("/", { cache: "no-store", credentials: "omit" });
      const html = await response.clone().text();
      await cache.put(SHELL, response);
      const assets = [...html.matchAll(/(?:href|src)="(\/[^"]+\.(?:js|wasm|css))"/g)].map((m) => m[1]);
      await cache.addAll(assets);
      await self.skipWaiting();
    })(),
  );
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// The kept page, marked as this worker's offline copy: it was rendered for
// nobody in particular, so the app takes the viewer this browser last had.
async function offlineCopy(shell) {
  if (!shell) return Response.error();
  const html = (await shell.text()).replace("<head>", '<head><meta name="app-shell" content="offline">');
  return new Response(html, { status: shell.status, headers: shell.headers });
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;

  if (request.mode === "navigate") {
    event.respondWith(
      fetch(request)
        .then((response) => {
          // A signed-in viewer's page (`no-store`) is theirs alone: never
          // kept, so the next person on this browser is not shown it offline.
          const personal = /no-store/.test(response.headers.get("cache-control") || "");
          if ((response.ok || response.status === 404) && !personal) {
            const copy = response.clone();
            event.waitUntil(caches.open(CACHE).then((cache) => cache.put(SHELL, copy)));
          }
          return response;
        })
        .catch(() => caches.match(SHELL).then(offlineCopy)),
    );
    return;
  }

  event.respondWith(
    caches.match(request).then(
      (hit) =>
        hit ||
        fetch(request).then((response) => {
          if (response.ok) {
            const copy = response.clone();
            event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
          }
          return response;
        }),
    ),
  );
});
