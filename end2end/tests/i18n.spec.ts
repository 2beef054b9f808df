// German and English: the switch on every page keeps the URL, `<html lang>`
// follows it, and the German pages fit a phone (screenshots of each).
import { Page } from "@playwright/test";
import { test, expect, hydrated, screenshot } from "./fixtures";

/** Every page, with a heading it shows in each language. */
const PAGES: { path: string; name: string; de: string; en: string }[] = [
  { path: "/", name: "dashboard", de: "Übersicht", en: "Dashboard" },
  { path: "/services", name: "services", de: "Dienste", en: "Services" },
  { path: "/services/shop", name: "service", de: "Letzte 90 Tage", en: "Last 90 days" },
  { path: "/events?level=error", name: "events", de: "Ereignisse", en: "Events" },
  { path: "/errors", name: "errors", de: "Fehler", en: "Errors" },
  { path: "/errors/releases?service=shop", name: "releases", de: "Releases", en: "Releases" },
  { path: "/backups", name: "backups", de: "Sicherungen", en: "Backups" },
  { path: "/alerts", name: "alerts", de: "Alarme", en: "Alerts" },
  { path: "/settings", name: "settings-users", de: "Personen", en: "People" },
  { path: "/settings/keys", name: "settings-keys", de: "Schlüssel erstellen", en: "Create a key" },
  { path: "/settings/audit", name: "settings-audit", de: "Akteur", en: "Actor" },
  { path: "/settings/privacy", name: "settings-privacy", de: "Daten zu einem Benutzer", en: "Data about one user" },
  { path: "/settings/retention", name: "settings-retention", de: "Wie lange Daten aufbewahrt werden", en: "How long data is kept" },
];

/** The URL without its `lang` parameter (which the switch replaces when present). */
function withoutLang(url: string): string {
  const u = new URL(url);
  u.searchParams.delete("lang");
  return u.toString();
}

async function switchTo(page: Page, name: "Deutsch" | "English", lang: "de" | "en") {
  const before = page.url();
  await page.getByRole("link", { name, exact: true }).first().click();
  await expect(page.locator("html")).toHaveAttribute("lang", lang);
  await hydrated(page);
  expect(withoutLang(page.url()), "the switch keeps the page").toBe(withoutLang(before));
  if (!new URL(before).searchParams.has("lang")) expect(page.url()).toBe(before);
}

/** No sideways scrolling of the whole page (tables scroll inside their box). */
async function fitsWidth(page: Page, width: number) {
  const wide = await page.evaluate((w) => {
    const out: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      const r = el.getBoundingClientRect();
      if (r.right > w + 0.5 && r.width > 0) {
        const inScroller = el.closest(".table-wrap, .sidenav, .tabs, pre");
        if (!inScroller) out.push(`${el.tagName.toLowerCase()}.${(el as HTMLElement).className} → ${Math.round(r.right)}`);
      }
    }
    return { scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 8) };
  }, width);
  expect(wide.scrollWidth, `page width; too wide: ${wide.out.join(", ")}`).toBeLessThanOrEqual(width);
}

test("the switch changes every page between German and English and keeps its URL", async ({ page, server }) => {
  test.setTimeout(300_000);
  server.cli("demo", "--events", "2000", "--no-live");
  for (const p of PAGES) {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(p.path);
    await hydrated(page);
    await expect(page.locator("html")).toHaveAttribute("lang", "en");
    await expect(page.getByRole("main").getByText(p.en, { exact: true }).first()).toBeVisible();

    await switchTo(page, "Deutsch", "de");
    await expect(page.getByRole("main").getByText(p.de, { exact: true }).first()).toBeVisible();
    await screenshot(page, `de-${p.name}-desktop`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(200);
    await fitsWidth(page, 390);
    await screenshot(page, `de-${p.name}-phone`);

    await switchTo(page, "English", "en");
    await expect(page.getByRole("main").getByText(p.en, { exact: true }).first()).toBeVisible();
  }
});

test("numbers and dates follow the language", async ({ page, server }) => {
  server.cli("demo", "--events", "2000", "--no-live");
  await page.goto("/?range=30d&lang=de");
  await hydrated(page);
  const usage = (await page.getByTestId("kpi-usage-value").textContent()) ?? "";
  expect(usage).toMatch(/^\d{1,3}(\.\d{3})*$/);
  await expect(page.getByTestId("kpi-quality-value")).toHaveText(/^\d+,\d\s%$/);
  await page.goto("/?range=30d&lang=en");
  await hydrated(page);
  await expect(page.getByTestId("kpi-quality-value")).toHaveText(/^\d+\.\d%$/);
});

test.describe("before signing in", () => {
  test.use({ role: "none" });

  test("setup and sign-in speak German on ?lang=de, the browser's language, or the switch", async ({ page, server, browser, allowConsole }) => {
    // The wrong password is answered with a 401, which the browser logs.
    allowConsole.push(/status of 401/);
    await page.goto("/setup?lang=de");
    await expect(page.locator("html")).toHaveAttribute("lang", "de");
    await expect(page.getByRole("heading", { name: "Willkommen bei Leitstand" })).toBeVisible();
    await hydrated(page);
    await screenshot(page, "de-setup-desktop");
    await page.setViewportSize({ width: 390, height: 844 });
    await fitsWidth(page, 390);
    await screenshot(page, "de-setup-phone");
    await switchTo(page, "English", "en");
    await expect(page.getByRole("heading", { name: "Welcome to Leitstand" })).toBeVisible();

    server.addUser("ops@example.com", "admin");
    const german = await browser.newContext({ locale: "de-DE", viewport: { width: 390, height: 844 } });
    const dePage = await german.newPage();
    await dePage.goto(`${server.baseURL}/login`);
    await expect(dePage.locator("html")).toHaveAttribute("lang", "de");
    await expect(dePage.getByRole("heading", { name: "Bei Leitstand anmelden" })).toBeVisible();
    await hydrated(dePage);
    await fitsWidth(dePage, 390);
    await screenshot(dePage, "de-login-phone");
    await dePage.getByLabel("E-Mail").fill("ops@example.com");
    await dePage.getByLabel("Passwort").fill("not the password");
    await dePage.getByRole("button", { name: "Anmelden" }).click();
    await expect(dePage.getByRole("alert")).toHaveText("E-Mail oder Passwort ist falsch.");
    await german.close();
  });
});
