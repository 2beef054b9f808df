// Makes the server-rendered page interactive: fetches the WebAssembly once
// the page has been painted, then hydrates it.
//
// The page is complete without this (links and plain forms work), so the
// downloads wait for the first paint instead of competing with the style
// sheet for it. Then the bundle and the chunks of the page's lazy route
// are requested together (the chunks as preloads, which serve the split
// loader's own requests for them), so a lazy page is not a second round
// trip behind the bundle. The element's data attributes come from the
// server (app/src/components/boot.rs).
"use strict";

const boot = document.getElementById("leitstand-boot");
const { pkg, js, wasm, split, chunks } = boot ? boot.dataset : {};

function preload(href, as) {
  const link = document.createElement("link");
  if (as === "module") {
    link.rel = "modulepreload";
  } else {
    link.rel = "preload";
    link.as = as;
    link.type = "application/wasm";
  }
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

// Starting a request costs the main thread about a millisecond, and a lazy
// page may need fifty chunks: a few per task, so that none of them keeps
// input waiting.
const PER_TASK = 8;

function preloadChunks(names, done) {
  for (const chunk of names.slice(0, PER_TASK)) {
    preload(`${pkg}/${chunk}.wasm`, "fetch");
  }
  if (names.length > PER_TASK) {
    setTimeout(() => preloadChunks(names.slice(PER_TASK), done), 0);
  } else {
    done();
  }
}

if (pkg && js && wasm) {
  afterPaint().then(() => {
    const module = fetch(`${pkg}/${wasm}.wasm`);
    const bundle = import(`${pkg}/${js}.js`);
    // Hydration waits until every chunk has its preload, so that the split
    // loader's requests for them are always served by one.
    const pageChunks = (chunks || "").split(" ").filter(Boolean);
    const preloaded = new Promise((resolve) => {
      if (pageChunks.length === 0) {
        resolve();
      } else {
        preload(`${pkg}/${split}`, "module");
        setTimeout(() => preloadChunks(pageChunks, resolve), 0);
      }
    });
    return bundle
      .then((b) => b.default({ module_or_path: module }).then(() => preloaded).then(() => b.hydrate()))
      .catch((error) => console.error("Leitstand could not start its WebAssembly", error));
  });
}
