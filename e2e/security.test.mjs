// Browser journey for the security level (Grundschutz++): a town coordinator answers ten
// questions of the guided questionnaire, leaves, resumes where they stopped, and finishes the
// assessment; the town's dashboard and the office's Verbund heatmap change. Every page is
// checked with axe-core. Shares its set-up with journeys.test.mjs (copied: node --test runs each
// file in its own process with its own server).
//
// Starts the server binary given in STADTMAUER_BIN on a fresh SQLite database with the demo data
// (Landkreis Musterau), drives Debian's Chromium through playwright-core and checks every page it
// visits with axe-core (WCAG 2.1 A/AA). Serious or critical axe violations fail the test; every
// violation is printed for the record. Screenshots go to ../docs/screenshots/.
//
// Run: cd e2e && npm ci && STADTMAUER_BIN=../target/debug/stadtmauer npm test

import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCREENSHOTS = path.resolve(HERE, '..', 'docs', 'screenshots');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const OFFICE = 'katrin.vogt@isb-musterau.example';
const COORDINATOR = 'dirk.hollmann@falkenhorst.example';
const TOWN = 'Stadt Falkenhorst an der Murne';

const SERVER_START_TIMEOUT = 60_000;
const ACTION_TIMEOUT = 15_000;
const TEST_TIMEOUT = 60_000;
const VIEWPORT = { width: 1280, height: 900 };

/** Shared state of the run. */
const run = {
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

function startServer() {
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

async function stopServer() {
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

async function newContext(options = {}) {
  const context = await run.browser.newContext({
    viewport: VIEWPORT,
    locale: 'de-DE',
    ...options,
  });
  context.setDefaultTimeout(ACTION_TIMEOUT);
  context.setDefaultNavigationTimeout(ACTION_TIMEOUT);
  return context;
}

function watchErrors(page, label) {
  page.on('console', (msg) => {
    if (process.env.E2E_DEBUG) console.log(`[console ${msg.type()}] ${msg.text().slice(0, 90)}`);
    if (msg.type() === 'error') run.browserErrors.push({ page: `${label} ${page.url()}`, text: msg.text() });
  });
  page.on('pageerror', (err) => {
    run.browserErrors.push({ page: `${label} ${page.url()}`, text: `uncaught: ${err.message}` });
  });
}

async function newPage(context, label) {
  const page = await context.newPage();
  watchErrors(page, label);
  return page;
}

function url(p) {
  return `${run.baseUrl}${p}`;
}

async function screenshot(page, name) {
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
async function axeCheck(page, label) {
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

async function logIn(page, email) {
  await page.goto(url('/login'));
  await page.fill('#email', email);
  await page.fill('#password', run.password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith('/login')),
    page.locator('main form button[type="submit"]').click(),
  ]);
}

/** Text of <main>, without the header (which carries the user's name). */
async function mainText(page) {
  return page.locator('main').innerText();
}

/** Index into run.browserErrors where the current journey started. */
let errorsSince = 0;
beforeEach(() => {
  errorsSince = run.browserErrors.length;
});

function assertNoBrowserErrors(label) {
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

// ---------------------------------------------------------------------------------------------
// Journey

/** The text of the dashboard's security row of the town (level and date). */
async function dashboardLevel(page) {
  await page.goto(url('/dashboard'));
  const row = page.locator('main section', { hasText: 'Sicherheitsniveau' }).locator('tbody tr', { hasText: TOWN });
  return (await row.innerText()).replace(/\s+/g, ' ').trim();
}

/** The heatmap row of the town, as the office sees it. */
async function heatmapRow(page) {
  await page.goto(url('/security'));
  await page.getByRole('heading', { level: 1 }).waitFor();
  const row = page.locator('main table tbody tr', { hasText: TOWN });
  return (await row.innerText()).replace(/\s+/g, ' ').trim();
}

test('s. coordinator answers ten questions, leaves, resumes and finishes; dashboard and heatmap change', { timeout: 180_000 }, async () => {
  const office = await newContext();
  const coord = await newContext();
  try {
    const op = await newPage(office, 'sec-office');
    await logIn(op, OFFICE);
    const heatBefore = await heatmapRow(op);
    await axeCheck(op, 'security heatmap (office)');

    const page = await newPage(coord, 'sec-coordinator');
    await logIn(page, COORDINATOR);
    const dashBefore = await dashboardLevel(page);
    await axeCheck(page, 'dashboard with security level (coordinator)');

    // The town's security page, then the guided questionnaire.
    await page.goto(url('/security'));
    await page.getByRole('heading', { level: 1, name: 'Sicherheitsniveau' }).waitFor();
    await axeCheck(page, 'security level (town)');
    await page.getByRole('link', { name: 'Geführter Fragebogen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Fragebogen' }).waitFor();
    const progress0 = await page.locator('#progress-text').innerText();
    const answered0 = Number(progress0.match(/^(\d+)/)[1]);
    await page.getByText('Was bedeutet das?').click();
    await axeCheck(page, 'questionnaire question');
    await screenshot(page, 'questionnaire.png');

    const replies = ['Ja', 'Ja', 'Nein', 'Ja', 'Weiß nicht', 'Ja', 'Ja', 'Nein', 'Ja', 'Ja'];
    const asked = [];
    for (const reply of replies) {
      const req = await page.locator('input[name="requirement_id"]').inputValue();
      assert.ok(!asked.includes(req), `question ${req} asked twice`);
      asked.push(req);
      await Promise.all([
        page.waitForURL((u) => u.pathname.endsWith('/security/questionnaire')),
        page.getByRole('button', { name: reply, exact: true }).click(),
      ]);
    }
    const progress10 = await page.locator('#progress-text').innerText();
    assert.equal(Number(progress10.match(/^(\d+)/)[1]), answered0 + 10, progress10);

    // Leave, come back: it resumes at the next unanswered question.
    await page.getByRole('link', { name: 'Später weitermachen' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sicherheitsniveau' }).waitFor();
    await page.goto(url('/dashboard'));
    await page.goto(url('/security'));
    await page.getByRole('link', { name: 'Geführter Fragebogen' }).click();
    const resumed = await page.locator('input[name="requirement_id"]').inputValue();
    assert.ok(!asked.includes(resumed), 'resumes at an unanswered question');
    assert.equal(await page.locator('#progress-text').innerText(), progress10);

    // Finish the assessment.
    await page.goto(url('/security'));
    await Promise.all([
      page.waitForURL((u) => u.searchParams.get('msg') === 'msg.saved'),
      page.getByRole('button', { name: 'Bewertung abschließen' }).click(),
    ]);
    await axeCheck(page, 'security level after finishing');

    const dashAfter = await dashboardLevel(page);
    assert.notEqual(dashAfter, dashBefore, 'the dashboard shows the new level');
    const heatAfter = await heatmapRow(op);
    assert.notEqual(heatAfter, heatBefore, 'the heatmap shows the new assessment');
    await screenshot(op, 'security-heatmap.png');
    assertNoBrowserErrors('sec-coordinator');
    assertNoBrowserErrors('sec-office');
  } finally {
    await coord.close();
    await office.close();
  }
});
