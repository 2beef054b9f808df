import AxeBuilder from "@axe-core/playwright";
import type { Page } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";

// Every page, with demo data, at desktop and phone width, in the light and
// the dark theme, in English (light) and German (dark): axe-core (WCAG 2.1
// A/AA rules) finds nothing serious or critical.

/** The light runs read English, the dark runs German. */
const inLanguage = (path: string, scheme: "light" | "dark") =>
  `${path}${path.includes("?") ? "&" : "?"}lang=${scheme === "dark" ? "de" : "en"}`;

const WIDTHS = [
  ["desktop", { width: 1280, height: 800 }],
  ["phone", { width: 390, height: 844 }],
] as const;

async function seriousViolations(page: Page) {
  const result = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
    .analyze();
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      rule: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(" ")} — ${n.failureSummary ?? ""}`),
    }));
}

test.describe("accessibility", () => {
  test.setTimeout(300_000);

  test("signed-in pages have no serious or critical axe violations", async ({ page, server }) => {
    server.cli("demo", "--no-live", "--events", "3000");
    const service = server.sql("select slug from services order by slug limit 1").trim();
    const eventId = server.sql("select id from events order by occurred_at desc limit 1").trim();
    const groupId = server.sql("select id from error_groups order by id limit 1").trim();
    const pages = [
      "/",
      "/services",
      `/services/${service}`,
      "/events",
      `/events/${eventId}`,
      "/errors",
      groupId ? `/errors/${groupId}` : "/errors",
      "/errors/releases",
      "/backups",
      "/alerts",
      "/settings",
      "/settings/keys",
      "/settings/audit",
      "/settings/privacy",
      "/settings/retention",
    ];
    const found: Record<string, unknown> = {};
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [width, viewport] of WIDTHS) {
        await page.setViewportSize(viewport);
        for (const path of pages) {
          await page.goto(inLanguage(path, scheme));
          await hydrated(page);
          const v = await seriousViolations(page);
          if (v.length) found[`${path} (${width}, ${scheme})`] = v;
        }
      }
    }
    expect(found).toEqual({});
  });

  test.describe("signed out", () => {
    test.use({ role: "none" });
    test("login, setup and the public status page have no serious or critical axe violations", async ({ page, server }) => {
      const found: Record<string, unknown> = {};
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const [width, viewport] of WIDTHS) {
          await page.setViewportSize(viewport);
          for (const path of ["/setup", "/status"]) {
            await page.goto(inLanguage(path, scheme));
            await hydrated(page);
            const v = await seriousViolations(page);
            if (v.length) found[`${path} (${width}, ${scheme})`] = v;
          }
        }
      }
      server.addUser("someone@example.com", "viewer");
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        for (const [width, viewport] of WIDTHS) {
          await page.setViewportSize(viewport);
          await page.goto(inLanguage("/login", scheme));
          await hydrated(page);
          const v = await seriousViolations(page);
          if (v.length) found[`/login (${width}, ${scheme})`] = v;
        }
      }
      expect(found).toEqual({});
    });
  });
});

test("the theme follows the system until one is chosen, and the choice survives a reload", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "light" });
  await page.goto("/");
  await hydrated(page);
  const html = page.locator("html");
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  await expect(html).not.toHaveAttribute("data-theme", /.*/);
  const light = await background();
  const switcher = page.getByTestId("theme-switch");
  await expect(switcher).toHaveAttribute("aria-label", /system/);
  await switcher.click();
  await expect(html).toHaveAttribute("data-theme", "light");
  await switcher.click();
  await expect(html).toHaveAttribute("data-theme", "dark");
  await expect(switcher).toHaveAttribute("aria-label", /dark/);
  expect(await background()).not.toBe(light);
  // Rendered dark by the server after a reload, before any script runs.
  await page.reload();
  await expect(html).toHaveAttribute("data-theme", "dark");
  await hydrated(page);
  const v = await seriousViolations(page);
  expect(v).toEqual([]);
  await switcher.click();
  await expect(html).not.toHaveAttribute("data-theme", /.*/);
  expect(await background()).toBe(light);
});
