import * as http from "node:http";
import { createHmac } from "node:crypto";
import { AddressInfo } from "node:net";
import { Page } from "@playwright/test";
import { test, expect, hydrated, screenshot } from "./fixtures";

type Received = { method: string; headers: http.IncomingHttpHeaders; body: Buffer };

/** A local webhook receiver that records every request and answers 200. */
async function receiver(): Promise<{ url: string; requests: Received[]; close: () => void }> {
  const requests: Received[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "Content-Type": "text/plain" });
      res.end("thanks");
    });
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}/hook`, requests, close: () => srv.close() };
}

/** The Standard Webhooks signature of a request with a `whsec_…` secret. */
function signature(secret: string, r: Received): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const mac = createHmac("sha256", key);
  mac.update(`${r.headers["webhook-id"]}.${r.headers["webhook-timestamp"]}.`);
  mac.update(r.body);
  return `v1,${mac.digest("base64")}`;
}

async function addChannel(page: Page, name: string, url: string): Promise<string> {
  const form = page.getByTestId("channel-form");
  if (!(await form.isVisible())) await page.getByText("Add a channel", { exact: true }).click();
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("URL").fill(url);
  await form.getByRole("button", { name: "Add channel" }).click();
  const secret = page.getByTestId("signing-secret");
  await expect(secret).toContainText(`Channel “${name}” added.`);
  await expect(secret).toContainText("it will not be shown again");
  await expect(page.getByTestId(`channel-${name}`)).toBeVisible();
  return ((await secret.getByText(/^whsec_/).textContent()) ?? "").trim();
}

/** Reloads until the page shows the dead letter of channel `name`. */
async function reloadUntilDead(page: Page, name: string) {
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(page.getByTestId("dead-letters-table")).toContainText(`channel ${name}`, { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
}

// One attempt per delivery, so a failure dead-letters at once; the local
// receiver (and port 9, where nothing listens) may be reached.
test.use({ serverArgs: ["--delivery-schedule", "0s", "--outbound-allow", "127.0.0.0/8"] });

test("an admin adds and tests a webhook channel, adds a rule, and replays and discards a dead letter", async ({ page, server, allowConsole }) => {
  test.setTimeout(120_000);
  allowConsole.push(/status of 422/);
  const hook = await receiver();
  await page.goto("/alerts");
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1, name: "Alerts" })).toBeVisible();

  // A webhook channel: its signing secret is shown this once.
  const secret = await addChannel(page, "e2e hook", hook.url);
  expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("signing-secret")).toHaveCount(0);
  await expect(page.locator("body")).not.toContainText(secret);
  await expect(page.getByTestId("channel-e2e hook")).toContainText("active");

  // A bad URL is refused next to the URL field, and nothing is added.
  await page.getByText("Add a channel", { exact: true }).click();
  const channelForm = page.getByTestId("channel-form");
  await channelForm.getByLabel("Name").fill("e2e bad");
  await channelForm.getByLabel("URL").fill("ftp://hooks.example/x");
  await channelForm.getByRole("button", { name: "Add channel" }).click();
  await expect(channelForm.locator("label", { hasText: "URL" }).getByRole("alert")).toHaveText("an http:// or https:// URL");
  await expect(page.getByTestId("channel-e2e bad")).toHaveCount(0);

  // Send test: a signed POST reaches the receiver.
  await page.getByTestId("channel-e2e hook").getByRole("button", { name: "Send test" }).click();
  await expect(page.getByText("Test message to “e2e hook” queued.")).toBeVisible();
  await expect.poll(() => hook.requests.length, { timeout: 15_000 }).toBeGreaterThan(0);
  const sent = hook.requests[0];
  expect(sent.method).toBe("POST");
  expect(sent.headers["webhook-id"]).toBeTruthy();
  expect(sent.headers["webhook-timestamp"]).toMatch(/^\d+$/);
  const header = String(sent.headers["webhook-signature"]);
  expect(header).toMatch(/^v1,/);
  expect(header.split(" ")).toContain(signature(secret, sent));
  expect(JSON.parse(sent.body.toString("utf8")).type).toBe("alert.test");

  // A rule: without a channel the form says so next to the channels.
  await page.getByText("Add a rule").click();
  const ruleForm = page.getByTestId("rule-form");
  await ruleForm.getByLabel("Name").fill("e2e critical");
  await ruleForm.getByLabel("When").selectOption("critical_event");
  await ruleForm.getByRole("button", { name: "Add rule" }).click();
  await expect(ruleForm.getByRole("group", { name: "Notify through" })).toContainText("at least one channel");
  // Tunable kinds show their fields; instance-wide kinds have no service.
  await ruleForm.getByLabel("When").selectOption("error_rate");
  await expect(ruleForm.getByLabel("Window (seconds)")).toBeVisible();
  await ruleForm.getByLabel("When").selectOption("dead_letters");
  await expect(ruleForm.getByLabel("Service")).toHaveCount(0);
  await expect(ruleForm.getByLabel("Error rate above (%)")).toHaveCount(0);
  await ruleForm.getByLabel("When").selectOption("critical_event");
  await ruleForm.getByLabel("e2e hook").check();
  await ruleForm.getByRole("button", { name: "Add rule" }).click();
  const rule = page.getByTestId("rule-e2e critical");
  await expect(rule).toContainText("Critical event");
  await expect(rule).toContainText("all services");
  await expect(rule).toContainText("e2e hook");
  await expect(rule).toContainText("quiet");
  await expect(page.getByTestId("rule-form").getByText("at least one channel")).toHaveCount(0);

  // An event subscription: its secret shown once; off and on again.
  await page.getByText("Add a subscription", { exact: true }).click();
  const subForm = page.getByTestId("subscription-form");
  await subForm.getByLabel("Name").fill("e2e feed");
  await subForm.getByLabel("URL").fill(hook.url);
  await subForm.getByLabel("Lowest level").selectOption("error");
  await subForm.getByRole("button", { name: "Add subscription" }).click();
  await expect(page.getByTestId("signing-secret")).toContainText("Subscription “e2e feed” added.");
  const sub = page.getByTestId("subscription-e2e feed");
  await expect(sub).toContainText("error and above");
  await sub.getByRole("button", { name: "Disable" }).click();
  await expect(sub).toContainText("disabled: disabled by user:admin@example.com");
  await sub.getByRole("button", { name: "Enable" }).click();
  await expect(sub).toContainText("active");

  // A channel nobody answers: its test becomes a dead letter after one attempt.
  await addChannel(page, "e2e dead", "http://127.0.0.1:9/");
  await page.getByTestId("channel-e2e dead").getByRole("button", { name: "Send test" }).click();
  await expect(page.getByText("Test message to “e2e dead” queued.")).toBeVisible();
  await reloadUntilDead(page, "e2e dead");
  await expect(page.getByRole("heading", { name: "Dead letters (1)" })).toBeVisible();
  const letter = page.getByTestId("dead-letter");
  await expect(letter).toContainText("test message to “e2e dead”");
  await letter.getByRole("button", { name: "Attempts" }).click();
  const attempts = letter.getByTestId("attempts");
  await expect(attempts.locator("li")).toHaveCount(1);
  await expect(attempts).toContainText("Round 0");
  await expect(attempts).toContainText(/cannot connect|refused/i);

  // The dashboard counts it.
  await expect(async () => {
    await page.goto("/");
    await expect(page.getByTestId("dead-letter-strip")).toContainText("1 dead letter", { timeout: 1000 });
  }).toPass({ timeout: 15_000 });
  await page.goto("/alerts");
  await hydrated(page);
  await page.getByTestId("dead-letter").getByRole("button", { name: "Attempts" }).click();
  await page.getByText("Add a rule", { exact: true }).click();
  for (const [name, viewport] of [
    ["1280", { width: 1280, height: 900 }],
    ["390", { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await screenshot(page, `alerts-${name}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // Replay: queued again, a second round, dead again after its attempt.
  await page.getByTestId("dead-letter").getByRole("button", { name: "Replay", exact: true }).click();
  await expect(page.getByText("1 delivery re-queued for a new round of attempts.")).toBeVisible();
  await expect
    .poll(() => server.sql("select round from deliveries where status = 'dead'").trim(), { timeout: 15_000 })
    .toBe("1");
  await reloadUntilDead(page, "e2e dead");
  await page.getByTestId("dead-letter").getByRole("button", { name: "Attempts" }).click();
  await expect(page.getByTestId("attempts").locator("li")).toHaveCount(2);
  await expect(page.getByTestId("attempts")).toContainText("Round 1");

  // Discard asks once more, then the dead letter is gone.
  await page.getByTestId("dead-letter").getByRole("button", { name: "Discard" }).click();
  await page.getByTestId("dead-letter").getByRole("button", { name: "Really discard?" }).click();
  await expect(page.getByText("Dead letter discarded.")).toBeVisible();
  await expect(page.getByTestId("dead-letter")).toHaveCount(0);
  await expect(page.getByRole("heading", { name: "Dead letters (0)" })).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(page.getByText("No dead letters")).toBeVisible();
  expect(server.sql("select count(*) from audit_log where action = 'dead_letter.discard'").trim()).toBe("1");
  hook.close();
});

test("retention: a changed day count is kept, a bad one changes nothing, and a dry run reports", async ({ page, allowConsole }) => {
  allowConsole.push(/status of 422/);
  await page.goto("/settings/retention");
  await hydrated(page);
  await expect(page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: "Retention" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  const form = page.getByTestId("retention-form");
  const events = form.getByLabel("Events (days)");
  await expect(events).toHaveValue("90");
  await events.fill("45");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await page.reload();
  await hydrated(page);
  await expect(events).toHaveValue("45");

  await events.fill("0");
  await form.getByRole("button", { name: "Save" }).click();
  await expect(form.getByRole("alert")).toHaveText("1 to 3650 days");
  await page.reload();
  await hydrated(page);
  await expect(events).toHaveValue("45");

  // Run now asks once more, then shows what went.
  await page.getByRole("button", { name: "Run now" }).click();
  await page.getByRole("button", { name: "Really remove old data now?" }).click();
  const report = page.getByTestId("retention-report");
  await expect(report).toContainText("Removed");
  // Events, probe results, deliveries, audit log, minute rollups, error-group hours.
  await expect(report.locator("li")).toHaveCount(6);
  await expect(report.locator("li").first()).toContainText("events");
  await expect(report.locator("li").first()).toContainText("removed");
  for (const [name, viewport] of [
    ["1280", { width: 1280, height: 900 }],
    ["390", { width: 390, height: 844 }],
  ] as const) {
    await page.setViewportSize(viewport);
    await screenshot(page, `retention-${name}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });

  // A dry run counts and removes nothing.
  await page.getByRole("button", { name: "Dry run" }).click();
  await expect(report).toContainText("Nothing was removed.");
  // Events, probe results, deliveries, audit log, minute rollups, error-group hours.
  await expect(report.locator("li")).toHaveCount(6);
  await expect(report.locator("li").first()).toContainText("would remove");
});

test.describe("a viewer", () => {
  test.use({ role: "viewer" });

  test("has no Alerts entry and is told the page is for administrators", async ({ page, allowConsole }) => {
    allowConsole.push(/status of 403/);
    await page.goto("/");
    await hydrated(page);
    await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Alerts" })).toHaveCount(0);
    await page.goto("/alerts");
    await hydrated(page);
    await expect(page.getByText("Alerts are for administrators.")).toBeVisible();
    await expect(page.getByText("Add a channel")).toHaveCount(0);
  });
});
