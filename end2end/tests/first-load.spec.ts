// The first load: the server-rendered page is painted before its
// WebAssembly is requested, and a lazy page fetches its route's chunks
// together with the bundle (public/boot.js, app/src/components/boot.rs).
import * as fs from "node:fs";
import * as path from "node:path";
import type { Page } from "@playwright/test";
import { test, expect, hydrated } from "./fixtures";

const siteRoot = process.env.LEITSTAND_SITE_ROOT ?? path.resolve(__dirname, "../../target/site");

/** Paths of every resource the page fetched, in the order they started, with their start times. */
async function resources(page: Page): Promise<{ path: string; start: number }[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .map((e) => ({ path: new URL(e.name).pathname, start: e.startTime }))
      .sort((a, b) => a.start - b.start),
  );
}

test("the head asks for no WebAssembly, and the bundle is requested after the first paint", async ({ page }) => {
  const html = await (await page.request.get("/")).text();
  const head = html.slice(0, html.indexOf("</head>"));
  expect(head).toContain("/pkg/leitstand.css");
  expect(head).not.toMatch(/rel="(module)?preload"/);
  expect(head).not.toContain(".wasm");

  await page.goto("/");
  await hydrated(page);

  const paint = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
  expect(paint).toBeGreaterThan(0);
  const wasm = (await resources(page)).filter((r) => r.path === "/pkg/leitstand.wasm");
  expect(wasm).toHaveLength(1);
  expect(wasm[0].start).toBeGreaterThan(paint);
  // The Dashboard is in the main module: no chunk to fetch.
  await expect(page.locator("#leitstand-boot")).toHaveAttribute("data-chunks", "");
});

test("a lazy page names its route's chunks and each is fetched once, before it is interactive", async ({ page }) => {
  const manifest: Record<string, string[]> = JSON.parse(
    fs.readFileSync(path.join(siteRoot, "pkg/__wasm_split_manifest.json"), "utf8"),
  );
  const key = Object.keys(manifest).find((k) => /^_*backups_section_\d+$/.test(k));
  expect(key, "the Backups route is a lazy route of the build").toBeTruthy();
  const expected = [...new Set(manifest[key as string])].sort();
  expect(expected.length).toBeGreaterThan(0);

  await page.goto("/backups");
  await hydrated(page);

  const listed = ((await page.locator("#leitstand-boot").getAttribute("data-chunks")) ?? "").split(" ").filter(Boolean);
  expect(listed).toEqual(expected);
  const fetched = await resources(page);
  const paint = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
  for (const chunk of listed) {
    const requests = fetched.filter((r) => r.path === `/pkg/${chunk}.wasm`);
    // Once: the split loader is handed the request /boot.js started.
    expect(requests, chunk).toHaveLength(1);
    expect(requests[0].start, chunk).toBeGreaterThan(paint);
  }
  // The stand-in for `fetch` has handed over every chunk and is gone again.
  expect(await page.evaluate(() => window.fetch.toString().includes("[native code]"))).toBe(true);
  // The page's code is in: its button works.
  await page.getByTestId("create-backup").click();
  await expect(page.getByTestId("create-result")).toContainText("written");
});
