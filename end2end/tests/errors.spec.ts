import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test, expect, hydrated, screenshot, createKey, ingest } from "./fixtures";

const python = path.resolve(__dirname, "../.sdk-venv/bin/python");
const report = path.resolve(__dirname, "../sdk/report.py");

test("a real Sentry SDK reports to the DSN, and the group is found, read, resolved and reopened", async ({ page, server }) => {
  expect(fs.existsSync(python), "sentry-sdk virtualenv (scripts/ensure-tools.sh e2e)").toBe(true);
  // The service exists once it has sent anything.
  await ingest(server, createKey(server), [{ service: "shop", type: "deploy", level: "info", release: "shop@2.4.0" }]);

  // The DSN, as its page shows it.
  await page.goto("/services/shop");
  await hydrated(page);
  const dsn = (await page.getByTestId("dsn").innerText()).trim();
  expect(dsn).toMatch(/^http:\/\/[0-9a-f]{32}@127\.0\.0\.1:\d+\/\d+$/);
  await screenshot(page, "service-dsn-desktop");

  // The Python SDK, in its own process, with nothing changed but the DSN.
  execFileSync(python, [report, dsn], { stdio: "pipe", timeout: 30_000 });

  await page.goto("/errors");
  await hydrated(page);
  const row = page.getByTestId("group-row").filter({ hasText: "CheckoutError: could not check out the cart" });
  await expect(row).toBeVisible();
  await expect(row).toContainText("shop");
  // A warning message is an event, not an error group; transactions are skipped.
  await expect(page.getByTestId("groups-table")).not.toContainText("inventory sync took 41 s");
  await expect(page.getByTestId("group-row")).toHaveCount(1);
  await screenshot(page, "errors-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "errors-phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  // The detail: the chain, in-app frames open with their source, breadcrumbs, tags.
  await row.getByRole("link").click();
  await hydrated(page);
  await expect(page.getByTestId("group-title")).toHaveText("CheckoutError: could not check out the cart");
  const chain = page.getByTestId("exception-chain");
  await expect(chain).toContainText("KeyError");
  await expect(chain).toContainText("caused by");
  const lookup = chain.getByTestId("frame-in-app").filter({ hasText: /__main__ in lookup/ });
  await expect(lookup.locator("details")).toHaveAttribute("open", "");
  await expect(lookup).toContainText("return items[sku]");
  await expect(lookup).toContainText("db_password");
  await expect(lookup).toContainText("[Filtered]");
  await expect(page.locator("body")).not.toContainText("s3cr3t-42");
  await expect(page.getByTestId("breadcrumbs")).toContainText("GET /cart");
  await expect(page.getByTestId("group-detail")).toContainText("in shop@2.4.1");
  await screenshot(page, "error-detail-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "error-detail-phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  // The explorer, filtered to this group, lists its one event.
  await page.getByRole("link", { name: "Open these events in the explorer" }).click();
  await hydrated(page);
  await expect(page.getByTestId("group-filter")).toBeVisible();
  await expect(page.getByTestId("events-table").locator("tbody tr")).toHaveCount(1);
  await expect(page.getByTestId("events-table")).toContainText("could not check out the cart");
  await page.goBack();
  await hydrated(page);

  // Resolve it; it leaves the open list.
  await page.getByTestId("resolve").click();
  await expect(page.getByTestId("group-status")).toHaveText("resolved");
  expect(server.sql("select count(*) from error_resolutions where source = 'ui'").trim()).toBe("1");
  await page.goto("/errors");
  await hydrated(page);
  await expect(page.getByTestId("groups-table")).not.toContainText("CheckoutError");

  // Reopen it with the bulk action on the resolved list.
  await page.goto("/errors?status=resolved");
  await hydrated(page);
  const resolved = page.getByTestId("group-row").filter({ hasText: "CheckoutError" });
  await resolved.getByRole("checkbox").check();
  await page.getByTestId("bulk-reopen").click();
  await expect(page.getByTestId("groups-table")).not.toContainText("CheckoutError");
  await page.goto("/errors");
  await hydrated(page);
  await expect(page.getByTestId("group-row").filter({ hasText: "CheckoutError" })).toBeVisible();

  // Releases: the SDK's release, with the group it brought.
  await page.goto("/errors/releases?service=shop");
  await hydrated(page);
  const releases = page.getByTestId("releases-table");
  await expect(releases.locator("tr", { hasText: "shop@2.4.1" })).toBeVisible();
  await expect(releases.locator("tr", { hasText: "shop@2.4.0" })).toContainText("deploy");
  await screenshot(page, "releases-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "releases-phone");
});

test.describe("a viewer", () => {
  test.use({ role: "viewer" });

  test("reads errors but has no buttons that change them", async ({ page, server }) => {
  await ingest(server, createKey(server), [
    { service: "billing", type: "TimeoutError", level: "error", message: "invoice run timed out" },
  ]);
  await page.goto("/errors");
  await hydrated(page);
  await expect(page.getByTestId("group-row").filter({ hasText: "TimeoutError: invoice run timed out" })).toBeVisible();
  await expect(page.getByTestId("bulk-resolve")).toHaveCount(0);
  await page.getByTestId("group-row").getByRole("link").first().click();
  await hydrated(page);
  await expect(page.getByTestId("group-title")).toHaveText("TimeoutError: invoice run timed out");
  await expect(page.getByTestId("resolve")).toHaveCount(0);
});
});
