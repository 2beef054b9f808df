import { test, expect, hydrated, screenshot, createKey, ingest } from "./fixtures";

const usage = async (page: import("@playwright/test").Page) =>
  Number(((await page.getByTestId("kpi-usage-value").textContent()) ?? "").replace(/\D/g, ""));

test("create a backup, change the data, restore it with the typed name, and the dashboard shows the restored data", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, Array.from({ length: 5 }, () => ({ service: "shop", feature: "checkout", type: "order.placed" })));

  await page.goto("/backups");
  await hydrated(page);
  await expect(page.getByTestId("no-backups")).toBeVisible();
  await expect(page.getByTestId("backup-health")).toHaveText("critical");
  await page.getByTestId("create-backup").click();
  await expect(page.getByTestId("create-result")).toContainText("written");
  const row = page.getByTestId("backup-row").first();
  await expect(row).toContainText("manual");
  await expect(page.getByTestId("backup-health")).toHaveText("healthy");
  const name = (await row.getAttribute("data-name")) ?? "";
  expect(name).toMatch(/^leitstand-\d{8}-\d{6}-manual-\d+\.lsbackup$/);

  await row.getByTestId("verify").click();
  await expect(page.getByTestId("verify-result")).toContainText("every checksum matches");

  // Three more events after the backup.
  await ingest(server, key, Array.from({ length: 3 }, () => ({ service: "shop", feature: "search", type: "search" })));
  await page.goto("/?range=30d");
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("8");
  await expect(page.getByRole("heading", { name: "Backups" })).toBeVisible();

  await page.goto("/backups");
  await hydrated(page);
  await screenshot(page, "backups-desktop");
  await page.getByTestId("backup-row").filter({ hasText: name }).getByTestId("restore").click();
  const dialog = page.getByTestId("restore-dialog");
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId("restore-submit")).toBeDisabled();
  await page.getByTestId("restore-confirm").fill(name.slice(0, -1));
  await expect(page.getByTestId("restore-submit")).toBeDisabled();
  await page.getByTestId("restore-confirm").fill(name);
  await screenshot(page, "backups-restore-confirm");
  await page.getByTestId("restore-submit").click();
  await expect(page.getByTestId("restore-result")).toContainText(`Restored ${name}`);
  await expect(page.getByTestId("restore-result")).toContainText("Safety backup taken first");
  // The safety backup is listed.
  await expect(page.getByTestId("backup-row").filter({ hasText: "safety" })).toHaveCount(1);

  await page.goto("/?range=30d");
  await hydrated(page);
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("5");
  expect(await usage(page)).toBe(5);

  for (const [label, viewport] of [
    ["desktop", { width: 1280, height: 800 }],
    ["phone", { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.goto("/backups");
    await hydrated(page);
    await screenshot(page, `backups-list-${label}`);
  }
});

test("restore from an uploaded file, refusing a wrong confirmation and a foreign file", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, Array.from({ length: 4 }, () => ({ service: "api", type: "request" })));
  const out = server.cli("backup", "create");
  const file = out.trim().split(/\s+/).pop() ?? "";
  const name = file.split("/").pop() ?? "";
  await ingest(server, key, Array.from({ length: 6 }, () => ({ service: "api", type: "request" })));

  await page.goto("/backups");
  const form = page.getByTestId("upload-form");
  await form.locator('input[type="file"]').setInputFiles(file);
  await form.locator('input[name="confirm"]').fill("wrong");
  await form.getByRole("button", { name: "Upload and restore" }).click();
  await expect(page.getByTestId("restore-error")).toContainText("to confirm");

  await form.locator('input[type="file"]').setInputFiles({ name: "notes.lsbackup", mimeType: "application/octet-stream", buffer: Buffer.from("just some text") });
  await form.locator('input[name="confirm"]').fill("notes.lsbackup");
  await form.getByRole("button", { name: "Upload and restore" }).click();
  await expect(page.getByTestId("restore-error")).toContainText("not a Leitstand backup");

  await page.goto("/?range=30d");
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("10");

  await page.goto("/backups");
  await form.locator('input[type="file"]').setInputFiles(file);
  await form.locator('input[name="confirm"]').fill(name);
  await form.getByRole("button", { name: "Upload and restore" }).click();
  await expect(page.getByTestId("restore-result")).toContainText(`Restored ${name}`);
  await page.goto("/?range=30d");
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("4");
});

test.describe("as a viewer", () => {
  test.use({ role: "viewer" });
  test("backups are listed but cannot be created, restored or deleted", async ({ page, server }) => {
    server.cli("backup", "create");
    await page.goto("/backups");
    await hydrated(page);
    await expect(page.getByTestId("backup-row")).toHaveCount(1);
    await expect(page.getByTestId("create-backup")).toHaveCount(0);
    await expect(page.getByTestId("restore")).toHaveCount(0);
    await expect(page.getByTestId("delete")).toHaveCount(0);
    await expect(page.getByTestId("verify")).toHaveCount(0);
    await expect(page.getByTestId("upload-form")).toHaveCount(0);
  });
});
