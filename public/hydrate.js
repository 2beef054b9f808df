// Starts the WebAssembly and hydrates the server-rendered page.
//
// A module script runs once the document is parsed, and the bundle is
// requested only then: the first paint never waits on it or shares the
// bandwidth with it (there is deliberately no preload hint for it in the
// page's head). The page is usable before: it is rendered whole on the
// server, and its links work without the WebAssembly.
import("/pkg/leitstand.js").then((bundle) =>
  bundle.default({ module_or_path: "/pkg/leitstand.wasm" }).then(() => bundle.hydrate()),
);
