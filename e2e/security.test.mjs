// Browser journey for the security level (Grundschutz++): a town coordinator answers ten
// questions of the guided questionnaire, leaves, resumes where they stopped, and finishes the
// assessment; the town's dashboard and the office's Verbund heatmap change. Every page is
// checked with axe-core. The set-up (server, browser, axe, log-in) is in harness.mjs; node --test
// runs each file in its own process with its own server.
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

import {
  HERE,
  SCREENSHOTS,
  AXE_SOURCE,
  AXE_TAGS,
  CHROMIUM,
  CHROMIUM_ARGS,
  OFFICE,
  COORDINATOR,
  TOWN,
  SERVER_START_TIMEOUT,
  ACTION_TIMEOUT,
  TEST_TIMEOUT,
  VIEWPORT,
  run,
  startServer,
  stopServer,
  newContext,
  watchErrors,
  newPage,
  url,
  screenshot,
  axeCheck,
  logIn,
  mainText,
  assertNoBrowserErrors,
} from './harness.mjs';

// ---------------------------------------------------------------------------------------------
// Journey

/** The text of the dashboard's security row of the town (level and date). */
async function dashboardLevel(page) {
  await page.goto(url('/dashboard'));
  const row = page.locator('section[aria-labelledby="sec-dash-h"] tbody tr', { hasText: TOWN });
  return (await row.innerText()).replace(/\s+/g, ' ').trim();
}

/** The heatmap row of the town, as the office sees it. */
async function heatmapRow(page) {
  await page.goto(url('/security'));
  await page.getByRole('heading', { level: 1 }).waitFor();
  const row = page.locator('section[aria-labelledby="heat-h"] table tbody tr', { hasText: TOWN });
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

test('s. office adds an own requirement and plans a shared measure; the town sees both', { timeout: 180_000 }, async () => {
  const office = await newContext();
  const coord = await newContext();
  try {
    const op = await newPage(office, 'sec-office-plans');
    await logIn(op, OFFICE);
    await op.goto(url('/security'));
    await op.getByRole('heading', { level: 2, name: 'Eigene Anforderungen des Verbunds' }).waitFor();

    // A refused form keeps the input and names the field; the page stays accessible.
    await op.getByLabel('Kennung').fill('ASST.1.1.2');
    await op.getByLabel('Titel', { exact: true }).fill('Meldung an die ISB');
    await op.getByLabel('Anforderungstext').fill('Vorfälle MÜSSEN binnen 24 Stunden gemeldet werden.');
    await op.getByRole('button', { name: 'Anforderung speichern' }).click();
    await op.getByText('gehört schon zu einer Anforderung eines BSI-Katalogs').waitFor();
    await axeCheck(op, 'Verbund security page with a refused form (office)');
    await op.getByLabel('Kennung').fill('VB.2');
    await Promise.all([
      op.waitForURL((u) => u.searchParams.get('msg') === 'msg.saved'),
      op.getByRole('button', { name: 'Anforderung speichern' }).click(),
    ]);
    await op.locator('section[aria-labelledby="own-h"] table', { hasText: 'VB.2' }).waitFor();

    // One measure for the whole Verbund.
    await op.getByLabel('Maßnahme', { exact: true }).fill('Notfallübung im Verbund');
    await op.getByLabel('Frist').fill('2027-06-30');
    await op.getByLabel('Priorität').selectOption('hoch');
    await Promise.all([
      op.waitForURL((u) => u.searchParams.get('msg') === 'msg.saved'),
      op.getByRole('button', { name: 'Maßnahme planen' }).click(),
    ]);
    const shared = op.locator('section[aria-labelledby="shared-h"] tbody tr', { hasText: 'Notfallübung im Verbund' });
    assert.match((await shared.innerText()).replace(/\s+/g, ' '), /0 \/ \d+/);
    await axeCheck(op, 'Verbund security page with own requirements and shared measures (office)');
    await screenshot(op, 'security-verbund-office.png');

    // The coordinator finds the requirement in the town's list and the measure in the plan.
    const page = await newPage(coord, 'sec-coordinator-plans');
    await logIn(page, COORDINATOR);
    await page.goto(url('/security'));
    await page.getByRole('heading', { level: 1, name: 'Sicherheitsniveau' }).waitFor();
    await page.getByRole('link', { name: 'VB.2', exact: true }).click();
    await page.getByText('binnen 24 Stunden gemeldet').first().waitFor();
    await page.goto(url('/security'));
    await page.getByRole('link', { name: 'Realisierungsplan' }).first().click();
    await page.getByText('Notfallübung im Verbund').first().waitFor();
    await axeCheck(page, 'measures plan with a shared measure (coordinator)');
    await page.goto(url('/security'));
    await page.getByRole('link', { name: 'Abdeckung ISO 27001 / IT-Grundschutz' }).click();
    await page.getByRole('heading', { level: 2, name: 'ISO/IEC 27001:2022, Anhang A' }).waitFor();
    await axeCheck(page, 'coverage of ISO 27001 (coordinator)');
    // The refused form answers 422 on purpose; nothing else may show up in the console.
    const unexpected = run.browserErrors.filter(
      (e) => e.page.startsWith('sec-office-plans') && !(e.page.endsWith('/security/requirements') && e.text.includes('422')),
    );
    assert.deepEqual(unexpected, [], 'console errors in sec-office-plans');
    assertNoBrowserErrors('sec-coordinator-plans');
  } finally {
    await coord.close();
    await office.close();
  }
});
