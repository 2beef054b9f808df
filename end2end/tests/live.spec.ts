import { test, expect, hydrated, screenshot, createKey, ingest } from "./fixtures";

test("an ingested event appears in the live widget within a second, without reloading", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, { service: "shop", feature: "checkout", type: "order.placed", message: "server-rendered" });
  await page.goto("/");
  // Server-rendered before any script runs.
  await expect(page.getByTestId("live-list")).toContainText("server-rendered");
  await hydrated(page);
  await expect(page.getByTestId("live-status")).toHaveText("live");

  const started = Date.now();
  await ingest(server, key, { service: "billing", feature: "invoices", level: "error", type: "invoice.failed", message: "arrives live" });
  await expect(page.getByTestId("live-list").locator("li").first()).toContainText("arrives live", { timeout: 1000 });
  expect(Date.now() - started).toBeLessThan(1000);
  await expect(page.getByTestId("live-list").locator("li").first()).toContainText("error");

  // Pause holds new events back; resume shows them.
  await page.getByTestId("live-toggle").click();
  await expect(page.getByTestId("live-status")).toHaveText("paused");
  await ingest(server, key, { service: "shop", message: "held while paused" });
  await expect(page.getByTestId("live-held")).toHaveText("1 new event held while paused");
  await expect(page.getByTestId("live-list")).not.toContainText("held while paused");
  await page.getByTestId("live-toggle").click();
  await expect(page.getByTestId("live-list").locator("li").first()).toContainText("held while paused");
  await expect(page.getByTestId("live-status")).toHaveText("live");

  // The widget keeps the newest 20.
  await ingest(server, key, Array.from({ length: 25 }, (_, i) => ({ service: "shop", message: `burst ${i}` })));
  await expect(page.getByTestId("live-list").locator("li")).toHaveCount(20);
  await expect(page.getByTestId("live-list").locator("li").first()).toContainText("burst 24");
  await screenshot(page, "live-widget-desktop");
});

test("the live widget follows the dashboard's service filter", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, [{ service: "shop", message: "shop one" }, { service: "crm", message: "crm one" }]);
  await page.goto("/?service=shop");
  await hydrated(page);
  await expect(page.getByTestId("live-list")).toContainText("shop one");
  await expect(page.getByTestId("live-list")).not.toContainText("crm one");
  await expect(page.getByTestId("live-status")).toHaveText("live");
  await ingest(server, key, [{ service: "crm", message: "crm two" }, { service: "shop", message: "shop two" }]);
  await expect(page.getByTestId("live-list").locator("li").first()).toContainText("shop two");
  await expect(page.getByTestId("live-list")).not.toContainText("crm two");
});
