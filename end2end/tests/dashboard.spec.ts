import { test, expect, hydrated, screenshot, createKey, ingest } from "./fixtures";

const hoursAgo = (h: number) => new Date(Date.now() - h * 3600_000).toISOString();

test("an empty installation shows onboarding; its buttons create a key and load demo data", async ({ page, server, allowConsole }) => {
  await page.goto("/");
  const onboarding = page.getByTestId("onboarding");
  await expect(onboarding).toBeVisible();
  await expect(page.getByTestId("curl-example")).toContainText(`${server.baseURL}/api/v1/events`);
  await expect(page.getByTestId("curl-example")).toContainText("YOUR_INGEST_KEY");
  await hydrated(page);
  await screenshot(page, "dashboard-onboarding-desktop");

  // The key appears once, inside a curl command that works as pasted.
  await page.getByRole("button", { name: "Create ingest key" }).click();
  await expect(page.getByTestId("curl-example")).toContainText("lst_");
  const curl = (await page.getByTestId("curl-example").textContent()) ?? "";
  const key = /Bearer (lst_[A-Za-z0-9_]+)/.exec(curl)?.[1] ?? "";
  expect(key).toMatch(/^lst_[A-Za-z0-9]{8}_[A-Za-z0-9]{32}$/);
  await expect(page.getByRole("button", { name: "Create ingest key" })).toBeDisabled();
  const sent = await ingest(server, key, { service: "shop", feature: "checkout", type: "order.placed" });
  expect(sent).toEqual({ accepted: 1, duplicates: 0 });

  // Demo data only loads into an empty installation: one event exists now,
  // so the server answers 409, which the browser logs.
  allowConsole.push(/status of 409/);
  await page.getByRole("button", { name: "Load demo data" }).click();
  await expect(page.getByRole("alert")).toContainText("empty installation");
});

test("demo data loads with one click and fills every section", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  await page.getByRole("button", { name: "Load demo data" }).click();
  await expect(page.getByTestId("onboarding")).toBeHidden({ timeout: 60_000 });
  await expect(page.getByTestId("maturity-table").locator("tbody tr")).toHaveCount(16);
  await expect(page.getByTestId("top-sources").locator("li")).toHaveCount(5);
  const usage = await page.getByTestId("kpi-usage-value").textContent();
  expect(Number((usage ?? "").replace(/\D/g, ""))).toBeGreaterThan(0);

  for (const [name, viewport] of [
    ["desktop", { width: 1280, height: 800 }],
    ["phone", { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.waitForTimeout(300);
    await screenshot(page, `dashboard-demo-${name}`);
  }
});

test("numbers ingested through the API appear on the page exactly", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, [
    ...Array.from({ length: 8 }, () => ({ service: "shop", feature: "checkout", type: "order.placed", timestamp: hoursAgo(2) })),
    { service: "shop", feature: "checkout", level: "error", message: "card declined", fingerprint: "fp-card", timestamp: hoursAgo(3) },
    { service: "shop", feature: "checkout", type: "fix", fingerprint: "fp-card", timestamp: hoursAgo(1) },
  ]);
  await page.goto("/?range=30d");
  // 10 events, 1 error: quality 90.0 %, usage 10, activity 10 %.
  await expect(page.getByTestId("kpi-quality-value")).toHaveText("90.0%");
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("10");
  await expect(page.getByTestId("kpi-stability-value")).toHaveText("100.0%");
  // readiness = 0.3 × 10 + 0.4 × 90 + 0.3 × 100 = 69
  await expect(page.getByTestId("kpi-readiness-value")).toHaveText("69.0%");
  await expect(page.getByTestId("stat-error-rate")).toHaveText("10.0%");
  await expect(page.getByTestId("stat-open")).toHaveText("0");
  await expect(page.getByTestId("stat-fix-rate")).toHaveText("100.0%");
  await expect(page.getByTestId("stat-fixes-week")).toHaveText("1");
  await expect(page.getByTestId("stat-mttr")).toHaveText("2 h");
  const row = page.getByTestId("maturity-table").getByRole("row", { name: /checkout/ });
  await expect(row).toContainText("10");
  await expect(row).toContainText("Prototype");
  await hydrated(page);

  // A new event shows after a refresh without reloading the page. The
  // refresh changes the figures in place: a card focused from the keyboard
  // stays focused, its formula shown (the timer's refresh, which does not
  // move the focus as clicking the button would).
  const card = page.getByTestId("kpi-readiness");
  await card.focus();
  await ingest(server, key, { service: "shop", feature: "checkout", level: "critical", message: "down" });
  await page.getByRole("button", { name: "Refresh now" }).evaluate((b: HTMLButtonElement) => b.click());
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("11");
  await expect(page.getByTestId("kpi-stability-value")).toHaveText("99.4%");
  await expect(card).toBeFocused();
  await expect(card.getByRole("tooltip")).toBeVisible();
});

test("range and service live in the URL; table sorts and filters; formulas show on focus", async ({ page, server }) => {
  const key = createKey(server);
  await ingest(server, key, [
    ...Array.from({ length: 5 }, () => ({ service: "shop", feature: "search", timestamp: hoursAgo(30) })),
    ...Array.from({ length: 3 }, () => ({ service: "crm", feature: "contacts", timestamp: hoursAgo(2) })),
  ]);
  await page.goto("/");
  await hydrated(page);

  await page.getByRole("navigation", { name: "Range" }).getByRole("link", { name: "24h" }).click();
  await expect(page).toHaveURL(/range=24h/);
  await expect(page.getByText("Range: last 24 hours")).toBeVisible();
  await expect(page.getByTestId("maturity-table").locator("tbody tr")).toHaveCount(1);

  await page.getByRole("navigation", { name: "Range" }).getByRole("link", { name: "7d" }).click();
  await expect(page.getByTestId("maturity-table").locator("tbody tr")).toHaveCount(2);

  await page.locator("select.service-filter").selectOption("shop");
  await expect(page).toHaveURL(/range=7d&service=shop/);
  await expect(page.getByTestId("maturity-table").locator("tbody tr")).toHaveCount(1);
  await page.reload();
  await expect(page.locator("select.service-filter")).toHaveValue("shop");
  await page.goto("/?range=7d");
  await hydrated(page);

  // Numbers sort largest first, then ascending on a second click.
  await page.getByRole("button", { name: "Events" }).click();
  await expect(page.getByTestId("maturity-table").locator("tbody tr").first()).toContainText("shop");
  await page.getByRole("button", { name: "Events" }).click();
  await expect(page.getByTestId("maturity-table").locator("tbody tr").first()).toContainText("crm");
  await page.getByLabel("Filter maturity by service").selectOption("crm");
  await expect(page.getByTestId("maturity-table").locator("tbody tr")).toHaveCount(1);

  // A refresh (every 30 s, or the button) keeps the table's sort and filter.
  const refreshed = async () => {
    const before = await page.getByTestId("generated-at").getAttribute("datetime");
    await page.getByRole("button", { name: "Refresh now" }).click();
    await expect(page.getByTestId("generated-at")).not.toHaveAttribute("datetime", before ?? "");
  };
  await refreshed();
  await expect(page.getByLabel("Filter maturity by service")).toHaveValue("crm");
  await expect(page.getByTestId("maturity-table").locator("tbody tr")).toHaveCount(1);
  await page.getByLabel("Filter maturity by service").selectOption("");
  await expect(page.getByTestId("maturity-table").locator("tbody tr").first()).toContainText("crm");
  await refreshed();
  await expect(page.getByTestId("maturity-table").locator("tbody tr")).toHaveCount(2);
  await expect(page.getByTestId("maturity-table").locator("tbody tr").first()).toContainText("crm");
  await expect(page.getByRole("button", { name: "Events" }).locator("xpath=..")).toHaveAttribute("aria-sort", "ascending");

  const card = page.getByTestId("kpi-readiness");
  await card.focus();
  await expect(card.getByRole("tooltip")).toBeVisible();
  await expect(card.getByRole("tooltip")).toContainText("0.3 × activity + 0.4 × quality + 0.3 × stability");

  const csv = await page.request.get(await page.getByRole("link", { name: "CSV" }).getAttribute("href") ?? "");
  expect(csv.status()).toBe(200);
  expect(await csv.text()).toContain("kpi,events,,,,,,,,,,8");
});

test("the dashboard refreshes itself every 30 seconds", async ({ page, server }) => {
  test.setTimeout(90_000);
  const key = createKey(server);
  await ingest(server, key, { service: "shop" });
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("1");
  const before = await page.getByTestId("generated-at").getAttribute("datetime");
  await ingest(server, key, [{ service: "shop" }, { service: "shop" }]);
  // No click, no reload: the timer fetches, the old numbers stay until then.
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("1");
  await expect(page.getByTestId("kpi-usage-value")).toHaveText("3", { timeout: 40_000 });
  expect(await page.getByTestId("generated-at").getAttribute("datetime")).not.toBe(before);
});

test("every navigation link leads to a page", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["Services", "Events", "Errors", "Backups", "Alerts", "Settings", "Dashboard"]) {
    await nav.getByRole("link", { name }).click();
    await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  }
  await expect(nav.getByRole("link")).toHaveCount(7);
});
