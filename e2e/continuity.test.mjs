// Browser journey for business continuity: the town coordinator opens the readiness page, the
// BIA, the backup register and the handbook's contacts (axe-checked), downloads the emergency
// handbook as ONE offline HTML file, and opens that file from disk in a browser context with
// the network switched off and every non-file request aborted: every contact and every
// procedure step is there, and the search works. The set-up is in harness.mjs
// (node --test runs each file in its own process with its own server).
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

/** Visible texts of the cells of every table body in <main>, whitespace collapsed. */
async function cellTexts(page) {
  return page.locator('main table tbody').locator('th, td').evaluateAll((cells) =>
    cells.map((c) => c.innerText.replace(/\s+/g, ' ').trim()).filter((t) => t && t !== '–'),
  );
}

test('c. offline emergency handbook opens without network and holds every contact and procedure', { timeout: 180_000 }, async () => {
  const coord = await newContext({ acceptDownloads: true });
  const offline = await newContext();
  try {
    const page = await newPage(coord, 'bcm-coordinator');
    await logIn(page, COORDINATOR);
    await page.goto(url('/organisations'));
    await page.getByRole('link', { name: TOWN, exact: true }).first().click();
    await page.getByRole('link', { name: 'Notfallvorsorge', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: `Notfallvorsorge: ${TOWN}` }).waitFor();
    await axeCheck(page, 'continuity readiness (town)');
    await screenshot(page, 'continuity.png');
    const base = new URL(page.url()).pathname;

    await page.goto(url(`${base}/bia`));
    await axeCheck(page, 'continuity BIA list');
    const edit = page.locator('main table tbody a').first();
    await edit.click();
    await page.getByLabel('Maximal tolerierbare Ausfallzeit (MTA)').waitFor();
    await axeCheck(page, 'continuity BIA form');

    await page.goto(url(`${base}/backups`));
    await axeCheck(page, 'continuity backup register');
    await page.goto(url(`${base}/backups/edit`));
    await axeCheck(page, 'continuity backup form');

    // The contacts as the application shows them: every one must be in the offline file.
    await page.goto(url(`${base}/exercises`));
    await axeCheck(page, 'continuity exercises');
    await page.goto(url(`${base}/contacts`));
    await axeCheck(page, 'continuity contacts');
    const contacts = (await cellTexts(page)).filter((t) => !t.startsWith('Löschen'));
    assert.ok(contacts.length >= 10, `demo contacts: ${contacts.join(' | ')}`);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Offline-Datei (HTML) herunterladen' }).first().click(),
    ]);
    assert.match(download.suggestedFilename(), /^notfallhandbuch-.*-v\d+\.html$/);
    const file = path.join(run.tmp, download.suggestedFilename());
    await download.saveAs(file);

    // Open it with the network off; anything but the file itself is aborted and recorded.
    await offline.setOffline(true);
    const requests = [];
    await offline.route(
      (u) => u.protocol !== 'file:',
      (route) => {
        requests.push(route.request().url());
        return route.abort();
      },
    );
    const hb = await newPage(offline, 'bcm-offline');
    hb.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await hb.goto(`file://${file}`);
    await hb.getByRole('heading', { level: 1, name: new RegExp(`Notfallhandbuch ${TOWN}`) }).waitFor();
    const text = (await hb.locator('body').innerText()).replace(/\s+/g, ' ');
    for (const c of contacts) {
      // The application shows a phone's kind in brackets; the handbook marks it differently.
      for (const part of c.split(/ · | \[[^\]]*\]/).map((s) => s.replace(/^☎ /, '').trim()).filter(Boolean)) {
        assert.ok(text.includes(part), `offline handbook lacks "${part}"`);
      }
    }
    for (const step of [
      'Papiervordrucke aus dem Notfallschrank ausgeben',
      'Vorgänge im Eingangsbuch mit Uhrzeit erfassen',
      'Vordrucke und Eingangsbuch im Notfallschrank, Raum 012',
    ]) {
      assert.ok(text.includes(step), `offline handbook lacks the procedure step "${step}"`);
    }
    assert.match(text, /SHA-256/);
    // The inline search filters rows without any network.
    await hb.fill('#q', 'ZAC');
    const visible = await hb.locator('#external tbody tr:not(.hidden)').count();
    const all = await hb.locator('#external tbody tr').count();
    assert.ok(visible >= 1 && visible < all, `search shows ${visible} of ${all} contacts`);
    assert.deepEqual(requests, [], 'the offline handbook requested something');
    await screenshot(hb, 'handbook-offline.png');
    assertNoBrowserErrors('bcm-coordinator');
    assertNoBrowserErrors('bcm-offline');
  } finally {
    await offline.close();
    await coord.close();
  }
});
