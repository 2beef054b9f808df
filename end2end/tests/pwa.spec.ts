// The installable app: manifest, service worker, offline snapshot, update
// notice and install button.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Page } from "@playwright/test";
import { test, expect, hydrated, screenshot, createKey, ingest } from "./fixtures";

const siteRoot = process.env.LEITSTAND_SITE_ROOT ?? path.resolve(__dirname, "../../target/site");

/** Waits until the service worker controls the page (the first visit installs it). */
async function controlled(page: Page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
}

/** Every cache of the origin with the paths it holds. */
async function cacheContents(page: Page): Promise<Record<string, string[]>> {
  return page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map((r) => new URL(r.url).pathname);
    }
    return out;
  });
}

async function hasSnapshot(page: Page): Promise<boolean> {
  return page.evaluate(async () => !!(await caches.match("/offline/snapshot", { cacheName: "leitstand-snapshot" })));
}

/** Width and height from a PNG's header. */
function pngSize(bytes: Buffer): [number, number] {
  expect(bytes.subarray(1, 4).toString("latin1")).toBe("PNG");
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

test("every page links a valid manifest whose icons are PNGs of their stated sizes", async ({ page }) => {
  for (const url of ["/", "/events", "/login"]) {
    await page.goto(url);
    await expect(page.locator('link[rel="manifest"]')).toHaveAttribute("href", "/manifest.webmanifest");
    await expect(page.locator('meta[name="viewport"]')).toHaveAttribute("content", /viewport-fit=cover/);
  }

  const res = await page.request.get("/manifest.webmanifest");
  expect(res.status()).toBe(200);
  expect(res.headers()["content-type"]).toBe("application/manifest+json");
  const manifest = await res.json();
  expect(manifest).toMatchObject({
    name: "Leitstand",
    short_name: "Leitstand",
    start_url: "/",
    display: "standalone",
    theme_color: expect.stringMatching(/^#[0-9a-f]{6}$/),
    background_color: expect.stringMatching(/^#[0-9a-f]{6}$/),
  });
  expect(manifest.shortcuts.map((s: { name: string; url: string }) => [s.name, s.url])).toEqual([
    ["Dashboard", "/"],
    ["Events", "/events"],
    ["Backups", "/backups"],
  ]);
  const icons: { src: string; sizes: string; type: string; purpose: string }[] = manifest.icons;
  for (const [size, purpose] of [
    ["192x192", "any"],
    ["512x512", "any"],
    ["192x192", "maskable"],
    ["512x512", "maskable"],
  ]) {
    expect(icons.some((i) => i.sizes === size && i.purpose === purpose && i.type === "image/png")).toBe(true);
  }
  for (const icon of icons) {
    const file = await page.request.get(icon.src);
    expect(file.status(), icon.src).toBe(200);
    expect(file.headers()["content-type"], icon.src).toBe("image/png");
    const [w, h] = pngSize(await file.body());
    expect(`${w}x${h}`, icon.src).toBe(icon.sizes);
  }
});

test("the service worker is registered once the page is interactive, and the first load's WebAssembly comes from the network", async ({ page }) => {
  // Whether the page had hydrated when it registered the worker, noted by
  // wrapping `register` before any of the page's scripts run.
  await page.addInitScript(() => {
    const noted = window as unknown as { registeredHydrated?: boolean[] };
    const container = navigator.serviceWorker;
    const register = container.register.bind(container);
    container.register = (url: string | URL, options?: RegistrationOptions) => {
      noted.registeredHydrated = [...(noted.registeredHydrated ?? []), document.body !== null && document.body.hasAttribute("data-hydrated")];
      return register(url, options);
    };
  });
  const wasm = page.waitForResponse((r) => new URL(r.url()).pathname === "/pkg/leitstand.wasm");
  await page.goto("/");
  const response = await wasm;
  expect(response.fromServiceWorker()).toBe(false);
  await hydrated(page);
  await controlled(page);
  expect(await page.evaluate(() => (window as unknown as { registeredHydrated?: boolean[] }).registeredHydrated)).toEqual([true]);
});

test("the service worker controls the page and keeps the shell, never API or server-function answers", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, Array.from({ length: 3 }, () => ({ service: "shop", type: "order.placed" })));

  await page.goto("/");
  await hydrated(page);
  await controlled(page);
  // Traffic through the worker: a page load, a server function, the REST API.
  await page.reload();
  await hydrated(page);
  await page.getByRole("button", { name: "Refresh now" }).click();
  const api = await page.evaluate(
    async (k) => (await fetch("/api/v1/dashboard", { headers: { Authorization: `Bearer ${k}` } })).status,
    key,
  );
  expect(api).toBe(200);
  await page.goto("/settings/keys");
  await hydrated(page);

  const contents = await cacheContents(page);
  const shells = Object.keys(contents).filter((n) => n.startsWith("leitstand-shell-"));
  expect(shells).toHaveLength(1);
  expect(shells[0]).toMatch(/^leitstand-shell-[0-9a-f]{16}$/);
  for (const needed of ["/pkg/leitstand.css", "/pkg/leitstand.js", "/pkg/leitstand.wasm", "/offline.html", "/offline.js", "/pwa.js", "/boot.js", "/icons/icon-512.png"]) {
    expect(contents[shells[0]]).toContain(needed);
  }
  const everything = Object.values(contents).flat();
  const forbidden = everything.filter((p) => /^\/(api|rpc|live|settings|export)(\/|$)|^\/metrics/.test(p) || p === "/");
  expect(forbidden).toEqual([]);
});

test("offline, a page shows the last dashboard snapshot marked with its time; signing out removes it", async ({ page, server, context, allowConsole }) => {
  // Going offline ends the live stream's connection.
  allowConsole.push(/ERR_INTERNET_DISCONNECTED|ERR_NETWORK_CHANGED|net::ERR_/);
  const key = createKey(server);
  await ingest(server, key, Array.from({ length: 5 }, () => ({ service: "shop", feature: "checkout", type: "order.placed" })));

  await page.goto("/?range=30d");
  await hydrated(page);
  await controlled(page);
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("5");
  await expect.poll(() => hasSnapshot(page), { timeout: 20_000 }).toBe(true);

  await context.setOffline(true);
  await page.goto("/events");
  const banner = page.getByTestId("offline-banner");
  await expect(banner).toContainText(/offline, as of/i);
  const snapshot = page.getByTestId("offline-snapshot");
  await expect(snapshot.getByTestId("kpi-usage-value")).toHaveText("5");
  await expect(snapshot.locator("button, form, input, select")).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Retry" })).toHaveAttribute("href", /\/events$/);
  for (const [label, viewport] of [
    ["desktop", { width: 1280, height: 800 }],
    ["phone", { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await screenshot(page, `pwa-offline-${label}`);
  }

  // The offline page speaks the chosen language and wears the chosen theme.
  const host = new URL(page.url()).hostname;
  const prefs = (lang: string, theme: string) =>
    context.addCookies([
      { name: "lang", value: lang, domain: host, path: "/" },
      { name: "leitstand_theme", value: theme, domain: host, path: "/" },
    ]);
  await prefs("de", "dark");
  await page.reload();
  await expect(banner).toContainText(/offline, stand/i);
  await expect(banner).toContainText(/nur lesbar/i);
  await expect(page.locator("html")).toHaveAttribute("lang", "de");
  await expect(page.locator("html")).toHaveAttribute("data-theme", "dark");
  await expect(page.getByRole("link", { name: "Erneut versuchen" })).toBeVisible();
  await screenshot(page, "pwa-offline-de-dark-phone");
  await prefs("en", "system");
  await page.reload();
  await expect(banner).toContainText(/offline, as of/i);
  await expect(page.locator("html")).not.toHaveAttribute("data-theme", /.+/);

  await context.setOffline(false);
  await page.getByRole("link", { name: "Retry" }).click();
  await expect(page).toHaveURL(/\/events$/);
  await hydrated(page);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect.poll(() => hasSnapshot(page)).toBe(false);
});

test("the install button appears only when the browser offers installing, and asks it", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const install = page.getByRole("button", { name: "Install app" });
  await expect(install).toBeHidden();

  // What Chromium fires when the app is installable.
  await page.evaluate(() => {
    const event = new Event("beforeinstallprompt", { cancelable: true });
    Object.assign(event, {
      prompt: () => {
        (window as unknown as { prompted: boolean }).prompted = true;
        return Promise.resolve();
      },
      userChoice: Promise.resolve({ outcome: "dismissed" }),
    });
    window.dispatchEvent(event);
  });
  await expect(install).toBeVisible();
  for (const [label, viewport] of [
    ["desktop", { width: 1280, height: 800 }],
    ["phone", { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await screenshot(page, `pwa-install-${label}`);
  }
  await install.click();
  expect(await page.evaluate(() => (window as unknown as { prompted?: boolean }).prompted)).toBe(true);
  await expect(install).toBeHidden();
});

test.describe("a new build", () => {
  // A copy of the site, so the test can change a file the way a new build would.
  const site = fs.mkdtempSync(path.join(os.tmpdir(), "leitstand-site-"));
  test.use({ serverEnv: { LEITSTAND_SITE_ROOT: site } });
  test.beforeAll(() => fs.cpSync(siteRoot, site, { recursive: true }));
  test.afterAll(() => fs.rmSync(site, { recursive: true, force: true }));

  test("offers the waiting worker, and one click activates it and reloads once", async ({ page }) => {
    await page.goto("/");
    await hydrated(page);
    await controlled(page);
    const update = page.getByRole("button", { name: "Update available — reload" });
    await expect(update).toBeHidden();
    const oldShell = Object.keys(await cacheContents(page)).find((n) => n.startsWith("leitstand-shell-"));

    fs.appendFileSync(path.join(site, "sw.js"), "\n// the next build\n");
    await page.evaluate(async () => {
      const registration = await navigator.serviceWorker.getRegistration();
      await registration?.update();
    });
    await expect(update).toBeVisible({ timeout: 30_000 });
    for (const [label, viewport] of [
      ["desktop", { width: 1280, height: 800 }],
      ["phone", { width: 390, height: 844 }],
    ] as const) {
      await page.setViewportSize(viewport);
      await screenshot(page, `pwa-update-${label}`);
    }

    let loads = 0;
    page.on("load", () => loads++);
    await page.evaluate(() => ((window as unknown as { before: boolean }).before = true));
    await Promise.all([page.waitForEvent("load"), update.click()]);
    await hydrated(page);
    expect(await page.evaluate(() => (window as unknown as { before?: boolean }).before)).toBeUndefined();
    await expect(update).toBeHidden();
    await page.waitForTimeout(1500);
    expect(loads).toBe(1);

    const shells = Object.keys(await cacheContents(page)).filter((n) => n.startsWith("leitstand-shell-"));
    expect(shells).toHaveLength(1);
    expect(shells[0]).not.toBe(oldShell);
  });
});
