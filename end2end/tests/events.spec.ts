import { test, expect, hydrated, screenshot, createKey, ingest } from "./fixtures";

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

test("the explorer filters through the URL, pages with a cursor and opens an event", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, [
    ...Array.from({ length: 60 }, (_, i) => ({ service: "shop", feature: "search", type: "search.query", message: `query ${i}`, timestamp: minutesAgo(100 - i) })),
    { service: "billing", feature: "invoices", level: "error", type: "invoice.failed", message: "PDF renderer crashed", timestamp: minutesAgo(5),
      attributes: { invoice: 2024, password: "hunter2", nested: { pages: 3 } } },
  ]);

  await page.goto("/events");
  await hydrated(page);
  const rows = page.getByTestId("events-table").locator("tbody tr");
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText("PDF renderer crashed");

  // Older page via the keyset cursor, then back.
  await page.getByRole("link", { name: "Older →" }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(rows).toHaveCount(11);
  await expect(rows.last()).toContainText("query 0");
  await page.getByRole("link", { name: "← Newest" }).click();
  await expect(rows).toHaveCount(50);

  // Filters end up in the URL; the view can be shared.
  await page.getByLabel("Level at least").selectOption("error");
  await page.getByRole("button", { name: "Apply" }).click();
  await expect(page).toHaveURL(/level=error/);
  await expect(rows).toHaveCount(1);
  await page.goto("/events?q=QUERY%2042&service=shop");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("query 42");
  await page.goto("/events?kind=invoice.");
  await expect(rows).toHaveCount(1);
  await screenshot(page, "events-explorer-desktop");

  await rows.first().getByRole("link").click();
  await expect(page).toHaveURL(/\/events\/[0-9a-f-]{36}$/);
  const detail = page.getByTestId("event-detail");
  await expect(detail).toContainText("PDF renderer crashed");
  await expect(detail).toContainText("billing");
  await expect(detail).toContainText("invoices");
  const attributes = JSON.parse((await page.getByTestId("event-attributes").textContent()) ?? "{}");
  expect(attributes).toEqual({ invoice: 2024, password: "[Filtered]", nested: { pages: 3 } });
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "event-detail-phone");
});

test("live tail streams matching events into the list", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, { service: "shop", level: "error", message: "already there" });
  await page.goto("/events?service=shop&level=warning");
  await hydrated(page);
  const rows = page.getByTestId("events-table").locator("tbody tr");
  await expect(rows).toHaveCount(1);
  await page.getByTestId("live-tail").check();
  await expect(page.getByRole("status")).toHaveText("live");
  await ingest(server, key, [
    { service: "shop", level: "info", message: "below the level" },
    { service: "crm", level: "error", message: "other service" },
    { service: "shop", level: "critical", message: "tailed in" },
  ]);
  await expect(rows.first()).toContainText("tailed in");
  await expect(rows).toHaveCount(2);
  await page.getByTestId("live-tail").uncheck();
  // Switching off removes the stream, and its status, from the page.
  await expect(page.getByRole("status")).toHaveCount(0);
  await ingest(server, key, { service: "shop", level: "error", message: "after switching off" });
  // The event is stored: a fresh page shows it …
  const fresh = await page.context().newPage();
  await fresh.goto("/events?service=shop&level=warning");
  await expect(fresh.getByTestId("events-table").locator("tbody tr").first()).toContainText("after switching off");
  await fresh.close();
  // … but it was not streamed into the page whose tail is off.
  await expect(rows).toHaveCount(2);
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "events-explorer-phone");
});
