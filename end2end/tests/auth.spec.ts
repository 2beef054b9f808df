import { test, expect, hydrated, screenshot, PASSWORD, ingest } from "./fixtures";

test.describe("a fresh installation", () => {
  test.use({ role: "none" });

  test("setup, sign in, create an API key, use and revoke it, sign out", async ({ page, server, context, allowConsole }) => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.goto("/");
    await expect(page).toHaveURL(/\/setup$/);
    await expect(page.getByRole("heading", { name: "Welcome to Leitstand" })).toBeVisible();
    await hydrated(page);
    for (const [name, viewport] of [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]] as const) {
      await page.setViewportSize(viewport);
      await screenshot(page, `setup-${name}`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByLabel("E-mail").fill("Ops@Example.com");
    await page.getByLabel("Name").fill("Ops");
    await page.getByLabel(/Password/).fill(PASSWORD);
    await page.getByRole("button", { name: "Create administrator" }).click();
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByTestId("user-chip")).toContainText("ops@example.com");
    await expect(page.getByTestId("user-chip")).toContainText("admin");

    // Sign out ends the session; the dashboard then asks to sign in.
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/events");
    await expect(page).toHaveURL(/\/login\?next=%2Fevents/);
    await hydrated(page);

    // A wrong password is refused (the server answers 401, which Chromium logs).
    allowConsole.push(/status of 401/);
    await page.getByLabel("E-mail").fill("ops@example.com");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("E-mail or password is wrong.");
    await screenshot(page, "login-error-desktop");
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/events$/);

    // Create an ingest key for one service; the secret is shown once.
    await page.goto("/settings/keys");
    await hydrated(page);
    await page.getByPlaceholder("shop backend").fill("shop backend");
    await page.getByPlaceholder("shop", { exact: true }).fill("shop");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = (await page.getByTestId("new-key").textContent()) ?? "";
    expect(secret).toMatch(/^lst_[A-Za-z0-9]{8}_[A-Za-z0-9]{32}$/);
    await page.getByRole("button", { name: "Copy" }).click();
    await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await expect(page.getByTestId("keys-table")).toContainText("shop backend");
    await screenshot(page, "settings-keys-desktop");

    expect(await ingest(server, secret, { service: "shop", message: "with the new key" })).toEqual({ accepted: 1, duplicates: 0 });
    const refused = await fetch(`${server.baseURL}/api/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      body: JSON.stringify({ service: "crm" }),
    });
    expect(refused.status).toBe(403);

    await page.getByTestId("keys-table").getByRole("row", { name: /shop backend/ }).getByRole("button", { name: "Revoke" }).click();
    await expect(page.getByTestId("keys-table").getByRole("row", { name: /shop backend/ })).toContainText("revoked");
    const afterRevoke = await fetch(`${server.baseURL}/api/v1/events`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      body: JSON.stringify({ service: "shop" }),
    });
    expect(afterRevoke.status).toBe(401);

    await page.getByRole("button", { name: "Sign out" }).click();
    await expect(page).toHaveURL(/\/login/);
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, "login-phone");
  });
});

test.describe("a viewer", () => {
  test.use({ role: "viewer" });

  test("sees no admin controls, and the server refuses admin calls", async ({ page, server, allowConsole }) => {
    await page.goto("/");
    await hydrated(page);
    await expect(page.getByTestId("user-chip")).toContainText("viewer");
    await expect(page.getByTestId("onboarding")).toBeVisible();
    await expect(page.getByRole("button", { name: "Create ingest key" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Load demo data" })).toHaveCount(0);
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" })).toBeHidden();

    allowConsole.push(/status of 403/);
    await page.goto("/settings/keys");
    await expect(page.getByRole("button", { name: "Create key" })).toHaveCount(0);
    await expect(page.getByText("Only administrators can see this.")).toBeVisible();
    await page.goto("/settings");
    await expect(page.getByRole("button", { name: "Add user" })).toHaveCount(0);
    await screenshot(page, "settings-as-viewer-desktop");
    // The dashboard works for viewers.
    server.addUser("admin@example.com", "admin");
    const key = server.cli("key", "create", "--name", "e2e", "--scopes", "ingest", "--quiet").trim();
    await ingest(server, key, { service: "shop" });
    await page.goto("/");
    await expect(page.getByTestId("kpi-usage-value")).toHaveText("1");
  });
});

test("two changes pressed one right after the other both land", async ({ page, server }) => {
  server.addUser("quick@example.com", "operator");
  await page.goto("/settings");
  await hydrated(page);
  const row = page.getByTestId("users-table").getByRole("row", { name: /quick@example.com/ });
  // No waiting between the two: the role change is still on its way when
  // Disable is pressed.
  await row.getByLabel("Role of quick@example.com").selectOption("viewer");
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row).toContainText("disabled");
  await expect(row.getByLabel("Role of quick@example.com")).toHaveValue("viewer");
  await page.goto("/settings/audit?action=user.&actor=admin%40example.com");
  const audit = page.getByTestId("audit-table");
  await expect(audit).toContainText("user.role");
  await expect(audit).toContainText("user.disable");
  await expect(audit.locator("tbody tr")).toHaveCount(2);
});

test("admins manage users and every change lands in the audit log", async ({ page }) => {
  await page.goto("/settings");
  await hydrated(page);
  const form = page.locator("form.form-grid");
  await form.getByLabel("E-mail").fill("new.operator@example.com");
  await form.getByLabel("Name").fill("New Operator");
  await form.getByLabel("Password").fill(PASSWORD);
  await form.getByLabel("Role").selectOption("operator");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByRole("status")).toContainText("Added new.operator@example.com as operator");
  const row = page.getByTestId("users-table").getByRole("row", { name: /new.operator@example.com/ });
  await expect(row).toContainText("active");
  // One change at a time, as a person would: the role change is answered
  // before the next button is pressed.
  const roleChanged = page.waitForResponse(
    (r) => r.url().includes("/rpc/change_user") && r.request().method() === "POST",
  );
  await row.getByLabel("Role of new.operator@example.com").selectOption("viewer");
  expect((await roleChanged).ok()).toBe(true);
  await row.getByRole("button", { name: "Disable" }).click();
  await expect(row).toContainText("disabled");
  await screenshot(page, "settings-users-desktop");

  await page.goto("/settings/audit");
  const audit = page.getByTestId("audit-table");
  await expect(audit).toContainText("user.create");
  await expect(audit).toContainText("user.role");
  await expect(audit).toContainText("user.disable");
  await expect(audit).toContainText("auth.login");
  await page.goto("/settings/audit?action=user.&actor=admin%40example.com");
  await expect(audit.locator("tbody tr")).toHaveCount(3);
  await screenshot(page, "settings-audit-desktop");
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, "settings-audit-phone");
});
