import * as http from "node:http";
import { AddressInfo } from "node:net";
import { test, expect, hydrated, screenshot, createKey, ingest, Server } from "./fixtures";

/** A local health endpoint whose status the test sets. */
async function target(): Promise<{ url: string; set: (status: number) => void; close: () => void }> {
  let status = 200;
  const srv = http.createServer((_req, res) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ status: status === 200 ? "up" : "down" }));
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/health`, set: (s) => (status = s), close: () => srv.close() };
}

/** Makes every probe due now and waits until each has a new result. */
async function checkNow(server: Server) {
  const before = Number(server.sql("select count(*) from probe_results").trim());
  const probes = Number(server.sql("select count(*) from probes where enabled").trim());
  server.sql("update probes set next_due_at = now()");
  await expect
    .poll(() => Number(server.sql("select count(*) from probe_results").trim()), { timeout: 15_000 })
    .toBeGreaterThanOrEqual(before + probes);
}

test("an admin adds a probe, sees it go down and up, sets targets and a maintenance window, and removes it", async ({ page, server }) => {
  const t = await target();
  const key = createKey(server);
  await ingest(server, key, [{ service: "shop", feature: "checkout" }]);

  await page.goto("/services");
  await hydrated(page);
  const card = page.getByTestId("service-shop");
  await expect(card).toBeVisible();
  await card.getByRole("link", { name: "shop" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "shop" })).toBeVisible();
  await hydrated(page);

  // Add an HTTP probe through the form.
  await page.getByText("Add a probe").click();
  const form = page.getByTestId("probe-form");
  await form.getByLabel("URL").fill(t.url);
  await form.getByLabel("Down after failures in a row").fill("1");
  await form.getByRole("button", { name: "Add probe" }).click();
  const probes = page.getByTestId("probes-table");
  await expect(probes).toContainText(t.url);

  await checkNow(server);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("probes-table").locator("[data-state]").first()).toHaveText("up");

  t.set(503);
  await checkNow(server);
  await page.reload();
  await hydrated(page);
  await expect(page.locator("h1 + [data-state]")).toHaveText("down");
  await expect(page.getByTestId("incidents-table")).toContainText("status 503, expected 2xx");
  await expect(page.getByTestId("slo-table")).toContainText("Uptime");
  for (const [name, viewport] of [
    ["desktop", { width: 1280, height: 900 }],
    ["phone", { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await screenshot(page, `service-down-${name}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  t.set(200);
  await checkNow(server);
  await page.reload();
  await hydrated(page);
  await expect(page.locator("h1 + [data-state]")).toHaveText("up");
  await expect(page.getByTestId("incidents-table")).not.toContainText("ongoing");

  // SLO targets and the public page opt-in.
  await page.getByText("Change targets").click();
  const slo = page.getByTestId("slo-form");
  await slo.getByLabel("p95 response time below (ms)").fill("250");
  await slo.getByLabel("Show on the public status page").check();
  await slo.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("slo-table")).toContainText("< 250 ms");

  // A maintenance window that is on now.
  await page.getByText("Add a maintenance window").click();
  const mw = page.getByTestId("maintenance-form");
  await mw.getByLabel("Title").fill("Database upgrade");
  await mw.getByLabel("Every week").check();
  const now = new Date();
  const day = (now.getUTCDay() + 6) % 7;
  await mw.getByLabel("Day").selectOption(String(day));
  const hh = String(now.getUTCHours()).padStart(2, "0");
  await mw.getByLabel("Start (HH:MM)").fill(`${hh}:00`);
  await mw.getByLabel("Minutes").fill("120");
  await mw.getByRole("button", { name: "Add window" }).click();
  const windows = page.getByTestId("maintenance-list");
  await expect(windows).toContainText("Database upgrade");
  await expect(windows).toContainText("on now");

  // The public status page, without signing in.
  const anonymous = await page.context().browser()!.newContext();
  const pub = await anonymous.newPage();
  await pub.goto(`${server.baseURL}/status`);
  await expect(pub.getByRole("heading", { level: 1, name: "Status" })).toBeVisible();
  await expect(pub.locator(".service-card")).toContainText("shop");
  await expect(pub.locator("body")).not.toContainText(t.url);
  for (const [name, viewport] of [
    ["desktop", { width: 1280, height: 800 }],
    ["phone", { width: 390, height: 844 }],
  ] as const) {
    await pub.setViewportSize(viewport);
    await screenshot(pub, `public-status-${name}`);
  }
  await anonymous.close();

  // Remove the probe: the delete button asks twice.
  const del = page.getByTestId("probes-table").getByRole("button", { name: "Delete" });
  await del.click();
  await page.getByTestId("probes-table").getByRole("button", { name: "Really delete?" }).click();
  await expect(page.getByText("No probes yet.")).toBeVisible();

  // The overview and the dashboard's Now strip.
  await page.goto("/services");
  await hydrated(page);
  await screenshot(page, "services-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "services-phone");
  t.close();
});

test.describe("a viewer", () => {
  test.use({ role: "viewer" });

  test("sees services and probes but no forms", async ({ page, server }) => {
    const key = createKey(server, "admin");
    const res = await fetch(`${server.baseURL}/api/v1/services/shop/probes`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "heartbeat", period_seconds: 3600, grace_seconds: 60 }),
    });
    expect(res.status).toBe(201);
    await page.goto("/services/shop");
    await hydrated(page);
    await expect(page.getByTestId("probes-table")).toContainText("heartbeat");
    await expect(page.getByText("Add a probe")).toHaveCount(0);
    await expect(page.getByText("Change targets")).toHaveCount(0);
    await expect(page.getByText("Add a maintenance window")).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Delete" })).toHaveCount(0);
  });
});

test("the dashboard's Now strip counts services by state", async ({ page, server }) => {
  const t = await target();
  const key = createKey(server, "admin");
  for (const service of ["shop", "crm"]) {
    const res = await fetch(`${server.baseURL}/api/v1/services/${service}/probes`, {
      method: "POST",
      headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
      body: JSON.stringify({ kind: "http", url: service === "shop" ? t.url : "http://127.0.0.1:9/none", failures_before_down: 1, interval_seconds: 3600 }),
    });
    expect(res.status).toBe(201);
  }
  await checkNow(server);
  // The status document is cached for 5 s.
  await new Promise((r) => setTimeout(r, 5200));
  await page.goto("/");
  await hydrated(page);
  const strip = page.getByTestId("now-strip");
  await expect(strip).toContainText("1 up");
  await expect(strip).toContainText("1 down");
  await strip.click();
  await expect(page.getByRole("heading", { level: 1, name: "Services" })).toBeVisible();
  t.close();
});
