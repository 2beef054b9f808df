// The API documentation page: public, readable at desk and phone widths,
// styled by its own stylesheet under a CSP that runs no script.
import * as path from "node:path";
import { test, expect } from "./fixtures";

test.use({ role: "none" });

async function shot(page: import("@playwright/test").Page, name: string) {
  await page.screenshot({ path: path.resolve(__dirname, "../screenshots", `${name}.png`) });
}

test("the API docs show every group, an operation's scope, fields and example", async ({ page }) => {
  for (const [width, height, suffix] of [
    [1280, 900, "1280"],
    [390, 844, "390"],
  ] as const) {
    await page.setViewportSize({ width, height });
    const res = await page.goto("/api/docs");
    expect(res?.status()).toBe(200);
    expect(res?.headers()["content-security-policy"]).toContain("default-src 'none'");
    await expect(page.getByRole("heading", { level: 1, name: /Leitstand API/ })).toBeVisible();
    for (const group of ["Events", "Dashboard", "Error groups", "Services and probes", "Alerts", "Backups", "Sentry", "Operations"]) {
      await expect(page.getByRole("heading", { level: 2, name: group, exact: true })).toBeVisible();
    }
    // The stylesheet applied: the method badges are coloured blocks.
    const badge = page.locator("#op-send_events .method").first();
    await expect(badge).toHaveText("POST");
    expect(await badge.evaluate((el) => getComputedStyle(el).display)).toBe("inline-block");
    await shot(page, `api-docs-top-${suffix}`);

    await page.getByRole("link", { name: "POST /api/v1/events" }).first().click();
    const op = page.locator("#op-send_events");
    await expect(op.getByText("Scope:")).toBeVisible();
    await expect(op.getByRole("cell", { name: /^service\s*required$/ })).toBeVisible();
    await expect(op.locator("pre.example").first()).toContainText("voucher.booked");
    await shot(page, `api-docs-ingest-${suffix}`);

    await page.locator("#schema-Dashboard").scrollIntoViewIfNeeded();
    await shot(page, `api-docs-schema-${suffix}`);
  }
});
