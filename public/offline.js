// The offline page: shows the last dashboard snapshot saved by pwa.js,
// read-only, with the time its figures were from.
"use strict";
(() => {
  const TEXTS = {
    de: {
      retry: "Erneut versuchen",
      asOf: ", Stand",
      readOnly: "Nur lesbar; die Zahlen können sich seitdem geändert haben.",
      none: ": Auf diesem Gerät ist noch kein Dashboard gespeichert.",
      home: "Leitstand Startseite",
    },
  };
  const cookie = (name) => {
    const hit = document.cookie.split("; ").find((c) => c.startsWith(name + "="));
    return hit ? decodeURIComponent(hit.slice(name.length + 1)) : "";
  };
  // The theme the pages use (cookie set by the theme switch; none: the system's).
  const theme = cookie("leitstand_theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
  // The language: the user's choice, else the browser's.
  const pick = (lang) => (String(lang || "").toLowerCase().startsWith("de") ? "de" : "en");
  const applyLanguage = (lang) => {
    document.documentElement.lang = lang;
    const texts = TEXTS[lang];
    if (!texts) return;
    document.querySelectorAll("[data-text]").forEach((el) => {
      const t = texts[el.dataset.text];
      if (t) el.textContent = t;
    });
    document.querySelectorAll("[data-label]").forEach((el) => {
      const t = texts[el.dataset.label];
      if (t) el.setAttribute("aria-label", t);
    });
  };
  let lang = pick(cookie("lang") || navigator.language);
  applyLanguage(lang);

  const retry = document.getElementById("offline-retry");
  // The service worker answers the address that could not be reached.
  if (retry && window.location.pathname !== "/offline.html") retry.href = window.location.href;

  if (!("caches" in window)) return;
  caches
    .match("/offline/snapshot", { cacheName: "leitstand-snapshot" })
    .then((res) => (res ? res.json() : null))
    .then((snapshot) => {
      if (!snapshot || typeof snapshot.html !== "string") return;
      // The snapshot is in the language it was saved in: say the rest in it too.
      if (!cookie("lang") && snapshot.lang) {
        lang = pick(snapshot.lang);
        applyLanguage(lang);
      }
      const asOf = new Date(snapshot.asOf);
      const time = document.getElementById("offline-time");
      time.dateTime = asOf.toISOString();
      time.textContent = asOf.toLocaleString(lang === "de" ? "de-DE" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
      document.getElementById("offline-as-of").hidden = false;
      document.getElementById("offline-none").hidden = true;
      document.getElementById("offline-snapshot").innerHTML = snapshot.html;
    })
    .catch(() => {});
})();
