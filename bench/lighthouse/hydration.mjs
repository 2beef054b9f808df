// Where the first load's main-thread time goes: the Dashboard loaded in
// Debian's Chromium with the CPU slowed down 4× (as Lighthouse's mobile
// profile assumes), traced, for three cases:
//   cold    a new browser profile (empty HTTP and code caches): V8 compiles
//           every WebAssembly function lazily, on the main thread, at its
//           first call — during hydration;
//   warm    the same browser loading the page again 8 s later: the compiled
//           code comes from V8's cache;
//   nolazy  a new profile with V8's lazy compilation switched off by a
//           command-line flag (a page cannot choose this): the functions are
//           compiled while the bytes download, off the main thread.
// Prints one JSON line: per case the median of RUNS runs of the hydration
// task, of the longest main-thread task and of the blocking time after the
// first contentful paint (each task's time over 50 ms, as Lighthouse counts
// it), and for a cold load the functions compiled lazily and their bytes.
//
// usage: node hydration.mjs URL COOKIE RUNS
import { chromium } from '../../end2end/node_modules/playwright/index.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [url, cookie, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const LIGHT = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute'];
const DETAILED = [...LIGHT, 'v8.wasm', 'disabled-by-default-v8.wasm.detailed'];
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'leitstand-hydration-'));

async function open(flags) {
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', ...flags] });
  const context = await browser.newContext({ viewport: { width: 412, height: 823 } });
  const eq = cookie.indexOf('=');
  await context.addCookies([{ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url }]);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  return { browser, page, cdp };
}

// Waits for `body[data-hydrated]` by asking the page's main world through
// the DevTools protocol: Playwright's own selector engine would inject its
// utility script into the page, and compiling that is a long task of its
// own, which the blocking time would count against the page.
async function hydrated(cdp) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const { result } = await cdp.send('Runtime.evaluate', {
      expression: 'document.body !== null && document.body.hasAttribute("data-hydrated")',
      returnByValue: true,
    });
    if (result.value === true) return;
    if (Date.now() > deadline) throw new Error('the page did not hydrate within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function load(browser, page, cdp, categories) {
  const file = path.join(scratch, `trace-${Date.now()}.json`);
  await browser.startTracing(page, { path: file, categories });
  await page.goto(url);
  await hydrated(cdp);
  await page.waitForTimeout(1500);
  await browser.stopTracing();
  const events = JSON.parse(fs.readFileSync(file, 'utf8')).traceEvents;
  fs.rmSync(file);
  return measure(events);
}

function measure(events) {
  const main = events.find(
    (e) => e.ph === 'M' && e.name === 'thread_name' && e.args.name === 'CrRendererMain',
  );
  if (!main) throw new Error('no renderer main thread in the trace');
  const onMain = (e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X';
  // Top-level tasks only: Chromium nests `RunTask` inside
  // `ThreadControllerImpl::RunTask` for the same work.
  const nested = events
    .filter((e) => onMain(e) && (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask'))
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const tasks = [];
  for (const t of nested) {
    const last = tasks[tasks.length - 1];
    if (!last || t.ts >= last.ts + last.dur) tasks.push(t);
  }
  const longest = Math.max(0, ...tasks.map((t) => t.dur / 1000));
  // Lighthouse's blocking time counts the tasks after the first contentful paint.
  const fcp = events.find((e) => e.name === 'firstContentfulPaint' && e.pid === main.pid);
  if (!fcp) throw new Error('no first contentful paint in the trace');
  const afterPaint = tasks.filter((t) => t.ts >= fcp.ts);
  const blocking = afterPaint.reduce((s, t) => s + Math.max(0, t.dur / 1000 - 50), 0);
  // The hydration: the task whose JavaScript/WebAssembly call fills most of it.
  const calls = events.filter((e) => onMain(e) && e.name === 'FunctionCall');
  const hydration = Math.max(
    0,
    ...tasks
      .filter((t) =>
        calls.some((c) => c.ts >= t.ts && c.ts + c.dur <= t.ts + t.dur && c.dur > t.dur / 2),
      )
      .map((t) => t.dur / 1000),
  );
  if (hydration === 0) throw new Error('no hydration task in the trace');
  const compiled = events.filter((e) => onMain(e) && e.name === 'wasm.CompileBaseline');
  return {
    longest,
    hydration,
    blocking,
    lazyFunctions: compiled.length,
    lazyBytes: compiled.reduce((s, e) => s + (e.args.bodySize || 0), 0),
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = { cold: [], warm: [], nolazy: [] };
for (let i = 0; i < runs; i++) {
  {
    const { browser, page, cdp } = await open([]);
    results.cold.push(await load(browser, page, cdp, LIGHT));
    await page.waitForTimeout(8000);
    await page.goto('about:blank');
    results.warm.push(await load(browser, page, cdp, LIGHT));
    await browser.close();
  }
  {
    const { browser, page, cdp } = await open(['--js-flags=--no-wasm-lazy-compilation']);
    results.nolazy.push(await load(browser, page, cdp, LIGHT));
    await browser.close();
  }
}
const detailed = await (async () => {
  const { browser, page, cdp } = await open([]);
  const r = await load(browser, page, cdp, DETAILED);
  await browser.close();
  return r;
})();
fs.rmSync(scratch, { recursive: true, force: true });

const summary = {};
for (const k of ['cold', 'warm', 'nolazy']) {
  const of = (f) => results[k].map((r) => r[f]);
  summary[k] = {
    hydration: median(of('hydration')),
    hydrationMin: Math.min(...of('hydration')),
    hydrationMax: Math.max(...of('hydration')),
    longest: median(of('longest')),
    blocking: median(of('blocking')),
  };
}
summary.coldLazyFunctions = detailed.lazyFunctions;
summary.coldLazyBytes = detailed.lazyBytes;
console.log(JSON.stringify(summary));
