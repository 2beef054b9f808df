// The installable app in the page: registers the service worker (/sw.js),
// offers a waiting update and the browser's install prompt, and saves a
// read-only snapshot of the dashboard for the offline page.
//
// The update notice (#pwa-update) and the install button (#pwa-install)
// are rendered, hidden, by the Leptos layout, which also holds their
// texts; this script only toggles their `hidden` attribute and never adds
// nodes to the app, so hydration sees exactly what the server sent.
"use strict";
(() => {
  if (!("serviceWorker" in navigator)) return;

  const SNAPSHOT = "leitstand-snapshot";
  const SNAPSHOT_KEY = "/offline/snapshot";
  let waiting = null; // a new worker waiting to take over
  let installPrompt = null; // the deferred beforeinstallprompt event
  let reloading = false;

  function sync() {
    const update = document.getElementById("pwa-update");
    if (update) update.hidden = !waiting;
    const install = document.getElementById("pwa-install");
    if (install) install.hidden = !installPrompt;
  }

  function offer(worker) {
    waiting = worker;
    sync();
  }

  // The worker precaches the whole front end (the WebAssembly and every
  // page's code). Registered at once, those downloads would compete with the
  // page's own first load, and a worker that took control early would answer
  // the page's requests from them. So it is registered once the page is
  // interactive (the body gets `data-hydrated`), or ten seconds after the
  // load event if it never gets there.
  function whenInteractive() {
    return new Promise((resolve) => {
      const hydrated = () => document.body !== null && document.body.hasAttribute("data-hydrated");
      if (hydrated()) {
        resolve();
        return;
      }
      let timer = null;
      const done = () => {
        observer.disconnect();
        clearTimeout(timer);
        window.removeEventListener("load", later);
        resolve();
      };
      const observer = new MutationObserver(() => {
        if (hydrated()) done();
      });
      observer.observe(document.documentElement, { attributes: true, attributeFilter: ["data-hydrated"], subtree: true });
      function later() {
        timer = setTimeout(done, 10000);
      }
      if (document.readyState === "complete") later();
      else window.addEventListener("load", later, { once: true });
    });
  }

  whenInteractive()
    .then(() => navigator.serviceWorker.register("/sw.js", { scope: "/" }))
    .then((registration) => {
      // A worker already waiting from an earlier visit.
      if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
      registration.addEventListener("updatefound", () => {
        const worker = registration.installing;
        if (!worker) return;
        worker.addEventListener("statechange", () => {
          // With no controller this is the first install, not an update.
          if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
        });
      });
    })
    .catch((err) => console.warn("service worker not registered:", err));

  // Reload once, and only when the user asked for the update (the first
  // install also changes the controller).
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (!waiting || reloading) return;
    reloading = true;
    window.location.reload();
  });

  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    installPrompt = event;
    sync();
  });
  window.addEventListener("appinstalled", () => {
    installPrompt = null;
    sync();
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("#pwa-update") && waiting) {
      event.preventDefault();
      waiting.postMessage({ type: "skipWaiting" });
    } else if (target.closest("#pwa-install") && installPrompt) {
      event.preventDefault();
      const prompt = installPrompt;
      installPrompt = null;
      sync();
      Promise.resolve(prompt.prompt()).catch(() => {});
    }
  });

  // The dashboard snapshot: the rendered main content once its figures are
  // there, again at most every 15 s while it refreshes, without controls.
  let lastSaved = 0;
  let timer = null;

  function dashboardReady(main) {
    return main.querySelector('[data-testid="generated-at"]') && !main.querySelector(".skeleton");
  }

  function saveSnapshot() {
    timer = null;
    const main = document.getElementById("main");
    if (window.location.pathname !== "/" || !main || !dashboardReady(main)) return;
    const copy = main.cloneNode(true);
    // Controls (with their labels), tooltips and the live feed mean nothing
    // in a saved copy.
    copy.querySelectorAll("input, select, textarea").forEach((el) => (el.closest("label") || el).remove());
    copy
      .querySelectorAll("script, template, form, button, dialog, [role=tooltip], .panel.live")
      .forEach((el) => el.remove());
    const generated = main.querySelector('[data-testid="generated-at"]');
    const snapshot = {
      html: copy.innerHTML,
      asOf: (generated && generated.getAttribute("datetime")) || new Date().toISOString(),
      savedAt: new Date().toISOString(),
      lang: document.documentElement.lang || "en",
    };
    lastSaved = Date.now();
    caches
      .open(SNAPSHOT)
      .then((cache) =>
        cache.put(SNAPSHOT_KEY, new Response(JSON.stringify(snapshot), { headers: { "Content-Type": "application/json" } })),
      )
      .catch(() => {});
  }

  function scheduleSnapshot() {
    if (timer || window.location.pathname !== "/" || !("caches" in window)) return;
    timer = setTimeout(saveSnapshot, Math.max(1000, lastSaved + 15000 - Date.now()));
  }

  // The layout re-renders its frame (signing in, leaving /login): keep the
  // notice and the button as they should be. The dashboard refreshes:
  // save it again.
  new MutationObserver(() => {
    sync();
    scheduleSnapshot();
  }).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
  scheduleSnapshot();
})();
