// Leitstand's service worker.
//
// The server fills in BUILD (server/src/pwa.rs): the build's version, a
// hash of every file of the site, and the list of those files. A new build
// therefore means a byte-different script, which the browser installs
// beside the running one; the page offers "Update available" (pwa.js).
//
// What it keeps: the site's static files (the app shell), in a cache named
// after the version; old versions' caches are deleted on activation. Pages
// always come from the network; when it is unreachable, a navigation gets
// /offline.html, which shows the last dashboard snapshot (saved by pwa.js).
// Nothing else is ever stored: not the REST API, not server functions, not
// metrics, not pages (which may show keys or settings).
"use strict";

const BUILD = { version: "unbuilt", assets: [] };

const PREFIX = "leitstand-shell-";
const SHELL = PREFIX + BUILD.version;
const SNAPSHOT = "leitstand-snapshot";
const OFFLINE_PAGE = "/offline.html";
// Never answered from a cache, never stored: left to the browser entirely.
const PASS_THROUGH = ["/api/", "/rpc/", "/metrics", "/live/", "/healthz", "/readyz", "/export/"];
// Reaching these means nobody is signed in here any more: the dashboard
// snapshot goes too.
const SIGNED_OUT = ["/login", "/setup", "/rpc/logout"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(SHELL).then((cache) =>
      cache.addAll(BUILD.assets.map((path) => new Request(path, { cache: "reload" }))),
    ),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) =>
        Promise.all(
          names.filter((n) => n.startsWith(PREFIX) && n !== SHELL).map((n) => caches.delete(n)),
        ),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "skipWaiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (SIGNED_OUT.some((p) => url.pathname.startsWith(p))) {
    event.waitUntil(caches.delete(SNAPSHOT));
  }
  if (request.method !== "GET") return;
  if (PASS_THROUGH.some((p) => url.pathname.startsWith(p))) return;
  if (request.mode === "navigate") {
    event.respondWith(navigate(request));
  } else if (!url.search && BUILD.assets.includes(url.pathname)) {
    event.respondWith(fromShell(request));
  }
});

/** Network first; the offline page when the network is unreachable. */
async function navigate(request) {
  try {
    return await fetch(request);
  } catch (err) {
    const offline = await caches.match(OFFLINE_PAGE, { cacheName: SHELL });
    if (offline) return offline;
    throw err;
  }
}

/** A file of this build: from the cache, else from the network (not stored). */
async function fromShell(request) {
  const cached = await caches.match(request, { cacheName: SHELL });
  return cached || fetch(request);
}
