// Makes the server-rendered page interactive: fetches the WebAssembly once
// the page has been painted, then hydrates it.
//
// The page is complete without this (links and plain forms work), so the
// downloads wait for the first paint instead of competing with the style
// sheet for it. Then everything starts at once: the bundle, and the chunks
// of the page's lazy route as preloads (the split loader's own requests for
// them are served from the memory cache), so a lazy page is not a second
// round trip behind the bundle. The element's data attributes come from the
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

// After the next frame has been painted. A hidden tab paints nothing (and
// runs no animation frames), so it starts at once.
function afterPaint() {
  return new Promise((resolve) => {
    if (document.visibilityState === "hidden") {
      resolve();
    } else {
      requestAnimationFrame(() => setTimeout(resolve, 0));
    }
  });
}

if (pkg && js && wasm) {
  afterPaint().then(() => {
    const pageChunks = (chunks || "").split(" ").filter(Boolean);
    if (pageChunks.length > 0) {
      preload(`${pkg}/${split}`, "module");
      for (const chunk of pageChunks) {
        preload(`${pkg}/${chunk}.wasm`, "fetch");
      }
    }
    const module = fetch(`${pkg}/${wasm}.wasm`);
    return import(`${pkg}/${js}.js`)
      .then((bundle) => bundle.default({ module_or_path: module }).then(() => bundle.hydrate()))
      .catch((error) => console.error("Leitstand could not start its WebAssembly", error));
  });
}
