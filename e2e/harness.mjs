// The browser journeys' shared set-up: one stadtmauer server with the demo data and one Chromium
// per test file (node --test runs each file in its own process), helpers to log in, check a page
// with axe-core and take screenshots, and the hooks that start and stop both.
import { after, before, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = path.resolve(HERE, '..', 'docs', 'screenshots');
export const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const OFFICE = 'katrin.vogt@isb-musterau.example';
export const COORDINATOR = 'dirk.hollmann@falkenhorst.example';
export const TOWN = 'Stadt Falkenhorst an der Murne';

export const SERVER_START_TIMEOUT = 60_000;
export const ACTION_TIMEOUT = 15_000;
export const TEST_TIMEOUT = 60_000;
export const VIEWPORT = { width: 1280, height: 900 };

/** Shared state of the run. */
export const run = {
  tmp: null,
  server: null,
  serverLog: '',
  baseUrl: null,
  password: null,
  browser: null,
  /** The office officer's context and page, carried through journeys a–c. */
  office: null,
  /** Every axe violation seen: {page, id, impact, help, targets}. */
  violations: [],
  /** Console errors and uncaught page errors: {page, text}. */
  browserErrors: [],
};

// ---------------------------------------------------------------------------------------------
// Server

export function startServer() {
  const bin = process.env.STADTMAUER_BIN;
  if (!bin) throw new Error('STADTMAUER_BIN is not set (path to the built stadtmauer binary)');
  const binPath = path.resolve(bin);
  if (!fs.existsSync(binPath)) throw new Error(`STADTMAUER_BIN does not exist: ${binPath}`);

  run.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stadtmauer-e2e-'));
  const db = `sqlite://${path.join(run.tmp, 'e2e.sqlite3')}`;
  const child = spawn(
    binPath,
    ['--database-url', db, 'serve', '--demo', '--listen', '127.0.0.1:0'],
    {
      cwd: run.tmp,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', RUST_LOG: process.env.RUST_LOG || 'warn' },
    },
  );
  run.server = child;

  return new Promise((resolve, reject) => {
    let out = '';
    const fail = (msg) => {
      clearTimeout(timer);
      reject(new Error(`${msg}\n--- server output ---\n${run.serverLog.slice(-4000)}`));
    };
    const timer = setTimeout(
      () => fail(`server did not report its address within ${SERVER_START_TIMEOUT} ms`),
      SERVER_START_TIMEOUT,
    );
    const check = () => {
      const pw = out.match(/password of every demo user:\s*(\S+)/);
      if (pw) run.password = pw[1];
      const addr = out.match(/listens on (http:\/\/\S+?)\/?\s*$/m);
      if (addr) {
        if (!run.password) return fail('server listens but printed no demo password');
        clearTimeout(timer);
        run.baseUrl = addr[1].replace(/\/$/, '');
        resolve();
      }
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      out += d;
      run.serverLog += d;
      check();
    });
    child.stderr.on('data', (d) => {
      run.serverLog += d;
    });
    child.on('error', (e) => fail(`cannot start server: ${e.message}`));
    child.on('exit', (code, signal) => {
      if (!run.baseUrl) fail(`server exited early (code ${code}, signal ${signal})`);
    });
  });
}

export async function stopServer() {
  const child = run.server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timeout = new Promise((r) => setTimeout(r, 5_000, 'timeout'));
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2_000))]);
  }
}

// Last resort if the runner is torn down without the after() hook.
process.on('exit', () => {
  if (run.server && run.server.exitCode === null && run.server.signalCode === null) {
    run.server.kill('SIGKILL');
  }
});

// ---------------------------------------------------------------------------------------------
// Browser helpers

export async function newContext(options = {}) {
  const context = await run.browser.newContext({
    viewport: VIEWPORT,
    locale: 'de-DE',
    ...options,
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
  return context;
}

export function watchErrors(page, label) {
  page.on('console', (msg) => {
    if (process.env.E2E_DEBUG) console.log(`[console ${msg.type()}] ${msg.text().slice(0, 90)}`);
    if (msg.type() === 'error') run.browserErrors.push({ page: `${label} ${page.url()}`, text: msg.text() });
  });
  page.on('pageerror', (err) => {
    run.browserErrors.push({ page: `${label} ${page.url()}`, text: `uncaught: ${err.message}` });
  });
}

export async function newPage(context, label) {
  const page = await context.newPage();
  watchErrors(page, label);
  return page;
}

export function url(p) {
  return `${run.baseUrl}${p}`;
}

export async function screenshot(page, name) {
  if (process.env.E2E_DEBUG) console.log(`[screenshot ${name}]`);
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  // caret: 'initial' – Playwright's default caret hiding leaves `style=""` on every <input>;
  // htmx then copies that attribute onto the swapped-in inputs during settling, which the
  // strict CSP (`style-src 'self'`) reports as a violation. That would be our artefact, not the app's.
  await page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true, caret: 'initial' });
}

/**
 * Runs axe on the current page, records and prints every violation, and fails on serious or
 * critical ones. axe is evaluated through the DevTools protocol, which the page's CSP
 * (`script-src 'self'`) does not govern, so the contexts keep the real CSP.
 */
export async function axeCheck(page, label) {
  if (process.env.E2E_DEBUG) console.log(`[axe ${label}]`);
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(
    (tags) =>
      window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] }),
    AXE_TAGS,
  );
  // Guard against a silently broken injection: a real run checks dozens of rules.
  assert.ok(result.passes.length + result.incomplete.length > 10, `axe ran too few rules on ${label}`);
  const found = result.violations.map((v) => ({
    page: `${label} (${new URL(page.url()).pathname})`,
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }));
  run.violations.push(...found);
  if (found.length === 0) {
    console.log(`axe ${label}: no violations (${result.passes.length} rules passed)`);
  } else {
    for (const v of found) {
      console.log(`axe ${v.page}: [${v.impact}] ${v.id} – ${v.help}\n    ${v.targets.join('\n    ')}`);
    }
  }
  const bad = found.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id} (${v.impact}): ${v.targets.join(', ')}`),
    [],
    `serious/critical accessibility violations on ${label}`,
  );
}

export async function logIn(page, email) {
  await page.goto(url('/login'));
  await page.fill('#email', email);
  await page.fill('#password', run.password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.locator('main form button[type="submit"]').click(),
  ]);
}

/** Text of <main>, without the header (which carries the user's name). */
export async function mainText(page) {
  return page.locator('main').innerText();
}

/** Index into run.browserErrors where the current journey started. */
let errorsSince = 0;
beforeEach(() => {
  errorsSince = run.browserErrors.length;
});

export function assertNoBrowserErrors(label) {
  const errs = run.browserErrors.slice(errorsSince).filter((e) => e.page.startsWith(label));
  assert.deepEqual(errs, [], `console errors or uncaught exceptions in ${label}`);
}

// ---------------------------------------------------------------------------------------------
// Set-up and tear-down

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
  await startServer();
  console.log(`server at ${run.baseUrl} (database in ${run.tmp})`);
  run.browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}, { timeout: SERVER_START_TIMEOUT + 40_000 });

after(async () => {
  try {
    if (run.browser) await Promise.race([run.browser.close(), new Promise((r) => setTimeout(r, 10_000))]);
  } finally {
    await stopServer();
    if (run.tmp) fs.rmSync(run.tmp, { recursive: true, force: true });
  }
  console.log('\n=== axe violations (all impacts) ===');
  if (run.violations.length === 0) console.log('none');
  for (const v of run.violations) {
    console.log(`${v.page}: [${v.impact}] ${v.id} – ${v.targets.join(' | ')}`);
  }
  if (run.browserErrors.length) {
    console.log('\n=== browser console errors ===');
    for (const e of run.browserErrors) console.log(`${e.page}: ${e.text}`);
  }
}, { timeout: 30_000 });
