// Makes the server-rendered page interactive: fetches the WebAssembly once
// the page has been painted, then hydrates it.
//
// The page is complete without this (links and plain forms work), so the
// downloads wait for the first paint instead of competing with the style
// sheet for it. Then the bundle and the chunks of the page's lazy route
// are requested together, so a lazy page is not a second round trip behind
// the bundle. The element's data attributes come from the server
// (app/src/components/boot.rs).
"use strict";

const boot = document.getElementById("leitstand-boot");
const { pkg, js, wasm, split, chunks } = boot ? boot.dataset : {};

function preloadModule(href) {
  const link = document.createElement("link");
  link.rel = "modulepreload";
  link.crossOrigin = "anonymous";
  link.href = href;
  document.head.appendChild(link);
}

// After the first contentful paint, as the browser reports it (the paint
// timing entry): the end of a frame on the main thread can come before its
// pixels are presented. A hidden tab paints nothing, and a browser without
// paint timing says nothing: those start at once, and every page after a
// second at the latest.
function afterPaint() {
  return new Promise((resolve) => {
    const painted = () => performance.getEntriesByName("first-contentful-paint").length > 0;
    const observable =
      "PerformanceObserver" in window && (PerformanceObserver.supportedEntryTypes || []).includes("paint");
    if (document.visibilityState === "hidden" || !observable || painted()) {
      resolve();
      return;
    }
    const observer = new PerformanceObserver(() => {
      if (painted()) {
        observer.disconnect();
        resolve();
      }
    });
    observer.observe({ type: "paint", buffered: true });
    setTimeout(() => {
      observer.disconnect();
      resolve();
    }, 1000);
  });
}

// The split loader requests a route's chunks with a plain `fetch` of each
// address when the route's code is needed, all in one task; starting a
// request costs the main thread a millisecond or two, and a lazy page
// needs twenty chunks or more, so that one task kept input waiting longer
// than anything else on the first load. Instead, this script starts the
// chunk requests itself, a few per task, and hands each one to the split
// loader: its `fetch` of exactly that address (no options) gets the
// request already under way, once. Every other request goes to the
// browser's `fetch` unchanged, and it is back in place once the last
// chunk has been handed over.
const PER_TASK = 4;
const started = new Map();
const browserFetch = window.fetch;

function handOver(input, init) {
  if (init === undefined && (typeof input === "string" || input instanceof URL)) {
    const href = new URL(input, location.href).href;
    const request = started.get(href);
    if (request) {
      started.delete(href);
      if (started.size === 0 && window.fetch === handOver) {
        window.fetch = browserFetch;
      }
      return request;
    }
  }
  return browserFetch.call(window, input, init);
}

function fetchChunks(names, done) {
  for (const chunk of names.slice(0, PER_TASK)) {
    const href = new URL(`${pkg}/${chunk}.wasm`, location.href).href;
    started.set(href, browserFetch.call(window, href));
  }
  if (names.length > PER_TASK) {
    setTimeout(() => fetchChunks(names.slice(PER_TASK), done), 0);
  } else {
    done();
  }
}

if (pkg && js && wasm) {
  afterPaint().then(() => {
    const module = fetch(`${pkg}/${wasm}.wasm`);
    const bundle = import(`${pkg}/${js}.js`);
    // Hydration waits until every chunk's request has started, so that the
    // split loader's requests for them are always handed one.
    const pageChunks = (chunks || "").split(" ").filter(Boolean);
    const requested = new Promise((resolve) => {
      if (pageChunks.length === 0) {
        resolve();
      } else {
        preloadModule(`${pkg}/${split}`);
        window.fetch = handOver;
        setTimeout(() => fetchChunks(pageChunks, resolve), 0);
      }
    });
    return bundle
      .then((b) => b.default({ module_or_path: module }).then(() => requested).then(() => b.hydrate()))
      .catch((error) => console.error("Leitstand could not start its WebAssembly", error));
  });
}
