// The offline page: shows the last dashboard snapshot saved by pwa.js,
// read-only, with the time its figures were from.
"use strict";
(() => {
  const retry = document.getElementById("offline-retry");
  // The service worker answers the address that could not be reached.
  if (retry && window.location.pathname !== "/offline.html") retry.href = window.location.href;

  if (!("caches" in window)) return;
  caches
    .match("/offline/snapshot", { cacheName: "leitstand-snapshot" })
    .then((res) => (res ? res.json() : null))
    .then((snapshot) => {
      if (!snapshot || typeof snapshot.html !== "string") return;
      const asOf = new Date(snapshot.asOf);
      const time = document.getElementById("offline-time");
      time.dateTime = asOf.toISOString();
      time.textContent = asOf.toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
      document.getElementById("offline-as-of").hidden = false;
      document.getElementById("offline-none").hidden = true;
      document.getElementById("offline-snapshot").innerHTML = snapshot.html;
    })
    .catch(() => {});
})();
