// Test fixtures: a fresh Leitstand per test (own database, own port), and a
// page that fails the test on any browser console error.
import { test as base, expect, Page } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

export const PASSWORD = "correct horse battery";

export type Server = {
  baseURL: string;
  databaseUrl: string;
  /** Runs SQL against this server's database (e.g. to make a probe due now). */
  sql: (statement: string) => string;
  /** Runs a `leitstand` CLI command against this server's database. */
  cli: (...args: string[]) => string;
  /** Lines the server wrote to stderr so far. */
  log: () => string;
  /** Adds a user with the CLI (password PASSWORD). */
  addUser: (email: string, role: "viewer" | "operator" | "admin") => void;
};

const adminUrl = process.env.LEITSTAND_TEST_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";
const bin = process.env.LEITSTAND_BIN ?? path.resolve(__dirname, "../../target/debug/leitstand");
const siteRoot = process.env.LEITSTAND_SITE_ROOT ?? path.resolve(__dirname, "../../target/site");

function psql(sql: string) {
  execFileSync("psql", [adminUrl, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql], { stdio: "pipe" });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`leitstand exited early:\n${log()}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`leitstand did not become ready:\n${log()}`);
}

/** Signs in through the real login form's endpoint; returns the session cookie value. */
export async function signIn(server: Server, email: string): Promise<string> {
  const html = await (await fetch(`${server.baseURL}/login`)).text();
  const action = /<form[^>]*action="(\/rpc\/login[0-9]*)"/.exec(html)?.[1];
  if (!action) throw new Error("no login form on /login");
  const res = await fetch(`${server.baseURL}${action}`, {
    method: "POST",
    redirect: "manual",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: server.baseURL },
    body: new URLSearchParams({ email, password: PASSWORD, next: "/" }).toString(),
  });
  const cookie = /leitstand_session=([^;]+)/.exec(res.headers.get("set-cookie") ?? "")?.[1];
  if (!cookie) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return cookie;
}

export const test = base.extend<{
  server: Server;
  consoleErrors: string[];
  allowConsole: RegExp[];
  /** The role the test's page is signed in with; "none" for a fresh installation. */
  role: "admin" | "operator" | "viewer" | "none";
  /** Extra arguments of `leitstand serve` (e.g. `--delivery-schedule 0s`). */
  serverArgs: string[];
  /** Extra environment of the server and its CLI calls. */
  serverEnv: Record<string, string>;
}>({
  role: ["admin", { option: true }],
  serverArgs: [[], { option: true }],
  serverEnv: [{}, { option: true }],
  /** Console errors a test provokes on purpose (e.g. an HTTP 409 it expects). */
  allowConsole: async ({}, use) => {
    await use([]);
  },
  server: async ({ serverArgs, serverEnv }, use, testInfo) => {
    const db = `e2e_${randomBytes(6).toString("hex")}`;
    psql(`create database ${db}`);
    const databaseUrl = adminUrl.replace(/\/[^/]*$/, `/${db}`);
    const port = await freePort();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "leitstand-e2e-"));
    const env = {
      ...process.env,
      DATABASE_URL: databaseUrl,
      LEITSTAND_LISTEN: `127.0.0.1:${port}`,
      LEITSTAND_SITE_ROOT: siteRoot,
      LEITSTAND_DATA_DIR: dataDir,
      RUST_LOG: "info",
      RUST_BACKTRACE: "0",
      LEITSTAND_PUBLIC_STATUS: "true",
      ...serverEnv,
    };
    let output = "";
    const child = spawn(bin, ["serve", ...serverArgs], { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.on("data", (d) => (output += d.toString()));
    child.stderr?.on("data", (d) => (output += d.toString()));
    const baseURL = `http://127.0.0.1:${port}`;
    const cli = (...args: string[]) =>
      execFileSync(bin, args, { env: { ...env, RUST_LOG: "warn" }, encoding: "utf8" });
    const addUser = (email: string, role: string) => {
      execFileSync(bin, ["user", "add", "--email", email, "--role", role], {
        env: { ...env, RUST_LOG: "warn" },
        input: `${PASSWORD}\n`,
        encoding: "utf8",
      });
    };
    try {
      await waitReady(baseURL, child, () => output);
      const sql = (statement: string) =>
        execFileSync("psql", [databaseUrl, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", statement], { encoding: "utf8" });
      await use({ baseURL, databaseUrl, sql, cli, log: () => output, addUser });
      if (testInfo.status !== testInfo.expectedStatus) {
        console.log(`--- server log (${baseURL}) ---\n${output.slice(-8000)}`);
      }
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      try {
        psql(`drop database if exists ${db} with (force)`);
      } catch {
        // best effort
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
  baseURL: async ({ server }, use) => {
    await use(server.baseURL);
  },
  page: async ({ page, server, role }, use) => {
    if (role !== "none") {
      const email = `${role}@example.com`;
      server.addUser(email, role);
      const value = await signIn(server, email);
      const url = new URL(server.baseURL);
      await page.context().addCookies([
        { name: "leitstand_session", value, domain: url.hostname, path: "/", httpOnly: true, sameSite: "Strict" },
      ]);
    }
    await use(page);
  },
  consoleErrors: [
    async ({ page, allowConsole }, use) => {
      const errors: string[] = [];
      page.on("console", (msg) => {
        if (msg.type() === "error") errors.push(msg.text());
      });
      page.on("pageerror", (err) => errors.push(String(err)));
      await use(errors);
      const unexpected = errors.filter((e) => !allowConsole.some((re) => re.test(e)));
      expect(unexpected, "browser console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the page's WebAssembly has hydrated (the body gets `data-hydrated`). */
export async function hydrated(page: Page) {
  await page.locator("body[data-hydrated]").waitFor({ state: "attached", timeout: 30_000 });
}

export async function screenshot(page: Page, name: string) {
  // From the top: a full-page capture of a scrolled page draws the fixed bars mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  // Panels the page draws only near the viewport (`content-visibility: auto`,
  // the Dashboard's lower half) would be blank in a full-page capture.
  await page.evaluate(() => {
    for (const el of document.querySelectorAll<HTMLElement>("*")) {
      if (getComputedStyle(el).contentVisibility === "auto") el.style.contentVisibility = "visible";
    }
  });
  await page.screenshot({ path: path.resolve(__dirname, "../screenshots", `${name}.png`), fullPage: true });
}

/** Creates an API key with the CLI; returns the secret. */
export function createKey(server: Server, scopes = "ingest,read", name = "e2e"): string {
  return server.cli("key", "create", "--name", name, "--scopes", scopes, "--quiet").trim();
}

/** POSTs events to the ingest API; fails the test unless they are accepted. */
export async function ingest(server: Server, key: string, events: unknown) {
  const res = await fetch(`${server.baseURL}/api/v1/events`, {
    method: "POST",
    headers: { Authorization: `Bearer ${key}`, "Content-Type": "application/json" },
    body: JSON.stringify(events),
  });
  if (res.status !== 202) throw new Error(`ingest failed: ${res.status} ${await res.text()}`);
  return res.json();
}
