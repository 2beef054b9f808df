import type { Page } from "@playwright/test";
import { test, expect, hydrated, screenshot, createKey, ingest, type Server } from "./fixtures";

// Keyboard only: no clicks, no fills — Tab, Shift+Tab, Space, Enter, Escape and typing.

/** Presses Tab until the focused element matches `selector` (at most `limit` times). */
async function tabTo(page: Page, selector: string, limit = 60) {
  for (let i = 0; i < limit; i++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

/** The Backups page, hydrated, listing one backup of one stored event. */
async function backupsPageWithOneBackup(page: Page, server: Server) {
  const key = createKey(server);
  await ingest(server, key, [{ service: "shop", type: "order.placed" }]);
  server.cli("backup", "create");
  await page.goto("/backups");
  await hydrated(page);
}

const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement;
    return el ? `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}[${el.getAttribute("data-testid") ?? ""}]` : "";
  });

test("the skip link is the first stop and moves focus to the content", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.keyboard.press("Tab");
  const skip = page.locator(".skip-link");
  await expect(skip).toBeFocused();
  await expect(skip).toBeVisible();
  await page.keyboard.press("Enter");
  await expect(page.locator("main#main")).toBeFocused();
});

test("an API key is created with the keyboard alone", async ({ page }) => {
  await page.goto("/settings/keys");
  await hydrated(page);
  await tabTo(page, "form input[type=text]");
  await page.keyboard.type("ci-deploy");
  // `ingest` is checked already; the next box is `read`.
  await tabTo(page, "input[type=checkbox]");
  await expect(page.locator("input[type=checkbox]:focus")).toBeChecked();
  await page.keyboard.press("Tab");
  await expect(page.locator("input[type=checkbox]:focus")).not.toBeChecked();
  await page.keyboard.press("Space");
  await expect(page.locator("input[type=checkbox]:focus")).toBeChecked();
  await tabTo(page, "form button[type=submit]");
  await expect(page.locator(":focus")).toHaveText("Create key");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("new-key")).toContainText("lst_");
  await screenshot(page, "keys-created-keyboard");
});

test("the restore dialog traps focus, closes on Escape, returns focus, and restores from the keyboard", async ({ page, server }) => {
  await backupsPageWithOneBackup(page, server);
  const name = (await page.getByTestId("backup-row").first().getAttribute("data-name")) ?? "";

  await tabTo(page, "[data-testid=restore]");
  await page.keyboard.press("Enter");
  const dialog = page.getByTestId("restore-dialog");
  await expect(dialog).toBeVisible();
  await expect(page.getByTestId("restore-confirm")).toBeFocused();
  // Focus never leaves the dialog, forwards or backwards.
  for (const key of ["Tab", "Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab", "Shift+Tab"]) {
    await page.keyboard.press(key);
    const inside = await page.evaluate(
      () => !!document.activeElement?.closest("[data-testid=restore-dialog]") || document.activeElement === document.body,
    );
    expect(inside, `focus on ${await focused(page)} after ${key}`).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.closest(".sidenav, .topbar, table"))).toBeNull();
  }
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("restore").first()).toBeFocused();

  await page.keyboard.press("Enter");
  await expect(page.getByTestId("restore-confirm")).toBeFocused();
  await page.keyboard.type(name);
  await screenshot(page, "backups-restore-dialog-keyboard");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("restore-result")).toContainText(`Restored ${name}`, { timeout: 30_000 });
});

test("the restore dialog opened again before its close event arrives stays open", async ({ page, server }) => {
  await backupsPageWithOneBackup(page, server);
  await page.getByTestId("restore").first().focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("restore-confirm")).toBeFocused();
  // The fastest keyboard user: the dialog closes (Escape) and the Restore
  // button is pressed again before the browser has delivered `close`.
  await page.evaluate(() => {
    document.querySelector<HTMLDialogElement>("[data-testid=restore-dialog]")?.close();
    document.querySelector<HTMLButtonElement>("[data-testid=restore]")?.click();
  });
  await page.waitForTimeout(300);
  await expect(page.getByTestId("restore-dialog")).toBeVisible();
  await expect(page.getByTestId("restore-confirm")).toBeFocused();
});

test("the maturity table's sort buttons say how the table is sorted", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, [
    { service: "shop", feature: "checkout", type: "order.placed" },
    { service: "shop", feature: "search", type: "search" },
  ]);
  await page.goto("/?range=30d");
  await hydrated(page);
  const table = page.getByTestId("maturity-table");
  const header = table.locator("th", { has: page.getByRole("button", { name: /Feature/ }) }).first();
  await expect(header).toHaveAttribute("aria-sort", "none");
  await tabTo(page, "[data-testid=maturity-table] th button");
  for (let i = 0; i < 8 && !(await header.locator("button:focus").count()); i++) {
    await page.keyboard.press("Tab");
  }
  await expect(header.locator("button")).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(header).toHaveAttribute("aria-sort", /ascending|descending/);
  const first = await header.getAttribute("aria-sort");
  await page.keyboard.press("Space");
  await expect(header).not.toHaveAttribute("aria-sort", first ?? "");
});
